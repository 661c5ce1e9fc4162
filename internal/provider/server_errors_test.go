package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// The resource's error paths, one API failure each, driven by calling its
// methods as the framework would, against the emulator in process with a
// fault injected. Each asserts what the user is left with: the error, what
// stays in state, and what was (not) sent after the failure.

const needsFaults = "needs the emulator's InjectFault hook: the API cannot be made to fail on demand"

// faultEnv is a test environment holding one running server, made behind
// the API's back so that the request log starts empty.
func faultEnv(t *testing.T, opts ...func(*emulator.Options)) (*testEnv, *emulator.Emulator, *serverResource, int64) {
	t.Helper()
	env := newTestEnv(t, opts...)
	emu := env.requireEmulator(needsFaults)
	srv, err := emu.AddServer("acc", emulator.ServerSpec{Name: "web", Status: emulator.StatusActive,
		PlanID: catalog.plans[0], OSID: catalog.systems[0], Location: catalog.locations[0]})
	if err != nil {
		t.Fatal(err)
	}
	return env, emu, &serverResource{client: env.client}, srv.ID
}

// serverState is a resource state (or plan) of r's schema with attrs set
// and everything else null.
func serverState(t *testing.T, r *serverResource, attrs map[string]any) tfsdk.State {
	t.Helper()
	ctx := context.Background()
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	st := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
	for name, v := range attrs {
		if d := st.SetAttribute(ctx, path.Root(name), v); d.HasError() {
			t.Fatal(d)
		}
	}
	return st
}

// expectOneError checks diags hold exactly one error, whose summary and
// detail match pattern.
func expectOneError(t *testing.T, diags diag.Diagnostics, pattern string) diag.Diagnostic {
	t.Helper()
	errs := diags.Errors()
	if len(errs) != 1 {
		t.Fatalf("want one error matching %q, got %v", pattern, diags)
	}
	if text := errs[0].Summary() + "\n" + errs[0].Detail(); !regexp.MustCompile(pattern).MatchString(text) {
		t.Fatalf("error %q does not match %q", text, pattern)
	}
	return errs[0]
}

// A refresh that cannot read the server reports the error and keeps the
// server in state: only a 404 says it is gone. Dropping it on any error
// would make the next apply create a second server.
func TestServerResource_readKeepsTheServerUnlessTheAPISaysItIsGone(t *testing.T) {
	cases := []struct {
		name    string
		break_  func(emu *emulator.Emulator, id int64)
		within  time.Duration // the refresh's deadline; 0 for none
		wantErr string        // "" for none
		gone    bool
	}{
		{name: "500, outlasting the retries", break_: func(emu *emulator.Emulator, _ int64) {
			emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1000, Status: 500})
		}, wantErr: `(?s)Unable to read server \d+.*HTTP 500`},
		{name: "401", break_: func(emu *emulator.Emulator, _ int64) {
			emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Status: 401})
		}, wantErr: `(?s)Unable to read server \d+: the API token was refused.*HTTP 401`},
		{name: "no answer before the deadline", break_: func(emu *emulator.Emulator, _ int64) {
			emu.SetLatency(time.Minute)
		}, within: 300 * time.Millisecond, wantErr: `(?s)Unable to read server \d+.*(deadline|no answer)`},
		{name: "404: gone", break_: func(emu *emulator.Emulator, id int64) { emu.DeleteServer(id) }, gone: true},
		{name: "found", break_: func(*emulator.Emulator, int64) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, emu, r, id := faultEnv(t)
			state := serverState(t, r, map[string]any{"id": fmt.Sprint(id), "name": "web"})
			tc.break_(emu, id)
			ctx := context.Background()
			if tc.within > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.within)
				defer cancel()
			}

			resp := resource.ReadResponse{State: state}
			r.Read(ctx, resource.ReadRequest{State: state}, &resp)

			if tc.wantErr != "" {
				expectOneError(t, resp.Diagnostics, tc.wantErr)
			} else if resp.Diagnostics.HasError() {
				t.Fatalf("unexpected error: %v", resp.Diagnostics)
			}
			if gone := resp.State.Raw.IsNull(); gone != tc.gone {
				t.Errorf("removed from state = %v, want %v", gone, tc.gone)
			}
		})
	}
}

