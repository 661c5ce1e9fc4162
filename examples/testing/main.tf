# A module under test: web servers by name, and their addresses.
terraform {
  required_providers {
    vpsorg = {
      source  = "vpsorg/vpsorg"
      version = "~> 0.1"
    }
  }
}

variable "names" {
  description = "Names of the web servers to run."
  type        = list(string)
}

resource "vpsorg_server" "web" {
  for_each = toset(var.names)

  name     = each.key
  plan_id  = 1 # Standard VPS
  os_id    = 5 # Ubuntu 22.04 LTS
  location = "us-west"
}

output "addresses" {
  description = "The public IPv4 address of each server, by name."
  value       = { for name, server in vpsorg_server.web : name => server.ip_address }
}
