package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The guide "Adopting an existing fleet" (adopting-a-fleet.md.tmpl) holds:
// its curl script runs against the emulator and the stop answers what the
// guide shows; `terraform query` finds the servers it shows, with their
// identities; `-generate-config-out` writes the configuration it shows, as
// the provider generates it and `terraform fmt` lays it out; and each
// generated configuration, planned against its imported server, only
// imports, as its steps 4 and 5 say. Terraform 1.14 or later runs the
// query itself; here the test calls the provider's RPCs as it does
// (ListResource, GenerateResourceConfig, ImportResourceState,
// PlanResourceChange), so it needs no such Terraform.
func TestGuideSamples_adoptingAFleet(t *testing.T) {
	t.Parallel()
	const guideToken = "emulator-token" // the emulator's default, which the guide's script sends
	env := newTestEnv(t, func(o *emulator.Options) { o.Tokens = map[string]string{guideToken: "acc"} })
	env.requireEmulator("the guide's servers have fixed names and ids (12345 to 12348)")
	guide := guideTemplate(t, "adopting-a-fleet")

	// Step 1: the emulator's banner is the one the emulator guide shows
	// (and cmd/vpsorg-emulator's TestGuide_BannerSampleIsWhatTheCommandPrints
	// holds that one to the command).
	banner := regexp.MustCompile("(?s)It prints the endpoint and a token:\n\n```\n(.*?)```").FindStringSubmatch(guideTemplate(t, "emulator"))
	if banner == nil {
		t.Fatal("the emulator guide has no banner sample after \"It prints the endpoint and a token:\"")
	}
	compareSample(t, guide, "banner", banner[1])

	printed := runGuideScript(t, env, guideBlock(t, guide, "script", "make-fleet"))
	compareSample(t, guide, "stop", printed)

	// Each command's provider checks the settings once: one list request.
	env.emulator.ResetRequests()
	p := env.serve(env.token)
	expectRequestsIn(t, p.configured, "configuring the provider", "GET "+emulator.RouteServers)

	// Step 2: terraform query lists the servers, without their resource
	// objects, in one request to the API. Terraform lays the lines out;
	// the address, identity and name in each are the provider's.
	p.resetRequests()
	found := p.list(listRequest{})
	expectRequests(t, env, "terraform query", "GET "+emulator.RouteServers)
	var query strings.Builder
	for _, r := range found {
		requireNoErrors(t, "a list result", r.Diagnostics)
		fmt.Fprintf(&query, "list.vpsorg_server.fleet   id=%v   %s\n", p.identityID(r.Identity), r.DisplayName)
	}
	compareSample(t, guide, "query", query.String())

	// Step 3: -generate-config-out asks for the resource objects too: one
	// more list and a GET per server, which has backups_enabled.
	p.resetRequests()
	results := p.list(listRequest{includeResource: true})
	want := []string{"GET " + emulator.RouteServers}
	for range results {
		want = append(want, "GET "+emulator.RouteServer)
	}
	expectRequests(t, env, "terraform query -generate-config-out", want...)
	if len(results) != 4 {
		t.Fatalf("the query found %d servers, want the guide's 4", len(results))
	}

	// Steps 4 and 5: the plan and the apply only read.
	p.resetRequests()
	var generated strings.Builder
	generated.WriteString("# __generated__ by Terraform\n# Please review these resources and move them into your main configuration files.\n\n# __generated__ by Terraform\n")
	for i, r := range results {
		// Steps 4 and 5: planned with its import block, each only imports.
		g := p.generateAndPlan(r)
		g.expectOnlyImport()
		if r.DisplayName == "batch-1" && (g.prior["status"] != "stopped" || g.prior["power_state"] != "stopped") {
			t.Errorf("batch-1 is imported with status %v and power_state %v, want both stopped, as the guide says", g.prior["status"], g.prior["power_state"])
		}
		if i < 2 { // the guide shows the first two of four
			generated.WriteString(p.generatedBlocks(fmt.Sprintf("fleet_%d", i), g.config, p.identityID(r.Identity)))
		}
	}
	// A GET per server: the import by identity reads nothing, the refresh
	// reads the server, the plan sends nothing.
	want = nil
	for range results {
		want = append(want, "GET "+emulator.RouteServer)
	}
	expectRequests(t, env, "importing and planning", want...)
	compareSample(t, guide, "generated-config", terraformFmt(t, strings.TrimRight(generated.String(), "\n")+"\n"))
}

