# A build server whose power the actions manage: power_state is left unset,
# so the next plan does not undo them.
resource "vpsorg_server" "builder" {
  name     = "builder-01"
  plan_id  = 2
  os_id    = 3
  location = "us-east"
}

# Switch it off after a build:
#   terraform apply -invoke=action.vpsorg_server_stop.builder
action "vpsorg_server_stop" "builder" {
  config {
    server_id = vpsorg_server.builder.id
  }
}
