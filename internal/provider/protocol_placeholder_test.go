package provider

import (
	"encoding/json"
	"testing"

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