// runGuideScript runs a guide's shell script against the emulator: its
// variable assignments, its curl commands, and its sleep, which waits for
// the servers made so far to finish provisioning rather than for a fixed
// time. The guide's endpoint (the emulator's default address) becomes the
// test emulator's. It returns what the script prints.
func runGuideScript(t *testing.T, env *testEnv, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), accTimeout())
	defer cancel()
	const guideAPI = "http://127.0.0.1:8080/api/v1"
	vars := map[string]string{}
	var made []int64
	var printed strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		words := shellWords(t, line, vars)
		switch {
		case len(words) == 1 && strings.Contains(words[0], "="):
			name, value, _ := strings.Cut(words[0], "=")
			if name == "api" {
				if value != guideAPI {
					t.Fatalf("the script's api is %q, want the emulator's default address %q", value, guideAPI)
				}
				value = strings.TrimSuffix(env.endpoint, "/")
			}
			vars[name] = value
		case words[0] == "curl":
			c := parseCurl(t, words)
			answer := c.do(ctx, t)
			if c.method == "POST" && strings.HasSuffix(c.url, "/servers/") {
				var created struct{ ID int64 }
				if err := json.Unmarshal([]byte(answer), &created); err != nil || created.ID == 0 {
					t.Fatalf("%s answered %q, not a server", line, answer)
				}
				made = append(made, created.ID)
			}
			if !c.quiet {
				printed.WriteString(strings.TrimSpace(answer) + "\n")
			}
		case words[0] == "sleep":
			for _, id := range made {
				if _, err := env.waitActive(ctx, id); err != nil {
					t.Fatalf("waiting for server %d to be provisioned: %v", id, err)
				}
			}
		default:
			t.Fatalf("the script runs %q, which this test does not know how to run", words[0])
		}
	}
	for _, id := range made {
		_, err := env.client.WaitForStatus(ctx, id, vpsorg.WaitSpec{
			Target:  []string{vpsorg.StatusActive, vpsorg.StatusStopped},
			Pending: []string{vpsorg.StatusStopping},
		})
		if err != nil {
			t.Fatalf("waiting for server %d to settle after the script: %v", id, err)
		}
	}
	return printed.String()
}

// expectRequests checks the requests the emulator got since its log was
// cleared, as "METHOD route", in order.
func expectRequests(t *testing.T, env *testEnv, what string, want ...string) {
	t.Helper()
	expectRequestsIn(t, env.emulator.Requests(), what, want...)
}

// expectRequestsIn is expectRequests on a log taken earlier.
func expectRequestsIn(t *testing.T, log []emulator.Request, what string, want ...string) {
	t.Helper()
	var got []string
	for _, req := range log {
		got = append(got, req.Method+" "+req.Route)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s sent %q, want %q", what, got, want)
	}
}

// generatedBlocks writes what `terraform query -generate-config-out` writes
// for one server: a resource block with the configuration the provider
// generated, and an import block by identity. Like Terraform, it writes
// the provider first, then the attributes in name order; it leaves out the
// attributes only the provider sets, and those that are also optional when
// null (power_state: not managed); the other nulls it writes as null.
func (p *protoEnv) generatedBlocks(label string, config map[string]any, id any) string {
	p.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "resource %q %q {\n  provider = vpsorg\n", serverType, label)
	attrs := slices.Values(p.schemas.ResourceSchemas[serverType].Block.Attributes)
	byName := func(a, b *tfprotov6.SchemaAttribute) int { return strings.Compare(a.Name, b.Name) }
	for _, a := range slices.SortedFunc(attrs, byName) {
		v := config[a.Name]
		if a.Computed && (!a.Optional || v == nil) {
			continue
		}
		if _, nested := a.ValueType().(tftypes.Object); nested && v != nil {
			p.t.Fatalf("the generated %s is an object; this renderer writes only null ones", a.Name)
		}
		fmt.Fprintf(&b, "  %s = %s\n", a.Name, hclValue(p.t, v))
	}
	fmt.Fprintf(&b, "}\n\nimport {\n  to = %s.%s\n  provider = vpsorg\n  identity = {\n    id = %s\n  }\n}\n\n", serverType, label, hclValue(p.t, id))
	return b.String()
}
