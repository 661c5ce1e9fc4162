package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
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

func TestCheckEndpoint_neverRepeatsCredentials(t *testing.T) {
	for _, endpoint := range []string{
		"https://admin:s3cr3t-pass@admin.vps.org/api/v1/",
		"http://admin:s3cr3t-pass@10.0.0.1/api/v1/",
		"admin:s3cr3t-pass@admin.vps.org/api/v1/",
		"ftp://s3cr3t-pass@admin.vps.org/",
	} {
		err := checkEndpoint(endpoint)
		if err == nil {
			t.Errorf("checkEndpoint(%q) accepted an endpoint with credentials", endpoint)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-pass") {
			t.Errorf("checkEndpoint(%q) repeats the password: %v", endpoint, err)
		}
	}
}

func TestProviderConfig_maxRequestsPerSecondIsValidatedAtPlanTime(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: `provider "vpsorg" {
  max_requests_per_second = 0
}
data "vpsorg_servers" "all" {}`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)max_requests_per_second.*must be at least 0.01`),
		}},
	})
	if env.emulator != nil && len(env.emulator.Requests()) != 0 {
		t.Errorf("an invalid rate still let %d requests through", len(env.emulator.Requests()))
	}
}

// The rate reaches the client, from the argument or else the environment;
// a bad environment value names the variable.
func TestProviderConfig_maxRequestsPerSecondReachesTheClient(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("runs the provider against the emulator's URL to see the rate reach the client")
	cases := []struct {
		name, argument, environment string
		want                        float64
		wantErr                     string
	}{
		{name: "unset", want: 0},
		{name: "argument", argument: "max_requests_per_second = 2.5", want: 2.5},
		{name: "environment", environment: "4", want: 4},
		{name: "argument wins", argument: "max_requests_per_second = 3", environment: "9", want: 3},
		{name: "bad environment", environment: "fast", wantErr: `(?s)Invalid maximum request rate.*VPSORG_MAX_REQUESTS_PER_SECOND.*"fast"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envMaxRequestRate, tc.environment)
			var got float64
			p := &vpsorgProvider{version: "test", tune: func(cfg *vpsorg.Config) { got = cfg.MaxRequestsPerSecond; fastPolling(cfg) }}
			step := resource.TestStep{
				Config: fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n  %s\n}\ndata \"vpsorg_servers\" \"all\" {}\n",
					emu.URL(), testToken, tc.argument),
			}
			if tc.wantErr != "" {
				step.ExpectError = regexp.MustCompile(tc.wantErr)
			}
			unitTestWith(t, p, step)
			if tc.wantErr == "" && got != tc.want {
				t.Errorf("client got MaxRequestsPerSecond %v, want %v", got, tc.want)
			}
		})
	}
}

// A token read with file() ends with a newline: the whitespace around a
// token is never part of it, from the provider block or the environment.
func TestProviderConfig_tokenIsTrimmedOfSurroundingWhitespace(t *testing.T) {
	env := newTestEnv(t)
	skipOnEndpointFromEnv(t, "sets the endpoint and token itself")
	t.Run("api_token", func(t *testing.T) {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{{
				Config: fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = \"  %s\\n\"\n}\n", env.endpoint, env.token) +
					`data "vpsorg_servers" "all" {}`,
			}},
		})
	})
	t.Run(envToken, func(t *testing.T) {
		t.Setenv(envEndpoint, env.endpoint)
		t.Setenv(envToken, "\t"+env.token+"\r\n")
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps:                    []resource.TestStep{{Config: `data "vpsorg_servers" "all" {}`}},
		})
	})
}

// A control character inside a token can never be sent: refused when the
// provider is configured, naming where the token came from, never showing
// it, before any request.
func TestProviderConfig_tokenWithAControlCharacterIsRefused(t *testing.T) {
	env := newTestEnv(t)
	skipOnEndpointFromEnv(t, "sets the endpoint and token itself")
	const secret = "abc\\u0001def"
	t.Run("api_token", func(t *testing.T) {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{{
				Config: fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = \"%s\"\n}\n", env.endpoint, secret) +
					`data "vpsorg_servers" "all" {}`,
				ExpectError: regexp.MustCompile(`(?s)Invalid VPS.org API token.*control character.*api_token argument of the provider block`),
			}},
		})
	})
	t.Run(envToken, func(t *testing.T) {
		t.Setenv(envEndpoint, env.endpoint)
		t.Setenv(envToken, "abc\ndef")
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{{
				Config:      `data "vpsorg_servers" "all" {}`,
				ExpectError: regexp.MustCompile(`(?s)Invalid VPS.org API token.*control character.*the VPSORG_API_TOKEN environment variable`),
			}},
		})
	})
	if n := len(env.emulator.Requests()); n != 0 {
		t.Errorf("a token that cannot be sent still led to %d requests", n)
	}
}

// No message about a token shows it.
func TestCheckToken_neverShowsTheToken(t *testing.T) {
	for _, token := range []string{"abc\x01def", "abc\ndef", "abc\x7fdef"} {
		err := checkToken(token)
		if err == nil {
			t.Fatalf("checkToken(%q) = nil, want an error", token)
		}
		if strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "def") {
			t.Errorf("error %q shows the token", err)
		}
	}
	if err := checkToken("tok-5ecret"); err != nil {
		t.Errorf("checkToken of a good token = %v", err)
	}
}
