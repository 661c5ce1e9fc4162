package provider

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// proposedNewState is what Terraform proposes to plan from configuration
// and prior state: the configured values, and the prior values of computed
// attributes the configuration leaves null (Terraform's objchange.ProposedNew
// for a schema of top-level attributes).
func (p *protoEnv) proposedNewState(prior, config *tfprotov6.DynamicValue) *tfprotov6.DynamicValue {
	p.t.Helper()
	typ := p.resourceType()
	priorValue, err := prior.Unmarshal(typ)
	must(p.t, err)
	configValue, err := config.Unmarshal(typ)
	must(p.t, err)
	var priorAttrs, configAttrs map[string]tftypes.Value
	must(p.t, priorValue.As(&priorAttrs))
	must(p.t, configValue.As(&configAttrs))
	proposed := map[string]tftypes.Value{}
	for _, a := range p.schemas.ResourceSchemas[serverType].Block.Attributes {
		proposed[a.Name] = configAttrs[a.Name]
		if a.Computed && configAttrs[a.Name].IsNull() {
			proposed[a.Name] = priorAttrs[a.Name]
		}
	}
	for _, b := range p.schemas.ResourceSchemas[serverType].Block.BlockTypes {
		proposed[b.TypeName] = configAttrs[b.TypeName]
	}
	return p.dynamic(typ, tftypes.NewValue(typ, proposed))
}

// `terraform query -generate-config-out` turns each server found into an
// import block (by identity) and the configuration GenerateResourceConfig
// makes from the resource object. That configuration sets what a user
// would write and nothing the API computes; it does not manage power; it
// is valid; and planned against the imported server it changes nothing and
// replaces nothing: applied, it only imports. A stopped server stays
// stopped.
func TestProtocolGenerateResourceConfig_onlyImports(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	p.seedServers(
		serverSpec{name: "plain"},
		serverSpec{name: "off", stopped: true},
		serverSpec{name: "db", planID: 2, osID: 3, location: "us-east", hostname: "db.example.com", backups: true},
	)
	results := p.list(listRequest{includeResource: true})
	if own := p.results(results); len(own) != 3 {
		t.Fatalf("found %d servers of this test, want 3: %v", len(own), own)
	}
	for _, r := range results {
		if !strings.HasPrefix(r.DisplayName, p.prefix) {
			continue // another test's server, on a shared account
		}
		t.Run(strings.TrimPrefix(r.DisplayName, p.prefix), func(t *testing.T) {
			p := p.sub(t)
			server := p.object(p.resourceType(), r.Resource)
			id := p.identityID(r.Identity)
			g := p.generateAndPlan(r)
			want := []string{"backups_enabled", "location", "name", "os_id", "plan_id", "shutdown_before_delete"}
			if server["hostname"] != nil {
				want = append(want, "hostname") // set by the user or the API, it is a setting
			}
			var set []string
			for name, v := range g.config {
				if v != nil {
					set = append(set, name)
				}
			}
			if slices.Sort(want); !slices.Equal(slices.Sorted(slices.Values(set)), want) {
				t.Errorf("the generated configuration sets %q, want %q (no power_state, nothing computed)", slices.Sorted(slices.Values(set)), want)
			}
			for name, v := range g.config {
				if v != nil && !reflect.DeepEqual(v, server[name]) {
					t.Errorf("the generated configuration has %s = %#v, the server %#v", name, v, server[name])
				}
			}
			g.expectOnlyImport()
			if got := p.identityID(g.plan.PlannedIdentity); got != id {
				t.Errorf("the planned identity has id %v, want %v", got, id)
			}
		})
	}
}

// generatedPlan is a list result's generated configuration, planned as
// `terraform plan` plans it with the import block Terraform wrote beside it.
type generatedPlan struct {
	p      *protoEnv
	config map[string]any
	prior  map[string]any // the imported server, read
	plan   *tfprotov6.PlanResourceChangeResponse
}

// generateAndPlan asks GenerateResourceConfig for a list result's
// configuration, checks that it is valid, imports the server by identity
// and plans the configuration against it.
func (p *protoEnv) generateAndPlan(r tfprotov6.ListResourceResult) generatedPlan {
	p.t.Helper()
	gen, err := p.server.GenerateResourceConfig(p.t.Context(), &tfprotov6.GenerateResourceConfigRequest{
		TypeName: serverType, State: r.Resource,
	})
	requireNoRPCError(p.t, "GenerateResourceConfig", err)
	requireNoErrors(p.t, "GenerateResourceConfig", gen.Diagnostics)

	valid, err := p.server.ValidateResourceConfig(p.t.Context(), &tfprotov6.ValidateResourceConfigRequest{
		TypeName: serverType, Config: gen.Config,
	})
	requireNoRPCError(p.t, "ValidateResourceConfig", err)
	requireNoErrors(p.t, "validating the generated configuration", valid.Diagnostics)

	prior, identity := p.importAndRead("", p.identityID(r.Identity))
	plan, err := p.server.PlanResourceChange(p.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName:         serverType,
		PriorState:       prior,
		ProposedNewState: p.proposedNewState(prior, gen.Config),
		Config:           gen.Config,
		PriorIdentity:    identity,
	})
	requireNoRPCError(p.t, "PlanResourceChange", err)
	requireNoErrors(p.t, "planning the generated configuration", plan.Diagnostics)
	return generatedPlan{
		p:      p,
		config: p.object(p.resourceType(), gen.Config),
		prior:  p.object(p.resourceType(), prior),
		plan:   plan,
	}
}

// expectOnlyImport checks that the plan replaces nothing and changes no
// value of the imported server: applied, it only imports.
func (g generatedPlan) expectOnlyImport() {
	g.p.t.Helper()
	if len(g.plan.RequiresReplace) != 0 {
		g.p.t.Errorf("the plan replaces the server, for %v", g.plan.RequiresReplace)
	}
	after := g.p.object(g.p.resourceType(), g.plan.PlannedState)
	for _, name := range slices.Sorted(maps.Keys(g.prior)) {
		if !reflect.DeepEqual(g.prior[name], after[name]) {
			g.p.t.Errorf("the plan changes %s from %#v to %#v", name, g.prior[name], after[name])
		}
	}
}