// A PATCH the API refuses ends the update: the error lands on the field
// the API named, and no power action follows it.
func TestServerResource_refusedPatchEndsTheUpdate(t *testing.T) {
	env, emu, r, id := faultEnv(t)
	emu.InjectFault(emulator.Fault{Method: http.MethodPatch, Route: emulator.RouteServer, Status: 400,
		Body: `{"name": ["Ensure this field has no more than 64 characters."]}`})
	state := serverState(t, r, map[string]any{"id": fmt.Sprint(id), "name": "web", "power_state": powerRunning})
	plan := serverState(t, r, map[string]any{"id": fmt.Sprint(id), "name": "web-renamed", "power_state": powerStopped})

	resp := resource.UpdateResponse{State: state}
	r.Update(context.Background(), resource.UpdateRequest{State: state, Plan: tfsdk.Plan(plan)}, &resp)

	d := expectOneError(t, resp.Diagnostics, `(?s)Unable to update server \d+.*HTTP 400.*no more than 64 characters`)
	if wp, ok := d.(diag.DiagnosticWithPath); !ok || !wp.Path().Equal(path.Root("name")) {
		t.Errorf("the error is not on name: %v", d)
	}
	if n := env.sent(requests{route: routeStop}); n != 0 {
		t.Errorf("a stop was sent %d times after the refused PATCH", n)
	}
	if srv, _ := emu.Server(id); srv.Status != emulator.StatusActive || srv.Name != "web" {
		t.Errorf("the server changed: %+v", srv)
	}
}

// The PUT/PATCH answer is undocumented. Answered with the server, the
// update takes the state from it; answered with {} or with part of the
// server, from a GET after it.
// Either way the state is the server as the API now shows it, and a GET
// that fails then is the update's error.
func TestServerResource_updateReadsBackWhatTheAnswerDoesNotShow(t *testing.T) {
	cases := []struct {
		name      string
		empty     bool
		partial   bool // answered 200 with only id and name
		failGET   bool
		wantGETs  int
		wantError string
	}{
		{name: "answered with the server: no read-back", wantGETs: 0},
		{name: "answered with {}: read back", empty: true, wantGETs: 1},
		{name: "answered with part of the server: read back", partial: true, wantGETs: 1},
		{name: "answered with {}, read-back fails past its retries", empty: true, failGET: true, wantGETs: 5,
			wantError: `(?s)Unable to read server \d+ after changing it.*HTTP 500`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, emu, r, id := faultEnv(t, func(o *emulator.Options) { o.EmptyUpdateAnswer = tc.empty })
			if tc.partial {
				emu.InjectFault(emulator.Fault{Method: http.MethodPatch, Route: emulator.RouteServer, Status: 200, AfterAction: true,
					Body: fmt.Sprintf(`{"id": %d, "name": "web-renamed"}`, id)})
			}
			if tc.failGET {
				emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1000, Status: 500})
			}
			state := serverState(t, r, map[string]any{"id": fmt.Sprint(id), "name": "web"})
			// As Terraform plans a rename: what the apply reads back is unknown.
			plan := serverState(t, r, map[string]any{"id": fmt.Sprint(id), "name": "web-renamed",
				"status": types.StringUnknown(), "power_state": types.StringUnknown(), "updated_at": types.StringUnknown()})

			resp := resource.UpdateResponse{State: state}
			r.Update(context.Background(), resource.UpdateRequest{State: state, Plan: tfsdk.Plan(plan)}, &resp)

			if n := env.sent(requests{route: "GET " + emulator.RouteServer}); n != tc.wantGETs {
				t.Errorf("%d GETs after the PATCH, want %d", n, tc.wantGETs)
			}
			if tc.wantError != "" {
				expectOneError(t, resp.Diagnostics, tc.wantError)
				return
			}
			if resp.Diagnostics.HasError() {
				t.Fatal(resp.Diagnostics)
			}
			var got serverResourceModel
			resp.Diagnostics.Append(resp.State.Get(context.Background(), &got)...)
			if got.Name.ValueString() != "web-renamed" || got.Status.ValueString() != emulator.StatusActive ||
				got.PlanID.ValueInt64() != catalog.plans[0] || got.Location.ValueString() != catalog.locations[0] {
				t.Errorf("state after the update: name %s, status %s, plan %s, location %s; want the server as the API shows it",
					got.Name, got.Status, got.PlanID, got.Location)
			}
		})
	}
}

