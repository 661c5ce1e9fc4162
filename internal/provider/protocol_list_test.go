package provider

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// found is one list result as Terraform shows it: the identity's id and
// the display name, and the resource object when asked for.
type found struct {
	id       any
	name     string
	resource map[string]any
}

// results decodes list results, failing on any diagnostic, and keeps those
// of this test's servers: against an endpoint from the environment the
// account is shared, and only names with the test's prefix count.
func (p *protoEnv) results(all []tfprotov6.ListResourceResult) []found {
	p.t.Helper()
	var own []found
	for _, r := range all {
		requireNoErrors(p.t, "a list result", r.Diagnostics)
		if !strings.HasPrefix(r.DisplayName, p.prefix) {
			if p.emulator != nil {
				p.t.Errorf("the list found %q, which this test did not make, in an account of its own", r.DisplayName)
			}
			continue
		}
		f := found{id: p.identityID(r.Identity), name: r.DisplayName}
		if r.Resource != nil {
			f.resource = p.object(p.resourceType(), r.Resource)
		}
		own = append(own, f)
	}
	return own
}

// Terraform validates a list block's config before the query: a status the
// API does not know, or an empty location, fails on its attribute, naming
// what is allowed; unset and unknown filters pass.
func TestProtocolListResource_validation(t *testing.T) {
	t.Parallel()
	p := startProtocolServer(t)
	p.testEnv = &testEnv{t: t}
	for _, tc := range []struct {
		name   string
		config map[string]any
		at     string // the attribute of the error; "" for none
		want   string
	}{
		{name: "no filters", config: nil},
		{name: "unknown filters", config: map[string]any{"status": unknown, "location": unknown}},
		{name: "location", config: map[string]any{"location": "us-west"}},
		{name: "status and location", config: map[string]any{"status": "stopped", "location": "us-east"}},
		{name: "status not one of the API's", config: map[string]any{"status": "on"},
			at: "status", want: `value must be one of: \["provisioning" "active" "stopped" "suspended".*got: "on"`},
		{name: "status in capitals", config: map[string]any{"status": "ACTIVE"}, at: "status", want: `value must be one of`},
		{name: "empty location", config: map[string]any{"location": ""}, at: "location", want: `length must be at least 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			resp, err := p.server.ValidateListResourceConfig(t.Context(), &tfprotov6.ValidateListResourceConfigRequest{
				TypeName: serverType,
				Config:   p.dynamic(p.listConfigType(), tc.config),
			})
			requireNoRPCError(t, "ValidateListResourceConfig", err)
			if tc.at == "" {
				requireNoErrors(t, "validating "+tc.name, resp.Diagnostics)
				return
			}
			expectError(t, "validating "+tc.name, resp.Diagnostics, attrPath(tc.at), tc.want)
		})
	}
	for _, status := range vpsorg.Statuses {
		resp, err := p.server.ValidateListResourceConfig(t.Context(), &tfprotov6.ValidateListResourceConfigRequest{
			TypeName: serverType,
			Config:   p.dynamic(p.listConfigType(), map[string]any{"status": status}),
		})
		requireNoRPCError(t, "ValidateListResourceConfig", err)
		requireNoErrors(t, "the status filter "+status, resp.Diagnostics)
	}
}

// The filters reach the API as query parameters, every page of its answer
// is read, and each result is a server's identity and name, without the
// resource object Terraform did not ask for.
func TestProtocolListResource_filtersAndEveryPage(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	if emu := p.emulator; emu != nil {
		emu.SetPageSize(2)
	}
	fleet := p.seedServers(
		serverSpec{name: "west-1"},
		serverSpec{name: "west-2"},
		serverSpec{name: "west-3"},
		serverSpec{name: "west-off", stopped: true},
		serverSpec{name: "east-1", location: "us-east"},
	)
	names := map[int64]string{}
	for _, s := range fleet {
		names[s.ID] = s.Name
	}
	west1, west2, west3, westOff, east1 := fleet[0].ID, fleet[1].ID, fleet[2].ID, fleet[3].ID, fleet[4].ID
	for _, tc := range []struct {
		name   string
		config map[string]any
		want   []int64
		pages  int // pages of the API's answer, in process (page size 2)
	}{
		{name: "no filters", want: []int64{west1, west2, west3, westOff, east1}, pages: 3},
		{name: "active in us-west", config: map[string]any{"status": "active", "location": "us-west"}, want: []int64{west1, west2, west3}, pages: 2},
		{name: "us-east", config: map[string]any{"location": "us-east"}, want: []int64{east1}, pages: 1},
		{name: "stopped", config: map[string]any{"status": "stopped"}, want: []int64{westOff}, pages: 1},
		{name: "stopped in us-east", config: map[string]any{"status": "stopped", "location": "us-east"}, pages: 1},
	} {
		p.resetRequests()
		var got []int64
		for _, f := range p.results(p.list(listRequest{config: tc.config})) {
			id, _ := f.id.(int64)
			got = append(got, id)
			if f.name != names[id] {
				t.Errorf("%s: server %v has display name %q, want its name %q", tc.name, f.id, f.name, names[id])
			}
			if f.resource != nil {
				t.Errorf("%s: server %v came with a resource object Terraform did not ask for", tc.name, f.id)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: found servers %v, want %v, in order of id", tc.name, got, tc.want)
		}
		err := p.onEmulator("that every page was read, with the filters as query parameters, and no server alone (the emulator's request log)", func(emu *emulator.Emulator) error {
			return expectListPages(emu, tc.config, tc.pages)
		})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// expectListPages checks that the request log holds only GETs of the list,
// each with the filters of config, one for each of pages pages.
func expectListPages(emu *emulator.Emulator, config map[string]any, pages int) error {
	var got []string
	for _, r := range emu.Requests() {
		if r.Method != "GET" || r.Route != emulator.RouteServers {
			return fmt.Errorf("the list sent %s %s", r.Method, r.Path)
		}
		q, err := url.ParseQuery(r.RawQuery)
		if err != nil {
			return err
		}
		for _, filter := range []string{"status", "location"} {
			want, _ := config[filter].(string)
			if q.Get(filter) != want {
				return fmt.Errorf("the list asked for %s=%q, want %q", filter, q.Get(filter), want)
			}
		}
		got = append(got, q.Get("page"))
	}
	want := []string{""}
	for page := 2; page <= pages; page++ {
		want = append(want, fmt.Sprint(page))
	}
	if pages > 1 {
		// A list of several pages is read twice, to see it hold still.
		want = append(want, want...)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("pages read %q, want %q", got, want)
	}
	return nil
}

// With include_resource (which -generate-config-out implies) each result
// carries the server as the resource reads it: the detail view, one GET a
// result, with power_state left null so that configuration generated from
// it adopts the server without managing its power.
func TestProtocolListResource_includeResourceIsTheDetailView(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	fleet := p.seedServers(
		serverSpec{name: "db", planID: 2, osID: 3, location: "us-east", hostname: "db.example.com", backups: true},
		serverSpec{name: "off", location: "us-east", stopped: true},
	)
	db, off := fleet[0], fleet[1]
	results := p.results(p.list(listRequest{config: map[string]any{"location": "us-east"}, includeResource: true}))
	if len(results) != 2 {
		t.Fatalf("found %d servers, want 2: %v", len(results), results)
	}
	for i, want := range []struct {
		server   vpsorg.Server
		hostname any
		plan, os int64
		backups  bool
		status   string
	}{
		{db, "db.example.com", 2, 3, true, "active"},
		{off, hostnameOf(off), 1, 5, false, "stopped"},
	} {
		got := results[i].resource
		if got == nil {
			t.Fatalf("%s came without its resource object", want.server.Name)
		}
		for name, w := range map[string]any{
			"id": fmt.Sprint(want.server.ID), "name": want.server.Name, "hostname": want.hostname,
			"plan_id": want.plan, "os_id": want.os, "location": "us-east", "status": want.status,
			// Only the detail view has backups_enabled.
			"backups_enabled": want.backups,
			// Configuration generated from the object leaves power alone.
			"power_state": nil,
			// What only configuration sets, as a configuration without it.
			"ssh_key_id": nil, "reboot_trigger": nil, "timeouts": nil,
		} {
			if !reflect.DeepEqual(got[name], w) {
				t.Errorf("%s: %s = %#v, want %#v", want.server.Name, name, got[name], w)
			}
		}
		if plan, _ := got["plan"].(map[string]any); plan["bandwidth"] == nil {
			t.Errorf("%s: plan.bandwidth is null; the detail view has it", want.server.Name)
		}
	}
	if results[0].resource["ipv6_address"] == nil {
		t.Errorf("%s: ipv6_address is null; the detail view of an active server has it", db.Name)
	}
	err := p.onEmulator("one GET of a single server a result (the emulator's request log)", func(*emulator.Emulator) error {
		if n := p.sent(requests{route: "GET " + emulator.RouteServer}); n != 2 {
			return fmt.Errorf("GETs of single servers = %d, want 2, one a result", n)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// hostnameOf is the hostname the API reports for a server made without one:
// the documentation leaves it to the API.
func hostnameOf(s vpsorg.Server) any {
	if s.Hostname == nil {
		return nil
	}
	return *s.Hostname
}

// Terraform's limit (the list block's limit argument) caps the results, the
// lowest ids first, and a result not sent costs no GET.
func TestProtocolListResource_limit(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	fleet := p.seedServers(serverSpec{name: "a"}, serverSpec{name: "b"}, serverSpec{name: "c"})
	for _, tc := range []struct {
		limit           int64
		includeResource bool
		want            int
	}{
		{limit: 1, want: 1},
		{limit: 2, want: 2},
		{limit: 2, includeResource: true, want: 2},
		{limit: 5, want: 3},
		{limit: 0, want: 3}, // no limit
	} {
		p.resetRequests()
		all := p.list(listRequest{limit: tc.limit, includeResource: tc.includeResource})
		what := fmt.Sprintf("limit %d, include_resource %v", tc.limit, tc.includeResource)
		if p.emulator == nil {
			// A shared account holds this test's three servers and maybe
			// others, which come and go.
			low := int64(3)
			if tc.limit > 0 {
				low = min(tc.limit, 3)
			}
			if n := int64(len(all)); n < low || tc.limit > 0 && n > tc.limit {
				t.Errorf("%s: %d results, want at least %d and at most the limit", what, n, low)
			}
			p.notChecked("which servers a limited list returns (in an account of the test's own, the lowest ids)")
			continue
		}
		var got []int64
		for _, f := range p.results(all) {
			got = append(got, f.id.(int64))
		}
		var want []int64
		for _, s := range fleet[:tc.want] {
			want = append(want, s.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: found %v, want %v", what, got, want)
		}
		gets := 0
		if tc.includeResource {
			gets = tc.want
		}
		if n := p.sent(requests{route: "GET " + emulator.RouteServer}); n != gets {
			t.Errorf("%s: %d GETs of single servers, want %d", what, n, gets)
		}
	}
}

// When Terraform stops reading the stream, the list stops: no GET for a
// result nobody will read.
func TestProtocolListResource_stopsWhenTerraformStopsReading(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("counts the GETs of single servers (the emulator's request log)")
	p.seedServers(serverSpec{name: "a"}, serverSpec{name: "b"}, serverSpec{name: "c"})
	if got := p.list(listRequest{includeResource: true, stopAfter: 1}); len(got) != 1 {
		t.Fatalf("read %d results, want 1", len(got))
	}
	if n := emu.RequestCounts()["GET "+emulator.RouteServer]; n != 1 {
		t.Errorf("GETs of single servers = %d, want 1: the list went on after Terraform stopped reading", n)
	}
}

// A list the API refuses is one result carrying the error, which names the
// operation, the HTTP status and the API's message, and never the token.
func TestProtocolListResource_refusedListIsADiagnostic(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	const token = "not-a-token-of-this-api"
	p := env.serveUnchecked(token)
	results := p.list(listRequest{})
	if len(results) != 1 {
		t.Fatalf("%d results, want 1 carrying the error", len(results))
	}
	text := expectError(t, "listing with a bad token", results[0].Diagnostics, nil, `^Unable to list servers: .*HTTP 401`)
	if strings.Contains(text, token) {
		t.Errorf("the error shows the token: %s", text)
	}
	if results[0].Identity != nil || results[0].DisplayName != "" {
		t.Errorf("the error came with a result: %q %v", results[0].DisplayName, results[0].Identity)
	}
}

// With include_resource, a server whose GET fails ends the stream with the
// error; a server deleted between the list and its GET is left out.
func TestProtocolListResource_failedOrMissingServer(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("answers a GET with 500 or 404 (the emulator's InjectFault hook)")
	fleet := p.seedServers(serverSpec{name: "a"}, serverSpec{name: "b"})

	emu.InjectFault(emulator.Fault{Method: "GET", Route: emulator.RouteServer, Count: 1000, Status: 500, Body: `{"detail": "The database is on fire."}`})
	results := p.list(listRequest{includeResource: true})
	if len(results) != 1 {
		t.Fatalf("%d results, want 1: the stream ends at the error", len(results))
	}
	expectError(t, "a failed GET", results[0].Diagnostics, nil,
		fmt.Sprintf(`^Unable to read server %d: .*HTTP 500.*The database is on fire\.`, fleet[0].ID))

	emu.ClearFaults()
	emu.InjectFault(emulator.Fault{Method: "GET", Route: emulator.RouteServer, Status: 404})
	got := p.results(p.list(listRequest{includeResource: true}))
	if len(got) != 1 || got[0].id != fleet[1].ID || got[0].resource == nil {
		t.Errorf("found %v, want only %s with its resource object: %s is gone", got, fleet[1].Name, fleet[0].Name)
	}
}

// A list that keeps changing between its page reads (the emulator's
// ListChurn) could lack a server that exists: terraform query is told, not
// handed a list without it.
func TestProtocolListResource_listThatKeepsChangingIsADiagnostic(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	emu := p.requireEmulator("changes the list between page reads (the emulator's ListChurn manner)")
	emu.SetPageSize(2)
	p.seedServers(serverSpec{name: "a"}, serverSpec{name: "b"}, serverSpec{name: "c"})
	emu.SetManners(emulator.Manners{ListChurn: -1})
	results := p.list(listRequest{})
	if len(results) != 1 {
		t.Fatalf("%d results, want 1 carrying the error", len(results))
	}
	expectError(t, "listing a list that keeps changing", results[0].Diagnostics, nil, `^Unable to list servers: .*changed while it was read`)
}
