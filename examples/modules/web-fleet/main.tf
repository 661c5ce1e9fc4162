# A small module of the kind a platform team publishes: a fleet of web
# servers. tests/web_fleet.tftest.hcl tests it with `terraform test` against
# the emulator, with no cloud account:
#
#   vpsorg-emulator run -- terraform test
#
# run-tests.sh does that with the provider built from this repository.
terraform {
  required_providers {
    vpsorg = {
      source = "vpsorg/vpsorg"
    }
  }
}

resource "vpsorg_server" "web" {
  count = var.size

  name     = "${var.name_prefix}-${count.index + 1}"
  hostname = "${var.name_prefix}-${count.index + 1}.${var.domain}"
  plan_id  = var.plan_id
  os_id    = var.os_id
  location = var.location
}
