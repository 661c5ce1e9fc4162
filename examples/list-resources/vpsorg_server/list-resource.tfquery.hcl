# List blocks go in a file whose name ends in .tfquery.hcl, such as this one,
# beside the configuration's .tf files; `terraform query` reads them.

# Every server of the account: `terraform query` prints each one's id and name.
list "vpsorg_server" "all" {
  provider = vpsorg
}

# Running servers in us-west; the API does the filtering.
list "vpsorg_server" "west" {
  provider = vpsorg

  config {
    status   = "active"
    location = "us-west"
  }
}

# With the full resource object (one more GET per server), as
# `terraform query -generate-config-out=adopted.tf` uses it to write
# import blocks and resource configuration.
list "vpsorg_server" "adopt" {
  provider         = vpsorg
  include_resource = true

  config {
    location = "us-east"
  }
}
