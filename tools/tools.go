//go:build generate

// Package tools pins the development tools this repository runs: docs
// generation, formatting of the examples and the linter.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)

// Format the Terraform examples.
//go:generate terraform fmt -recursive ../examples/

// Generate the documentation from templates/, examples/ and the schema.
//go:generate go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-dir .. --provider-name vpsorg --rendered-provider-name VPS.org
