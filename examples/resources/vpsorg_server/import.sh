# Servers are imported by their numeric id.
terraform import vpsorg_server.web 12345
