terraform {
  required_providers {
    vpsorg = {
      source  = "vpsorg/vpsorg"
      version = "~> 0.1"
    }
  }
}

# The token is best kept out of configuration: export VPSORG_API_TOKEN.
provider "vpsorg" {
  # endpoint defaults to https://admin.vps.org/api/v1/ (or VPSORG_ENDPOINT).
}
