package provider

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// An import block names a server by identity (Terraform 1.12 and later) or
// by its string id (terraform import, an import block's id): either way the
// import, then the read Terraform does next, give the server's whole state
// and its identity.
func TestProtocolImport_byIdentityOrStringID(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	server := p.seedServers(serverSpec{name: "imported", hostname: "imported.example.com"})[0]
	for _, tc := range []struct {
		name     string
		id       string
		identity any // the identity's id; nil sends no identity
	}{
		{name: "identity", identity: server.ID},
		{name: "string id", id: fmt.Sprint(server.ID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			imp := p.importState(tc.id, tc.identity)
			requireNoErrors(t, "ImportResourceState", imp.Diagnostics)
			if len(imp.ImportedResources) != 1 {
				t.Fatalf("imported %d resources, want 1", len(imp.ImportedResources))
			}
			imported := imp.ImportedResources[0]
			if imported.TypeName != serverType {
				t.Errorf("imported a %s, want %s", imported.TypeName, serverType)
			}
			if got := p.object(p.resourceType(), imported.State)["id"]; got != fmt.Sprint(server.ID) {
				t.Errorf("the imported state has id %v, want %q", got, fmt.Sprint(server.ID))
			}

			state, newIdentity := p.read(imported.State, imported.Identity)
			if got := p.identityID(newIdentity); got != server.ID {
				t.Errorf("identity after the read has id %v, want %d", got, server.ID)
			}
			got := p.object(p.resourceType(), state)
			want := map[string]any{
				"id": fmt.Sprint(server.ID), "name": server.Name, "hostname": "imported.example.com",
				"plan_id": int64(1), "os_id": int64(5), "location": "us-west",
				"status": "active", "power_state": "running",
				// Values only configuration sets: an import leaves them as a
				// configuration without them would.
				"backups_enabled": false, "shutdown_before_delete": false,
				"ssh_key_id": nil, "reboot_trigger": nil, "timeouts": nil,
			}
			for name, w := range want {
				if !reflect.DeepEqual(got[name], w) {
					t.Errorf("after import and read, %s = %#v, want %#v", name, got[name], w)
				}
			}
		})
	}
}

// An import of something that is not a server id fails on the attribute
// that named it, before any request.
func TestProtocolImport_badIDsFailWithoutARequest(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	for _, tc := range []struct {
		name     string
		id       string
		identity any
	}{
		{name: "word", id: "web"},
		{name: "zero", id: "0"},
		{name: "negative", id: "-12"},
		{name: "fraction", id: "12.5"},
		{name: "identity zero", identity: 0},
		{name: "identity negative", identity: -12},
		{name: "identity unknown", identity: unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			resp := p.importState(tc.id, tc.identity)
			// An import has no attribute to point at: the message names the id.
			expectError(t, "the import", resp.Diagnostics, nil, `^Invalid server id to import: The id to import, ".*", is not a server id`)
		})
	}
	p.expectNoRequests("imports of bad ids")
}

// State written by a release without identity (or by Terraform before
// 1.12) gains the identity on its next refresh, and nothing else changes.
func TestProtocolRead_stateWithoutIdentityGainsIt(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	server := p.seedServers(serverSpec{name: "old-state"})[0]
	released := p.serveProvider(withoutIdentity{&vpsorgProvider{version: "test", tune: fastPolling}}, p.token)
	// The release refreshes its state: an id, as an import leaves it.
	state, oldIdentity := released.read(released.dynamic(released.resourceType(), map[string]any{"id": fmt.Sprint(server.ID)}), nil)
	if oldIdentity != nil {
		t.Fatalf("the release without identity sent one: %v", released.decode(p.identity, oldIdentity.IdentityData))
	}

	refreshed, identity := p.read(state, nil)
	if got := p.identityID(identity); got != server.ID {
		t.Errorf("identity after refreshing state without one has id %v, want %d", got, server.ID)
	}
	before, after := p.object(p.resourceType(), state), p.object(p.resourceType(), refreshed)
	delete(before, "resource_usage") // the API's live figures
	delete(after, "resource_usage")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("refreshing changed the state:\nbefore %v\nafter  %v", before, after)
	}
}

// A server deleted outside Terraform leaves state on the next refresh, with
// or without an identity in state, and the refresh does not fail: the plan
// then creates it again.
func TestProtocolRead_deletedServerLeavesState(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	server := p.seedServers(serverSpec{name: "gone"})[0]
	state, identity := p.importAndRead(fmt.Sprint(server.ID), nil)
	ctx, cancel := p.ctx()
	defer cancel()
	if err := p.client.DeleteServer(ctx, server.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.client.WaitForDeleted(ctx, server.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		identity *tfprotov6.ResourceIdentityData
	}{
		{"with identity", identity},
		{"without identity", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			resp, err := p.server.ReadResource(t.Context(), &tfprotov6.ReadResourceRequest{
				TypeName: serverType, CurrentState: state, CurrentIdentity: tc.identity,
			})
			requireNoRPCError(t, "ReadResource", err)
			requireNoErrors(t, "reading a deleted server", resp.Diagnostics)
			if got := p.decode(p.resourceType(), resp.NewState); got != nil {
				t.Errorf("reading a deleted server kept it in state: %v", got)
			}
		})
	}
}