// A DELETE that fails past its retries (one 500 is ridden) is the
// destroy's error and leaves the server; a 404
// means it is already gone, which is what destroy wants; a server deleted
// whose disappearance cannot be checked is an error that says so.
func TestServerResource_deleteErrors(t *testing.T) {
	cases := []struct {
		name      string
		fault     emulator.Fault
		wantError string // "" for none
		exists    bool
		deletes   int // DELETEs sent: a 500 is retried, a 404 is an answer
	}{
		{name: "DELETE answered 500 past its retries", fault: emulator.Fault{Method: http.MethodDelete, Route: emulator.RouteServer, Count: 1000, Status: 500},
			wantError: `(?s)Unable to delete server \d+.*HTTP 500`, exists: true, deletes: 5},
		{name: "DELETE answered 500 once", fault: emulator.Fault{Method: http.MethodDelete, Route: emulator.RouteServer, Status: 500}, deletes: 2},
		{name: "DELETE answered 404", fault: emulator.Fault{Method: http.MethodDelete, Route: emulator.RouteServer, Status: 404}, exists: true, deletes: 1},
		{name: "the wait after it fails", fault: emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1000, Status: 500},
			wantError: `(?s)Server \d+ was deleted but did not disappear.*HTTP 500`, deletes: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, emu, r, id := faultEnv(t)
			emu.InjectFault(tc.fault)
			state := serverState(t, r, map[string]any{"id": fmt.Sprint(id), "name": "web"})

			var resp resource.DeleteResponse
			r.Delete(context.Background(), resource.DeleteRequest{State: state}, &resp)

			if tc.wantError != "" {
				expectOneError(t, resp.Diagnostics, tc.wantError)
			} else if resp.Diagnostics.HasError() {
				t.Fatalf("unexpected error: %v", resp.Diagnostics)
			}
			if _, exists := emu.Server(id); exists != tc.exists {
				t.Errorf("server exists = %v after the delete, want %v", exists, tc.exists)
			}
			if n := env.sent(requests{route: "DELETE " + emulator.RouteServer}); n != tc.deletes {
				t.Errorf("DELETE sent %d times, want %d", n, tc.deletes)
			}
		})
	}
}

// A create answered 303 See Other was carried out (RFC 9110): like a lost
// answer, it is looked for and the server adopted, never sent again.
func TestCreateServer_a303IsLookedForAndAdopted(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator(needsFaults)
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Status: http.StatusSeeOther, AfterAction: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	made, err := createServer(ctx, env.client, serverSpec{name: "see-other"}.request(env))
	if err != nil {
		t.Fatalf("createServer: %v", err)
	}
	if made.Name != env.name("see-other") {
		t.Errorf("adopted %q, want %q", made.Name, env.name("see-other"))
	}
	if n := env.sent(requests{route: routeCreate}); n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
}

// A create whose answer is lost is never sent again: the provider looks
// for the server it may have made. When every list of that search fails,
// whether a server was made stays open: the error says both failures and
// leaves a placeholder (unresolvedError), never "none was made", and
// nothing more is sent.
func TestCreateServer_failedSearchAfterALostAnswer(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator(needsFaults)
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Status: 500, AfterAction: true})
	emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Status: 500, Count: 1000})
	// The search's own floor (adoptionSearchMin) outlasts this deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	_, err := createServer(ctx, env.client, serverSpec{name: "lost"}.request(env))

	var unresolved *unresolvedError
	if !errors.As(err, &unresolved) || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), "listing servers failed too") {
		t.Fatalf("error = %v, want an unresolved create naming the lost create and the failed lists", err)
	}
	if n := env.sent(requests{route: routeCreate}); n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
	if n := env.sent(requests{route: "GET " + emulator.RouteServers}); n < 2 {
		t.Errorf("the search listed %d times, want it to keep looking", n)
	}
}
