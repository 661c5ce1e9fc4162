# The application's configuration; with your own file next to this one,
# file("${path.module}/app.conf") does the same.
locals {
  app_config = <<-EOT
    workers = 4
    listen  = ":8080"
  EOT
}

# A web server that Terraform keeps running.
resource "vpsorg_server" "web" {
  name            = "web-server-01"
  plan_id         = 1 # Standard VPS
  os_id           = 5 # Ubuntu 22.04 LTS
  location        = "us-west"
  hostname        = "web01.example.com"
  backups_enabled = true
  power_state     = "running"

  # Reboot whenever the application configuration changes.
  reboot_trigger = sha1(local.app_config)

  timeouts {
    create = "20m"
  }
}

# A build server that exists but is kept switched off.
resource "vpsorg_server" "builder" {
  name        = "builder-01"
  plan_id     = 2 # Performance VPS
  os_id       = 3 # Debian 12
  location    = "us-east"
  power_state = "stopped"
}

output "web_ip" {
  value = vpsorg_server.web.ip_address
}
