// Command terraform-provider-vpsorg is the Terraform provider for VPS.org servers.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/provider"
)

// version and commit are set at build time by goreleaser (and make build):
// -ldflags "-X main.version={{.Version}} -X main.commit={{.Commit}}".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	var debug, showVersion bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.BoolVar(&showVersion, "version", false, "print the version and the commit it was built from, then exit")
	flag.Parse()
	if showVersion {
		fmt.Printf("terraform-provider-vpsorg %s (commit %s)\n", version, commit)
		return
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
