# Real servers, on the API the provider is pointed at: in CI, the emulator
# (VPSORG_ENDPOINT and VPSORG_API_TOKEN). terraform test destroys them at
# the end.
variables {
  names = ["web-1", "web-2"]
}

run "servers_are_created_running" {
  assert {
    condition     = alltrue([for server in vpsorg_server.web : server.status == "active"])
    error_message = "Every server should be active once the apply returns."
  }

  assert {
    condition     = length(output.addresses) == 2 && alltrue([for ip in values(output.addresses) : ip != null])
    error_message = "Every server should have a public IPv4 address."
  }
}
