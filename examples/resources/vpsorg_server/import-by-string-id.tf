import {
  to = vpsorg_server.web
  id = "12345"
}
