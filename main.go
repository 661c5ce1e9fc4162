// Command terraform-provider-vpsorg is the Terraform provider for VPS.org servers.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

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

	quietUnlessAsked()
	// As providerserver.Serve does, with the framework's server wrapped so
	// that it keeps no RPC's context once the RPC returns (issue 19; see
	// internal/provider/rpc_context.go).
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	serve, err := provider.ProtocolServer(version)
	if err != nil {
		log.Fatal(err)
	}
	if err := tf6server.Serve(provider.Address, serve, opts...); err != nil {
		log.Fatal(err)
	}
}

// sdkLogLevels are the environment variables that set the levels of the
// SDK's own loggers and of the provider's (terraform-plugin-go and
// terraform-plugin-framework read them when the provider starts; the last
// is TF_LOG_PROVIDER_ and the name part of the provider's address).
var sdkLogLevels = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_VPSORG"}

// quietUnlessAsked turns the provider's logs off when Terraform will show
// none of them. terraform-plugin-go logs at TRACE when no level is set:
// every RPC writes several JSON lines to stderr, which Terraform reads,
// parses and throws away unless TF_LOG or TF_LOG_PROVIDER is set. At fleet
// scale that was a quarter of the provider's CPU, and Terraform's parsing
// more; on a busy machine it set the pace of a destroy. A level the user
// set, for the SDK or the provider, is left alone.
func quietUnlessAsked() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, name := range sdkLogLevels {
		if _, set := os.LookupEnv(name); !set {
			_ = os.Setenv(name, "off")
		}
	}
}
