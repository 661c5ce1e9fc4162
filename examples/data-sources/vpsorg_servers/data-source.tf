# Every running server in us-west; the API does the filtering.
data "vpsorg_servers" "west" {
  status   = "active"
  location = "us-west"
}

output "west_ips" {
  value = { for s in data.vpsorg_servers.west.servers : s.name => s.ip_address }
}
