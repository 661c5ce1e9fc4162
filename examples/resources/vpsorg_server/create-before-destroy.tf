# A database server whose replacement is created before the old one is
# destroyed: location, plan_id and os_id cannot change in place, and the API
# checks their values only when the new server is created. Should it refuse
# one (a typo in a location code), the old server is still there.
resource "vpsorg_server" "db" {
  name     = "db-01"
  plan_id  = 2 # Performance VPS
  os_id    = 3 # Debian 12
  location = "us-east"

  lifecycle {
    create_before_destroy = true
  }
}
