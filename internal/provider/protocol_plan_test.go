package provider

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

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

// requireKnown fails when a state the provider returned holds an unknown
// value: Terraform says "Provider returned invalid result object after
// apply" and saves it as null.
func (p *protoEnv) requireKnown(what string, state *tfprotov6.DynamicValue) {
	p.t.Helper()
	for name, v := range p.object(p.resourceType(), state) {
		if v == unknown {
			p.t.Errorf("%s left %s unknown: Terraform fails with \"Provider returned invalid result object after apply\"", what, name)
		}
	}
}

// applied is the state an apply without errors returns, as Terraform would
// hold it next.
func (p *protoEnv) applied(h held, plan planned) held {
	p.t.Helper()
	resp := p.apply(h, plan)
	requireNoErrors(p.t, "ApplyResourceChange", resp.Diagnostics)
	p.requireConsistent(plan.PlannedState, resp.NewState)
	return held{state: resp.NewState, identity: resp.NewIdentity, private: resp.Private}
}

// A saved plan that reboots a running server, applied after the server was
// stopped elsewhere: the plan promised a reboot that a stopped server
// cannot get, so the apply fails saying so, and the state keeps the server
// as the API shows it with the old reboot_trigger, so that the next plan
// shows the change again.
func TestProtocolPlan_aSavedRebootAppliedToAServerStoppedSinceFails(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	server := p.seedServers(serverSpec{name: "rebooted"})[0]
	h := p.applied(p.importServer(server.ID), p.planUpdate(p.importServer(server.ID), map[string]any{"reboot_trigger": "v1"}))

	plan := p.planUpdate(h, map[string]any{"reboot_trigger": "v2"})
	if !hasWarning(plan.Diagnostics, "will reboot") {
		t.Fatalf("the plan does not promise a reboot:\n%s", diagText(plan.Diagnostics))
	}
	ctx, cancel := p.ctx()
	defer cancel()
	if _, err := p.stop(ctx, server.ID); err != nil {
		t.Fatalf("stopping the server behind Terraform's back: %v", err)
	}
	p.resetRequests()

	resp := p.apply(h, plan)
	expectError(t, "applying the saved reboot", resp.Diagnostics, attrPath("reboot_trigger"), `(?s)Server \d+ was not rebooted.*"stopped".*terraform plan. again`)
	p.requireKnown("the failed apply", resp.NewState)
	got := p.object(p.resourceType(), resp.NewState)
	if got["status"] != "stopped" || got["power_state"] != powerStopped || got["reboot_trigger"] != "v1" {
		t.Errorf("the failed apply saved status %v, power_state %v, reboot_trigger %v; want stopped, stopped and the old v1",
			got["status"], got["power_state"], got["reboot_trigger"])
	}
	must(t, p.onEmulator("no power request after the stop", func(emu *emulator.Emulator) error {
		for _, r := range emu.Requests() {
			if r.Method == "POST" {
				return fmt.Errorf("the apply sent %s %s to a stopped server", r.Method, r.Path)
			}
		}
		return nil
	}))
}

// A server deleted between the plan and the apply: the apply says that it no
// longer exists and what to do, not only the API's 404.
func TestProtocolPlan_aServerDeletedSinceThePlanIsNamedSo(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	for name, set := range map[string]map[string]any{
		"a rename":       {"name": p.name("renamed")},    // PATCH
		"a power change": {"power_state": powerStopped},  // GET, then stop
		"a reboot":       {"reboot_trigger": "recorded"}, // nothing to send: the read-back
	} {
		t.Run(name, func(t *testing.T) {
			p := p.sub(t)
			server := p.seedServers(serverSpec{name: "gone"})[0]
			h := p.importServer(server.ID)
			plan := p.planUpdate(h, set)
			p.deleteServer(server.ID)
			resp := p.apply(h, plan)
			expectError(t, "applying to a deleted server", resp.Diagnostics, nil,
				fmt.Sprintf("(?s)Server %d no longer exists.*deleted outside Terraform after the plan.*terraform plan", server.ID))
		})
	}
}

