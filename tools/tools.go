//go:build generate

// Package tools pins the development tools this repository runs: docs
// generation, formatting of the examples and the linter. `make generate`
// runs the go:generate lines below.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)

// Format the Terraform examples.
//go:generate terraform fmt -recursive ../examples/

// Export the schema from the provider in process into schema/, after the
// compatibility gate (internal/schemaexport): no CLI is needed, whichever
// kinds of schema the machine's terraform can report.
//go:generate go run -C .. ./internal/schemaexport -write

// Generate the documentation from templates/, examples/ and that schema.
// tfplugindocs finds the schema only under the provider's short name.
//go:generate go run -C .. ./internal/schemaexport -print -address vpsorg -o bin/docs-schema.json
//go:generate go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-dir .. --provider-name vpsorg --rendered-provider-name VPS.org --providers-schema ../bin/docs-schema.json
