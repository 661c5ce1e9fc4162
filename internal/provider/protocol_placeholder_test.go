package provider

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// A placeholder that Terraform shows the provider at plan time (one that
// was untainted) and that is planned without a refresh: the plan stops
// with the advice, before any create, since a replacement with
// create_before_destroy would create before the placeholder's delete.
// (Terraform plans a tainted placeholder as a create and shows the
// provider nothing of it; its delete handles that case.)
func TestProtocolPlan_aPlaceholderIsNeverPlannedWithoutARefresh(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	typ := p.resourceType()
	settings := map[string]any{
		"name":                   p.name("placeholder"),
		"plan_id":                catalog.plans[0],
		"os_id":                  catalog.systems[0],
		"location":               catalog.locations[0],
		"shutdown_before_delete": false,
	}
	prior := p.dynamic(typ, settings) // no id: a placeholder
	pending := unresolvedCreate{Name: p.name("placeholder"), PlanID: catalog.plans[0], OSID: catalog.systems[0], Location: catalog.locations[0], Began: "2026-01-02T10:00:00Z"}
	private, err := json.Marshal(map[string][]byte{unresolvedCreateKey: pending.marshal()})
	must(t, err)
	replaced := map[string]any{}
	for k, v := range settings {
		replaced[k] = v
	}
	replaced["os_id"] = catalog.systems[1] // forces a replacement
	config := p.dynamic(typ, replaced)
	plan, err := p.server.PlanResourceChange(t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName:         serverType,
		PriorState:       prior,
		PriorPrivate:     private,
		ProposedNewState: p.proposedNewState(prior, config),
		Config:           config,
	})
	requireNoRPCError(t, "PlanResourceChange", err)
	expectError(t, "planning a placeholder without a refresh", plan.Diagnostics, nil, `(?s)A create that may have made a server is unresolved.*-refresh=false`)
}

// A refresh that finds the server of a placeholder's create adopts it, and
// its warning says what a plan does not do: save it. The placeholder stays
// in state until an apply (or terraform apply -refresh-only) saves the
// refresh.
func TestProtocolRead_aPlaceholderAdoptedByAPlanSaysThePlanSavesNothing(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	typ := p.resourceType()
	began := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	made := p.seedServers(serverSpec{name: "adoptable"})[0]
	prior := p.dynamic(typ, map[string]any{
		"name":                   p.name("adoptable"),
		"plan_id":                catalog.plans[0],
		"os_id":                  catalog.systems[0],
		"location":               catalog.locations[0],
		"shutdown_before_delete": false,
	})
	pending := unresolvedCreate{Name: p.name("adoptable"), PlanID: catalog.plans[0], OSID: catalog.systems[0], Location: catalog.locations[0], Began: began}
	private, err := json.Marshal(map[string][]byte{unresolvedCreateKey: pending.marshal()})
	must(t, err)
	resp, err := p.server.ReadResource(t.Context(), &tfprotov6.ReadResourceRequest{TypeName: serverType, CurrentState: prior, Private: private})
	requireNoRPCError(t, "ReadResource", err)
	requireNoErrors(t, "ReadResource", resp.Diagnostics)
	var warning string
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityWarning && strings.Contains(d.Summary, fmt.Sprint(made.ID)) {
			warning = d.Summary + ": " + d.Detail
		}
	}
	if !strings.Contains(warning, "A plan saves no state") || strings.Contains(warning, "It is now in state") ||
		!strings.Contains(warning, "terraform apply -refresh-only") {
		t.Errorf("the adoption's warning is %q; want it to say a plan saves no state and how to save it", warning)
	}
}
