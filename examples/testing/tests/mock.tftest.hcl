# No API at all: mock_provider stands in for vpsorg, so these runs need no
# endpoint, no token and no network. Values the API would compute come from
# the defaults below (others get made-up values); what the module does with
# them is what is tested.
mock_provider "vpsorg" {
  mock_resource "vpsorg_server" {
    defaults = {
      status     = "active"
      ip_address = "203.0.113.10"
    }
  }
}

variables {
  names = ["web-1", "web-2"]
}

run "plans_one_server_per_name" {
  command = plan

  assert {
    condition     = toset(keys(vpsorg_server.web)) == toset(["web-1", "web-2"])
    error_message = "There should be one server per name."
  }

  assert {
    condition     = alltrue([for server in vpsorg_server.web : server.plan_id == 1 && server.location == "us-west"])
    error_message = "Every server should be a Standard VPS in us-west."
  }
}

run "outputs_each_address_by_name" {
  assert {
    condition     = output.addresses == { "web-1" = "203.0.113.10", "web-2" = "203.0.113.10" }
    error_message = "The addresses output should map each name to its server's address."
  }
}
