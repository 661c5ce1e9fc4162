# Look a server up by name (it must be unique) ...
data "vpsorg_server" "db" {
  name = "db-server-01"
}

# ... or by id.
data "vpsorg_server" "web" {
  id = "12345"
}

output "db_usage" {
  value = data.vpsorg_server.db.resource_usage
}
