package provider

import (
	"fmt"
	"maps"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Plan and apply of vpsorg_server at the protocol level: what a plan
// promises, the apply must return (Terraform's own checks, in
// requireConsistent), whatever happened to the server in between.

// held is a resource as Terraform holds it between RPCs: state, identity
// and private state.
type held struct {
	state    *tfprotov6.DynamicValue
	identity *tfprotov6.ResourceIdentityData
	private  []byte
}

// planned is a plan of one resource and the configuration it was made from.
type planned struct {
	*tfprotov6.PlanResourceChangeResponse
	config *tfprotov6.DynamicValue
}

// importServer imports a server by id and refreshes it, as `terraform
// import` does, keeping the private state Terraform would keep.
func (p *protoEnv) importServer(id int64) held {
	p.t.Helper()
	imp := p.importState(fmt.Sprint(id), nil)
	requireNoErrors(p.t, "ImportResourceState", imp.Diagnostics)
	r := imp.ImportedResources[0]
	return p.refresh(held{state: r.State, identity: r.Identity, private: r.Private})
}

// refresh runs ReadResource and fails on an error.
func (p *protoEnv) refresh(h held) held {
	p.t.Helper()
	resp, err := p.server.ReadResource(p.t.Context(), &tfprotov6.ReadResourceRequest{
		TypeName: serverType, CurrentState: h.state, CurrentIdentity: h.identity, Private: h.private,
	})
	requireNoRPCError(p.t, "ReadResource", err)
	requireNoErrors(p.t, "ReadResource", resp.Diagnostics)
	return held{state: resp.NewState, identity: resp.NewIdentity, private: resp.Private}
}

// configOf is the configuration that keeps a server as it is (name, plan,
// OS, location), with set's attributes on top.
func (p *protoEnv) configOf(h held, set map[string]any) *tfprotov6.DynamicValue {
	p.t.Helper()
	was := p.object(p.resourceType(), h.state)
	config := map[string]any{"name": was["name"], "plan_id": was["plan_id"], "os_id": was["os_id"], "location": was["location"]}
	maps.Copy(config, set)
	return p.dynamic(p.resourceType(), config)
}

// planUpdate plans the configuration of configOf(h, set), with no errors.
func (p *protoEnv) planUpdate(h held, set map[string]any) planned {
	p.t.Helper()
	config := p.configOf(h, set)
	resp, err := p.server.PlanResourceChange(p.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName:         serverType,
		PriorState:       h.state,
		ProposedNewState: p.proposedNewState(h.state, config),
		Config:           config,
		PriorPrivate:     h.private,
		PriorIdentity:    h.identity,
	})
	requireNoRPCError(p.t, "PlanResourceChange", err)
	requireNoErrors(p.t, "PlanResourceChange", resp.Diagnostics)
	return planned{resp, config}
}

// apply applies a plan to h, as `terraform apply` does.
func (p *protoEnv) apply(h held, plan planned) *tfprotov6.ApplyResourceChangeResponse {
	p.t.Helper()
	resp, err := p.server.ApplyResourceChange(p.t.Context(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName:        serverType,
		PriorState:      h.state,
		PlannedState:    plan.PlannedState,
		Config:          plan.config,
		PlannedPrivate:  plan.PlannedPrivate,
		PlannedIdentity: plan.PlannedIdentity,
	})
	requireNoRPCError(p.t, "ApplyResourceChange", err)
	return resp
}

// requireConsistent makes Terraform's checks of an apply's result: no
// unknown value is left ("Provider returned invalid result object after
// apply"), and every value the plan knew is returned unchanged ("Provider
// produced inconsistent result after apply").
func (p *protoEnv) requireConsistent(plan, applied *tfprotov6.DynamicValue) {
	p.t.Helper()
	typ := p.resourceType()
	want, got := p.object(typ, plan), p.object(typ, applied)
	for name, g := range got {
		if g == unknown {
			p.t.Errorf("the apply left %s unknown: Terraform fails with \"Provider returned invalid result object after apply\"", name)
		}
		if w := want[name]; w != unknown && fmt.Sprint(w) != fmt.Sprint(g) {
			p.t.Errorf(".%s: was %v, but now %v: Terraform fails with \"Provider produced inconsistent result after apply\"", name, w, g)
		}
	}
}

// A value null in state (an address, while the server provisions) is not
// fixed yet: a plan leaves it to the apply, which may find it. Imported
// while provisioning, renamed, active by the apply: the addresses and the
// power state are what the API says, and Terraform accepts them.
func TestProtocolPlan_aNullValueInStateIsKnownAfterApply(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("a server held in a status (AddServer) and moved on (SetStatus)")
	for _, tc := range []struct{ name, status string }{
		{"provisioning", emulator.StatusProvisioning}, // no addresses yet
		{"unmapped", "migrating"},                     // a status the provider does not map: no power_state
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			srv, err := emu.AddServer("acc", emulator.ServerSpec{Name: p.name(tc.name), PlanID: 1, OSID: 5, Location: "us-west", Status: tc.status})
			must(t, err)
			imported := p.importServer(srv.ID)
			was := p.object(p.resourceType(), imported.state)
			if tc.status == emulator.StatusProvisioning && (was["ip_address"] != nil || was["ipv6_address"] != nil) {
				t.Fatalf("imported while provisioning with addresses %v, %v; the test needs none", was["ip_address"], was["ipv6_address"])
			}

			plan := p.planUpdate(imported, map[string]any{"name": p.name(tc.name + "-renamed")})
			emu.SetStatus(srv.ID, emulator.StatusActive)
			applied := p.apply(imported, plan)
			requireNoErrors(t, "applying the rename", applied.Diagnostics)
			p.requireConsistent(plan.PlannedState, applied.NewState)
			got := p.object(p.resourceType(), applied.NewState)
			if got["ip_address"] == nil || got["power_state"] != powerRunning {
				t.Errorf("the apply returned ip_address %v, power_state %v; want the active server's address and running", got["ip_address"], got["power_state"])
			}
		})
	}
}

// A change that sends the API nothing (timeouts, shutdown_before_delete, a
// reboot_trigger set where it was null) plans updated_at as it is; and the
// apply returns it so, even if the server changed since the plan.
func TestProtocolPlan_aChangeThatSendsNothingKeepsUpdatedAtKnown(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("a stop behind Terraform's back between plan and apply (SetStatus)")
	server := p.seedServers(serverSpec{name: "quiet"})[0]
	imported := p.importServer(server.ID)
	prior := p.object(p.resourceType(), imported.state)
	for name, set := range map[string]map[string]any{
		"timeouts":               {"timeouts": map[string]any{"update": "5m"}},
		"shutdown_before_delete": {"shutdown_before_delete": true},
		"reboot_trigger":         {"reboot_trigger": "v1"},
	} {
		t.Run(name, func(t *testing.T) {
			plan := p.planUpdate(imported, set)
			if got := p.object(p.resourceType(), plan.PlannedState)["updated_at"]; got != prior["updated_at"] {
				t.Errorf("planned updated_at %v, want %v as in state: this change sends no request", got, prior["updated_at"])
			}
		})
	}

	plan := p.planUpdate(imported, map[string]any{"reboot_trigger": "v1"})
	emu.SetStatus(server.ID, emulator.StatusStopped) // moves updated_at
	applied := p.apply(imported, plan)
	requireNoErrors(t, "applying", applied.Diagnostics)
	p.requireConsistent(plan.PlannedState, applied.NewState)
}
