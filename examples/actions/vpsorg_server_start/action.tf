# Start the build server before each new build: a new build_id replaces the
# terraform_data, and the action runs first.
variable "build_id" {
  type = string
}

resource "vpsorg_server" "builder" {
  name     = "builder-01"
  plan_id  = 2
  os_id    = 3
  location = "us-east"
}

resource "terraform_data" "build" {
  input = var.build_id

  lifecycle {
    action_trigger {
      events  = [before_create, before_update]
      actions = [action.vpsorg_server_start.builder]
    }
  }
}

# Or by hand: terraform apply -invoke=action.vpsorg_server_start.builder
action "vpsorg_server_start" "builder" {
  config {
    server_id = vpsorg_server.builder.id
  }
}
