# Reboot the web server whenever Terraform changes it, for example after a
# rename or a change of hostname ...
resource "vpsorg_server" "web" {
  name     = "web-server-01"
  plan_id  = 1
  os_id    = 5
  location = "us-west"
  hostname = "web01.example.com"

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.vpsorg_server_reboot.web]
    }
  }
}

# ... or on demand:
#   terraform apply -invoke=action.vpsorg_server_reboot.web
action "vpsorg_server_reboot" "web" {
  config {
    server_id = vpsorg_server.web.id

    timeouts {
      invoke = "5m"
    }
  }
}