// planCreate plans a new server of set's attributes (name, plan, OS and
// location from the catalog unless given), as Terraform does.
func (p *protoEnv) planCreate(set map[string]any) planned {
	p.t.Helper()
	typ := p.resourceType()
	attrs := map[string]any{"plan_id": catalog.plans[0], "os_id": catalog.systems[0], "location": catalog.locations[0]}
	maps.Copy(attrs, set)
	config := p.dynamic(typ, attrs)
	plan, err := p.server.PlanResourceChange(p.t.Context(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: serverType, PriorState: p.dynamic(typ, nil), ProposedNewState: config, Config: config,
	})
	requireNoRPCError(p.t, "PlanResourceChange", err)
	requireNoErrors(p.t, "planning a create", plan.Diagnostics)
	return planned{plan, config}
}

// create plans and applies a new server (see planCreate) and returns it as
// Terraform would hold it.
func (p *protoEnv) create(set map[string]any) held {
	p.t.Helper()
	return p.applied(held{state: p.dynamic(p.resourceType(), nil)}, p.planCreate(set))
}

// stopWhen runs apply, and once the emulator has logged a request for which
// sent is true, calls StopProvider, as Terraform does on Ctrl-C; it returns
// what apply returned.
func (p *protoEnv) stopWhen(sent func(emulator.Request) bool, apply func() *tfprotov6.ApplyResourceChangeResponse) *tfprotov6.ApplyResourceChangeResponse {
	p.t.Helper()
	emu := p.requireEmulator("the request log shows when to interrupt")
	done := make(chan *tfprotov6.ApplyResourceChangeResponse, 1)
	go func() { done <- apply() }()
	for !slices.ContainsFunc(emu.Requests(), sent) {
		select {
		case resp := <-done:
			p.t.Fatalf("the apply ended before the request to interrupt it after:\n%s", diagText(resp.Diagnostics))
		case <-p.t.Context().Done():
			p.t.Fatal("the test ended before the request to interrupt after")
		case <-time.After(5 * time.Millisecond):
		}
	}
	_, err := p.server.StopProvider(p.t.Context(), &tfprotov6.StopProviderRequest{})
	requireNoRPCError(p.t, "StopProvider", err)
	return <-done
}

// replaces reports whether a plan replaces the server for the attribute.
func replaces(plan planned, attribute string) bool {
	for _, at := range plan.RequiresReplace {
		if at.Equal(attrPath(attribute)) {
			return true
		}
	}
	return false
}

// The API installs an SSH key only when it creates a server. Added to a
// server this provider created, ssh_key_id replaces it; added to an imported
// one, it is only recorded, and the plan says so.
func TestProtocolPlan_anSSHKeyAddedLaterReplacesOnlyWhatThisProviderCreated(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	t.Run("created", func(t *testing.T) {
		p := p.sub(t)
		created := p.create(map[string]any{"name": p.name("created")})
		t.Cleanup(func() { p.deleteServer(mustID(t, p.object(p.resourceType(), created.state)["id"])) })
		plan := p.planUpdate(p.refresh(created), map[string]any{"ssh_key_id": 7})
		if !replaces(plan, "ssh_key_id") {
			t.Errorf("adding ssh_key_id to a server the provider created plans no replacement (requires replace: %v): "+
				"the key would be recorded and never installed", plan.RequiresReplace)
		}
	})
	t.Run("imported", func(t *testing.T) {
		p := p.sub(t)
		server := p.seedServers(serverSpec{name: "imported"})[0]
		plan := p.planUpdate(p.importServer(server.ID), map[string]any{"ssh_key_id": 7})
		if replaces(plan, "ssh_key_id") {
			t.Errorf("adding ssh_key_id to an imported server plans its replacement")
		}
		if !hasWarning(plan.Diagnostics, "not installed", fmt.Sprint(server.ID), "-replace") {
			t.Errorf("the plan does not say that the key is only recorded:\n%s", diagText(plan.Diagnostics))
		}
	})
}

// mustID is a server id from state.
func mustID(t *testing.T, id any) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(fmt.Sprint(id), &n); err != nil {
		t.Fatalf("server id %v: %v", id, err)
	}
	return n
}

