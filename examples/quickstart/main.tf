# The README's quick start: one server, against the emulator or the real
# API alike. The endpoint and token come from VPSORG_ENDPOINT and
# VPSORG_API_TOKEN (without VPSORG_ENDPOINT: the real API).
terraform {
  required_providers {
    vpsorg = {
      source  = "vpsorg/vpsorg"
      version = "~> 0.1"
    }
  }
}

provider "vpsorg" {}

resource "vpsorg_server" "web" {
  name     = "quickstart-web"
  plan_id  = 1 # Standard VPS
  os_id    = 5 # Ubuntu 22.04 LTS
  location = "us-west"
  hostname = "web.quickstart.example.com"
}

output "web_ip" {
  description = "The server's public IPv4 address."
  value       = vpsorg_server.web.ip_address
}
