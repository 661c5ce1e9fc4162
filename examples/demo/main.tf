# The demo that `make demo` applies against the bundled emulator: two
# servers, one kept stopped, read back through the vpsorg_servers data source.
terraform {
  required_providers {
    vpsorg = {
      source  = "vpsorg/vpsorg"
      version = "~> 0.1"
    }
  }
}

# Endpoint and token come from VPSORG_ENDPOINT and VPSORG_API_TOKEN.
provider "vpsorg" {}

resource "vpsorg_server" "web" {
  name     = "demo-web"
  plan_id  = 1 # Standard VPS
  os_id    = 5 # Ubuntu 22.04 LTS
  location = "us-west"
  hostname = "web.demo.example.com"
}

resource "vpsorg_server" "batch" {
  name        = "demo-batch"
  plan_id     = 2 # Performance VPS
  os_id       = 3 # Debian 12
  location    = "us-west"
  power_state = "stopped"
}

data "vpsorg_servers" "west" {
  location   = "us-west"
  depends_on = [vpsorg_server.web, vpsorg_server.batch]
}

output "servers" {
  description = "Every server in us-west, as the API lists them."
  value = {
    for s in data.vpsorg_servers.west.servers :
    s.name => "id ${s.id}, ${s.status}, ${s.plan.name}, ${s.os.name}, ip ${coalesce(s.ip_address, "none")}"
  }
}
