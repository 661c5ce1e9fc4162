package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Errors a user meets in the first hour, each written for the person reading
// it: where it happened (the attribute's line when there is one), what was
// wrong, and which setting to fix, with where its value came from.

// threeServers is a configuration that, before the provider checked its
// settings once, gave one identical error per server.
const threeServers = `
resource "vpsorg_server" "web" {
  count    = 3
  name     = "web-${count.index}"
  plan_id  = 1
  os_id    = 5
  location = "us-west"
}
`

// An endpoint without the API's version path: one error, from the
// provider's check, naming the path that answered 404 and where the
// endpoint came from, rather than a 404 per server.
func TestAccProvider_wrongEndpointPathIsOneErrorNamingTheSetting(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's request log and its base path: a live endpoint has no wrong path to test")
	wrong := strings.Replace(env.endpoint, "/api/v1/", "/v1/", 1)

	// From the environment: the error is on the provider block and names the variable.
	c := newCLI(t, wrong, env.token)
	c.write("main.tf", cliRequiredProviders+`provider "vpsorg" {}`+threeServers)
	out, err := c.run(nil, "plan", "-no-color", "-input=false")
	if err == nil {
		t.Fatalf("plan succeeded against %s:\n%s", wrong, out)
	}
	if n := strings.Count(out, "Error: "); n != 1 {
		t.Errorf("%d errors, want 1:\n%s", n, out)
	}
	for _, want := range []string{"Error: Wrong VPS.org API endpoint", "answered GET /v1/servers/ with HTTP 404 Not Found",
		"set by the VPSORG_ENDPOINT environment variable", "base URL, including the version path"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("the error lacks %q:\n%s", want, out)
		}
	}
	if n := len(emu.Requests()); n != 1 {
		t.Errorf("the plan sent %d requests, want 1 (the check)", n)
	}

	// From the provider block: the error quotes the endpoint's line.
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n}\n", wrong, env.token) + threeServers,
			ExpectError: regexp.MustCompile(`(?s)Wrong VPS.org API endpoint.*endpoint\s+= "[^"]*/v1/".*` +
				`GET /v1/servers/ with\s+HTTP\s+404.*set\s+by\s+the\s+endpoint\s+argument\s+of\s+the\s+provider\s+block`),
		}},
	})
}

// A refused token is one error, naming the endpoint that refused it and
// where the token came from, however many resources the plan holds; the
// check is the only request.
func TestAccProvider_refusedTokenIsOneErrorNamingTheEndpoint(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	c := newCLI(t, env.endpoint, "not-the-token")
	c.write("main.tf", cliRequiredProviders+`provider "vpsorg" {}`+threeServers+`
data "vpsorg_servers" "all" {}
`)
	out, err := c.run(nil, "plan", "-no-color", "-input=false")
	if err == nil {
		t.Fatalf("plan succeeded with a wrong token:\n%s", out)
	}
	if n := strings.Count(out, "Error: "); n != 1 {
		t.Errorf("%d errors, want 1:\n%s", n, out)
	}
	for _, want := range []string{"Error: VPS.org API token refused", "The endpoint " + env.endpoint + " answered GET",
		"HTTP 401 Unauthorized", "The API token came from the VPSORG_API_TOKEN environment variable", "skip_credentials_validation"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("the error lacks %q:\n%s", want, out)
		}
	}
	if err := env.onEmulator("that the check was the only request (the emulator's request log)", func(emu *emulator.Emulator) error {
		if n := len(emu.Requests()); n != 1 {
			return fmt.Errorf("the plan sent %d requests, want 1", n)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// skip_credentials_validation plans without a single request: a wrong
// token goes unnoticed until something needs the API.
func TestAccProvider_skipCredentialsValidationPlansWithoutTheAPI(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's request log, to show that the plan sent nothing")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = \"not-the-token\"\n"+
				"  skip_credentials_validation = true\n}\n", env.endpoint) + threeServers,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("the plan sent %d requests, want none: %+v", n, emu.Requests())
	}
}

func TestSkipCredentialsCheck_readsTheArgumentThenTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		arg       types.Bool
		env       string
		skip, bad bool
	}{
		{arg: types.BoolNull()},
		{arg: types.BoolNull(), env: "true", skip: true},
		{arg: types.BoolNull(), env: "FALSE"},
		{arg: types.BoolValue(false), env: "true"},
		{arg: types.BoolValue(true), skip: true},
		{arg: types.BoolNull(), env: "yes please", bad: true},
	} {
		t.Run(fmt.Sprintf("%s/%q", tc.arg, tc.env), func(t *testing.T) {
			t.Setenv(envSkipCheck, tc.env)
			var diags diag.Diagnostics
			skip, ok := skipCredentialsCheck(tc.arg, &diags)
			if skip != tc.skip || ok == tc.bad {
				t.Errorf("got skip %v, ok %v; want skip %v, ok %v", skip, ok, tc.skip, !tc.bad)
			}
			if tc.bad && (len(diags) != 1 || !strings.Contains(diags[0].Detail(), envSkipCheck)) {
				t.Errorf("want one error naming %s, got %v", envSkipCheck, diags)
			}
			if tc.bad {
				if wp, ok := diags[0].(diag.DiagnosticWithPath); !ok || !wp.Path().Equal(path.Root("skip_credentials_validation")) {
					t.Errorf("the error is not on skip_credentials_validation: %v", diags)
				}
			}
		})
	}
}

