package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestProviderSchema_APITokenIsSensitive(t *testing.T) {
	var resp provider.SchemaResponse
	New("test")().Schema(context.Background(), provider.SchemaRequest{}, &resp)
	if !resp.Schema.Attributes["api_token"].(schema.StringAttribute).Sensitive {
		t.Fatal("api_token must be Sensitive, or it shows in plans and logs")
	}
}

func TestProviderConfig_missingTokenNamesTheEnvironmentVariable(t *testing.T) {
	t.Setenv(envToken, "")
	t.Setenv(envEndpoint, "")
	env := newTestEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      `data "vpsorg_servers" "all" {}`,
			ExpectError: regexp.MustCompile(`(?s)Missing VPS.org API token.*VPSORG_API_TOKEN`),
		}},
	})
}

func TestProviderConfig_plainHTTPOnlyOnLoopback(t *testing.T) {
	env := newTestEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: `provider "vpsorg" {
  endpoint  = "http://api.example.com/api/v1/"
  api_token = "secret"
}
data "vpsorg_servers" "all" {}`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid VPS.org API endpoint.*plain http on a host that is not\s+loopback`),
			},
			{
				Config: `provider "vpsorg" {
  endpoint  = "ftp://api.example.com/"
  api_token = "secret"
}
data "vpsorg_servers" "all" {}`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`only\s+https\s+\(and\s+http\s+on\s+a\s+loopback\s+host\)\s+are\s+allowed`),
			},
		},
	})
	if env.emulator != nil && len(env.emulator.Requests()) != 0 {
		t.Errorf("a refused endpoint still saw %d requests", len(env.emulator.Requests()))
	}
}

func TestProviderConfig_fromEnvironment(t *testing.T) {
	env := newTestEnv(t)
	var servers knownvalue.Check = knownvalue.NotNull() // a shared account holds what it holds
	if env.emulator != nil {
		t.Setenv(envEndpoint, env.endpoint)
		t.Setenv(envToken, env.token)
		servers = knownvalue.ListSizeExact(0)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: `data "vpsorg_servers" "all" {}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.vpsorg_servers.all", tfjsonpath.New("servers"), servers),
			},
		}},
	})
}

func TestCheckEndpoint(t *testing.T) {
	cases := map[string]bool{
		"https://admin.vps.org/api/v1/":   true,
		"http://127.0.0.1:8080/api/v1/":   true,
		"http://127.1.2.3/api/v1/":        true,
		"http://[::1]:8080/api/v1/":       true,
		"http://localhost:8080/api/v1/":   true,
		"http://10.0.0.1/api/v1/":         false,
		"http://admin.vps.org/api/v1/":    false,
		"http://localhost.evil.com/":      false,
		"admin.vps.org/api/v1/":           false,
		"":                                false,
		"ftp://admin.vps.org/api/v1/":     false,
		"https:///no-host":                false,
		"https://admin.vps.org:8443/api/": true,
	}
	for endpoint, ok := range cases {
		if err := checkEndpoint(endpoint); (err == nil) != ok {
			t.Errorf("checkEndpoint(%q) = %v, want ok=%v", endpoint, err, ok)
		}
	}
}
