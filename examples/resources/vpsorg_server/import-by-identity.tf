# The identity is the server's numeric id. For a whole fleet, let
# `terraform query -generate-config-out` write these blocks (see the
# vpsorg_server list resource).
import {
  to = vpsorg_server.web
  identity = {
    id = 12345
  }
}
