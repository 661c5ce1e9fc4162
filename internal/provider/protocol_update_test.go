package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// A rename plans status and power_state as they are (no power request will
// be sent). When the server is stopped behind Terraform's back between the
// plan and the apply, the apply still returns the planned values, which
// Terraform requires of every value it knew, and warns; the next refresh
// shows the server stopped. Returning the API's new status would make
// Terraform fail the apply with "Provider produced inconsistent result".
func TestProtocolUpdate_aPowerChangeBetweenPlanAndApplyIsAWarning(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	server := p.seedServers(serverSpec{name: "web"})[0]
	prior, identity := p.importAndRead(fmt.Sprint(server.ID), nil)
	typ := p.resourceType()
	was := p.object(typ, prior)

	config := p.dynamic(typ, map[string]any{
		"name":                   p.name("renamed"),
		"plan_id":                was["plan_id"],
		"os_id":                  was["os_id"],
		"location":               was["location"],
		"shutdown_before_delete": false,
	})
	plan, err := p.server.PlanResourceChange(t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName:         serverType,
		PriorState:       prior,
		ProposedNewState: p.proposedNewState(prior, config),
		Config:           config,
		PriorIdentity:    identity,
	})
	requireNoRPCError(t, "PlanResourceChange", err)
	requireNoErrors(t, "planning a rename", plan.Diagnostics)
	planned := p.object(typ, plan.PlannedState)
	if planned["status"] != "active" || planned["power_state"] != "running" {
		t.Fatalf("a rename plans status %v and power_state %v, want them known: active, running", planned["status"], planned["power_state"])
	}

	ctx, cancel := p.ctx()
	defer cancel()
	if _, err := p.stop(ctx, server.ID); err != nil {
		t.Fatalf("stopping the server behind Terraform's back: %v", err)
	}

	applied, err := p.server.ApplyResourceChange(t.Context(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName:        serverType,
		PriorState:      prior,
		PlannedState:    plan.PlannedState,
		Config:          config,
		PlannedPrivate:  plan.PlannedPrivate,
		PlannedIdentity: plan.PlannedIdentity,
	})
	requireNoRPCError(t, "ApplyResourceChange", err)
	requireNoErrors(t, "applying the rename", applied.Diagnostics)
	state := p.object(typ, applied.NewState)
	for _, name := range []string{"name", "status", "power_state"} {
		if state[name] != planned[name] {
			t.Errorf("the apply returned %s = %v, the plan said %v: Terraform rejects that as an inconsistent result", name, state[name], planned[name])
		}
	}
	if !hasWarning(applied.Diagnostics, "power changed outside this apply", `"stopped"`) {
		t.Errorf("the apply did not warn that the server was stopped behind its back:\n%s", diagText(applied.Diagnostics))
	}

	refreshed, _ := p.read(applied.NewState, applied.NewIdentity)
	if got := p.object(typ, refreshed); got["status"] != "stopped" || got["power_state"] != "stopped" {
		t.Errorf("the refresh after the apply shows status %v, power_state %v; want stopped, stopped", got["status"], got["power_state"])
	}
}

// hasWarning reports whether diags hold a warning whose summary and detail
// contain every one of parts.
func hasWarning(diags []*tfprotov6.Diagnostic, parts ...string) bool {
	for _, d := range diags {
		if d.Severity != tfprotov6.DiagnosticSeverityWarning {
			continue
		}
		text, all := d.Summary+": "+d.Detail, true
		for _, part := range parts {
			all = all && strings.Contains(text, part)
		}
		if all {
			return true
		}
	}
	return false
}
