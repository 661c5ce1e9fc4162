output "ids" {
  description = "The servers' ids."
  value       = vpsorg_server.web[*].id
}

output "ip_addresses" {
  description = "The servers' IPv4 addresses."
  value       = vpsorg_server.web[*].ip_address
}