// Ctrl-C while a server provisions: the server exists and is healthy, only
// the wait was cut short. The apply keeps it in state, untainted (no error),
// with a warning, and with the status the API last showed; the next plan
// reads it and replaces nothing.
func TestProtocolPlan_anInterruptedCreateWaitKeepsTheServer(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("a provisioning that outlasts the interrupt (SetProvisioningTime)")
	emu.SetProvisioningTime(time.Hour)
	for label, power := range map[string]any{"unmanaged": nil, "stopped": powerStopped} {
		t.Run("power_state "+label, func(t *testing.T) {
			p := p.sub(t)
			name := p.name("cut-" + label)
			plan := p.planCreate(map[string]any{"name": name, "power_state": power})
			created := func(r emulator.Request) bool { return r.Method == "POST" && r.Status == 201 }
			p.resetRequests()
			resp := p.stopWhen(created, func() *tfprotov6.ApplyResourceChangeResponse {
				return p.apply(held{state: p.dynamic(p.resourceType(), nil)}, plan)
			})
			requireNoErrors(t, "the interrupted create", resp.Diagnostics)
			if !hasWarning(resp.Diagnostics, "was created", "interrupted", "not tainted") {
				t.Errorf("the interrupted create does not warn that the wait was interrupted:\n%s", diagText(resp.Diagnostics))
			}
			p.requireConsistent(plan.PlannedState, resp.NewState)
			got := p.object(p.resourceType(), resp.NewState)
			id := mustID(t, got["id"])
			t.Cleanup(func() { p.deleteServer(id) })
			if got["status"] != emulator.StatusProvisioning {
				t.Errorf("the interrupted create saved status %v; want provisioning, as the API last showed it", got["status"])
			}
		})
	}
}

// Ctrl-C while a destroy waits for the server to disappear: the error says
// that the server was deleted and the wait interrupted, not that the
// server did not disappear.
func TestProtocolPlan_anInterruptedDeleteWaitSaysSo(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("a delete the API shows late (SetConsistencyLag)")
	server := p.seedServers(serverSpec{name: "going"})[0]
	h := p.importServer(server.ID)
	emu.SetConsistencyLag(time.Hour)
	// Interrupted once the wait has begun: a look at the server (a GET, or
	// a list) after the DELETE. Interrupted when the DELETE arrives, the
	// provider may not have read its answer yet, and the destroy fails on
	// the DELETE instead.
	waiting := func(r emulator.Request) bool {
		look := r.Method == "GET" && (r.Route == emulator.RouteServer || r.Route == emulator.RouteServers)
		return look && slices.ContainsFunc(emu.Requests(), func(d emulator.Request) bool {
			return d.Method == "DELETE" && d.Time.Before(r.Time)
		})
	}
	resp := p.stopWhen(waiting, func() *tfprotov6.ApplyResourceChangeResponse {
		resp, err := p.server.ApplyResourceChange(p.t.Context(), &tfprotov6.ApplyResourceChangeRequest{
			TypeName: serverType, PriorState: h.state, PlannedState: p.dynamic(p.resourceType(), nil),
			Config: p.dynamic(p.resourceType(), nil), PlannedPrivate: h.private,
		})
		requireNoRPCError(t, "ApplyResourceChange", err)
		return resp
	})
	expectError(t, "the interrupted destroy", resp.Diagnostics, nil,
		fmt.Sprintf(`^Server %d was deleted; the wait for it to disappear was interrupted: `, server.ID))
}

// Ctrl-C while an update waits for a reboot: the apply fails, and the state
// shows the status the API shows (the reboot under way), nothing unknown.
// A reboot that failed is still owed, as a refused one is: the state keeps
// the old reboot_trigger, and applying the new one again sends it again.
func TestProtocolPlan_anInterruptedRebootSavesWhatTheAPIShows(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("a reboot that outlasts the interrupt (SetTransitionTime)")
	server := p.seedServers(serverSpec{name: "rebooting"})[0]
	h := p.applied(p.importServer(server.ID), p.planUpdate(p.importServer(server.ID), map[string]any{"reboot_trigger": "v1"}))
	plan := p.planUpdate(h, map[string]any{"reboot_trigger": "v2"})
	emu.SetTransitionTime(time.Hour)
	p.resetRequests()
	rebooted := func(r emulator.Request) bool {
		return r.Method == "POST" && r.Route == emulator.RouteReboot && r.Status >= 200 && r.Status < 300
	}
	resp := p.stopWhen(rebooted, func() *tfprotov6.ApplyResourceChangeResponse { return p.apply(h, plan) })
	expectError(t, "the interrupted reboot", resp.Diagnostics, nil, fmt.Sprintf(`^Unable to reboot server %d`, server.ID))
	p.requireKnown("the interrupted reboot", resp.NewState)
	got := p.object(p.resourceType(), resp.NewState)
	if got["reboot_trigger"] != "v1" || got["status"] != emulator.StatusRebooting {
		t.Errorf("the interrupted reboot saved reboot_trigger %v, status %v; want v1 (still owed) and rebooting", got["reboot_trigger"], got["status"])
	}
}
