# `terraform test` for the module, against the emulator that
# `vpsorg-emulator run` starts: it exports VPSORG_ENDPOINT and
# VPSORG_API_TOKEN, which the provider reads.
provider "vpsorg" {}

variables {
  name_prefix = "web"
}

run "creates_the_fleet_and_waits_until_it_is_active" {
  command = apply

  variables {
    size = 3
  }

  assert {
    condition     = length(vpsorg_server.web) == 3
    error_message = "Expected 3 servers."
  }

  assert {
    condition     = alltrue([for s in vpsorg_server.web : s.status == "active"])
    error_message = "Every server must be active after the apply."
  }

  assert {
    condition     = vpsorg_server.web[2].name == "web-3" && vpsorg_server.web[2].hostname == "web-3.example.com"
    error_message = "Servers are named <prefix>-<n> with host names in the domain."
  }

  assert {
    condition     = length(compact(output.ip_addresses)) == 3
    error_message = "Every server must have an IPv4 address once provisioned."
  }
}

run "shrinks_the_fleet_in_place" {
  command = apply

  variables {
    size = 1
  }

  assert {
    condition     = length(output.ids) == 1 && output.ids[0] == run.creates_the_fleet_and_waits_until_it_is_active.ids[0]
    error_message = "Shrinking keeps the first server."
  }
}

run "refuses_an_empty_fleet" {
  command = plan

  variables {
    size = 0
  }

  expect_failures = [var.size]
}