// A name where an id belongs, in the data source: the error is on id's line
// and says to look the server up by name; no advice about terraform import.
// An id that does not exist has the one wording for a missing server.
func TestAccServerDataSource_nameGivenAsIDAndAnIDThatDoesNotExist(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.config(`data "vpsorg_server" "x" {
  id = "web-1a"
}`),
				ExpectError: regexp.MustCompile(`(?s)Invalid server id.*id = "web-1a".*id = "web-1a" is not a server id\..*` +
					`set\s+name\s+=\s+"web-1a"\s+instead\s+of\s+id`),
			},
			{
				Config: env.config(`data "vpsorg_server" "x" {
  id = "999999999"
}`),
				ExpectError: regexp.MustCompile(`(?s)Server not found.*id = "999999999".*No server with id 999999999 exists for this API\s+token`),
			},
		},
	})
}

// A name in an import block's id: the error is the import's, with how to
// find the id, and names no resource address it cannot know.
func TestAccServerResource_importBlockWithANameForAnID(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`
import {
  to = vpsorg_server.web
  id = "web-1a"
}
`) + env.serverConfig("web-1a", 1, ""),
			ExpectError: regexp.MustCompile(`(?s)Invalid server id to import.*The id to import, "web-1a", is not a server\s+id.*` +
				`vpsorg_server\s+data\s+source\s+\(by\s+name\)`),
		}},
	})
}

// A timeout that is not a duration is reported on the line that sets it,
// which Terraform quotes, not on the resource as a whole.
func TestAccServerResource_badTimeoutPointsAtTimeouts(t *testing.T) {
	env := newTestEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:   env.config(env.serverConfig("slow", 1, `  timeouts { create = "5 minutes" }`)),
			PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)Invalid timeout.*\d+:\s+timeouts \{ create = "5 minutes" \}.*` +
				`timeouts.create = "5 minutes" is not a positive\s+duration`),
		}},
	})
}

// A misspelt timeout is an error at `terraform validate`, not a silent
// default: the timeouts are blocks, whose arguments Terraform checks, where
// an object-typed attribute drops an unknown key without a word.
func TestAccServerResource_misspeltTimeoutFailsTerraformValidate(t *testing.T) {
	env := newTestEnv(t)
	c := newCLI(t, env.endpoint, env.token)
	for name, config := range map[string]string{
		"resource":    env.serverConfig("typo", 1, "  timeouts {\n    creat = \"30m\"\n  }"),
		"data source": "data \"vpsorg_servers\" \"all\" {\n  timeouts {\n    raed = \"1m\"\n  }\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			c.write("main.tf", cliRequiredProviders+env.config(config))
			out, err := c.run(nil, "validate", "-no-color")
			if err == nil || !regexp.MustCompile(`(?s)Unsupported argument.*An argument named "(creat|raed)" is not expected here`).MatchString(out) {
				t.Fatalf("terraform validate: %v, want it to refuse the misspelt timeout:\n%s", err, out)
			}
		})
	}
}

// The mark an import leaves for Read is gone once the server was read: a
// server deleted later, behind Terraform's back, is planned anew, as any
// server gone missing is, not reported as a failed import.
func TestAccServerResource_importedServerDeletedLaterIsPlannedAgain(t *testing.T) {
	env := newTestEnv(t)
	seeded := env.seedServers(serverSpec{name: "adopted"})[0]
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(fmt.Sprintf("import {\n  to = vpsorg_server.web\n  id = \"%d\"\n}\n", seeded.ID)) +
					env.serverConfig("adopted", 1, ""),
			},
			{
				PreConfig:          func() { env.deleteOutOfBand("adopted") },
				Config:             env.config(env.serverConfig("adopted", 1, "")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// An endpoint refused before any request says where it came from: from the
// environment it has no line in the configuration to show.
func TestAccProvider_refusedEndpointFromTheEnvironmentSaysSo(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "http://api.example.com/api/v1/", "unused")
	c.write("main.tf", cliRequiredProviders+`provider "vpsorg" {}`+"\n"+`data "vpsorg_servers" "all" {}`+"\n")
	out, err := c.run(nil, "plan", "-no-color", "-input=false")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Error: Invalid VPS.org API endpoint", "plain http on a host that is not loopback",
		"The endpoint came from the VPSORG_ENDPOINT environment variable."} {
		if err == nil || !strings.Contains(flat, want) {
			t.Errorf("the plan should fail saying %q:\n%s", want, out)
		}
	}
}
