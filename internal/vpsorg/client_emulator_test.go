package vpsorg_test

// Integration tests: every call goes through the real client, over HTTP, to
// the in-process emulator (internal/emulator). Together they exercise each
// of the nine endpoints and each documented status code (200, 201, 204, 400,
// 401, 402, 404), pagination across at least three pages, and the isolation
// of two tokens' accounts.
//
// Most tests drive the emulator with a frozen clock (fakeClock), so that
// statuses and timestamps are exact; the tests about waiting use the real
// clock and millisecond timings.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Two tokens, each mapped to its own account.
const (
	tokenAlpha   = "alpha-tok-4Jq8Zr"
	tokenBravo   = "bravo-tok-9Wm2Xs"
	accountAlpha = "alpha"
	accountBravo = "bravo"
)

// t0 is when the frozen clock starts; the API shows it as created_at.
var t0 = time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)

const t0Text = "2025-01-16T15:30:00Z"

// fakeClock is a frozen clock that only moves when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startEmulator starts an emulator that knows tokenAlpha and tokenBravo
// (unless opts says otherwise) and closes it when the test ends.
func startEmulator(t *testing.T, opts emulator.Options) *emulator.Emulator {
	t.Helper()
	if opts.Tokens == nil {
		opts.Tokens = map[string]string{tokenAlpha: accountAlpha, tokenBravo: accountBravo}
	}
	emu, err := emulator.Start(opts)
	if err != nil {
		t.Fatalf("emulator.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("emulator Close: %v", err)
		}
	})
	return emu
}

// startFrozen starts an emulator on a frozen clock.
func startFrozen(t *testing.T, opts emulator.Options) (*emulator.Emulator, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	opts.Now = clock.Now
	return startEmulator(t, opts), clock
}

// newClient returns a client for emu with token, quick retries and quick
// polls; edit adjusts the config.
func newClient(t *testing.T, emu *emulator.Emulator, token string, edit ...func(*vpsorg.Config)) *vpsorg.Client {
	t.Helper()
	cfg := vpsorg.Config{
		Endpoint:     emu.URL(),
		Token:        token,
		RetryMax:     3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
		Poll:         vpsorg.PollPolicy{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond, Fraction: 0.1},
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := vpsorg.New(cfg)
	if err != nil {
		t.Fatalf("vpsorg.New: %v", err)
	}
	return c
}

// testContext bounds every test, so that a hang fails instead of stalling.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// addServer creates a server behind the API's back; zero plan, OS and
// location default to plan 1, Ubuntu 22.04 (5) and us-west.
func addServer(t *testing.T, emu *emulator.Emulator, account string, spec emulator.ServerSpec) emulator.Server {
	t.Helper()
	if spec.PlanID == 0 {
		spec.PlanID = 1
	}
	if spec.OSID == 0 {
		spec.OSID = 5
	}
	if spec.Location == "" {
		spec.Location = "us-west"
	}
	s, err := emu.AddServer(account, spec)
	if err != nil {
		t.Fatalf("AddServer(%q, %+v): %v", account, spec, err)
	}
	return s
}

// snapshot returns the emulator's view of server id, failing if it is gone.
func snapshot(t *testing.T, emu *emulator.Emulator, id int64) emulator.Server {
	t.Helper()
	s, ok := emu.Server(id)
	if !ok {
		t.Fatalf("server %d no longer exists in the emulator", id)
	}
	return s
}

// wantAPIError asserts that err is an *vpsorg.APIError with status.
func wantAPIError(t *testing.T, err error, status int) *vpsorg.APIError {
	t.Helper()
	var apiErr *vpsorg.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v (%T), want a *vpsorg.APIError with HTTP %d", err, err, status)
	}
	if apiErr.StatusCode != status {
		t.Fatalf("StatusCode = %d, want %d (error: %v)", apiErr.StatusCode, status, err)
	}
	return apiErr
}

// requestsTo returns the logged requests with method on route.
func requestsTo(emu *emulator.Emulator, method, route string) []emulator.Request {
	var out []emulator.Request
	for _, r := range emu.Requests() {
		if r.Method == method && r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// statusesOf lists the statuses the client got, in order.
func statusesOf(reqs []emulator.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
	}
	return out
}

// count is RequestCounts for one method and route.
func count(emu *emulator.Emulator, method, route string) int {
	return emu.RequestCounts()[method+" "+route]
}

func sortedIDs(servers []vpsorg.Server) []int64 {
	ids := make([]int64, len(servers))
	for i, s := range servers {
		ids[i] = s.ID
	}
	slices.Sort(ids)
	return ids
}

func ptr[T any](v T) *T { return &v }

// show formats an emulator snapshot with its pointers followed.
func show(s emulator.Server) string {
	return fmt.Sprintf("{id %d account %q name %q hostname %v status %q ip %v ipv6 %v location %q plan %d os %d backups %v created %s updated %s}",
		s.ID, s.Account, s.Name, deref(s.Hostname), s.Status, deref(s.IPAddress), deref(s.IPv6Address), s.Location,
		s.PlanID, s.OSID, s.BackupsEnabled, s.CreatedAt.Format(time.RFC3339), s.UpdatedAt.Format(time.RFC3339))
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func fieldNames(fields map[string][]string) []string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// ---------------------------------------------------------------------------
// 1. List servers — GET servers/ → 200

// The API documents only active, stopped and suspended as status filter
// values; the emulator is strict about them, as such an API is. Any other
// status is filtered by the client.
func TestClient_ListServersAppliesStatusAndLocationFiltersAsQueryParameters(t *testing.T) {
	emu, _ := startFrozen(t, emulator.Options{StrictFilters: true})
	c := newClient(t, emu, tokenAlpha)
	web1 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-1", Status: "active", Location: "us-west"})
	web2 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-2", Status: "stopped", Location: "us-west"})
	db1 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "db-1", Status: "active", Location: "us-east", PlanID: 2, OSID: 3})
	db2 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "db-2", Status: "suspended", Location: "us-east"})
	db3 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "db-3", Status: "provisioning", Location: "us-east"})

	tests := []struct {
		name      string
		opts      vpsorg.ListServersOptions
		wantQuery url.Values
		wantIDs   []int64
	}{
		{"no filter lists every server", vpsorg.ListServersOptions{},
			url.Values{}, []int64{web1.ID, web2.ID, db1.ID, db2.ID, db3.ID}},
		{"status=active", vpsorg.ListServersOptions{Status: "active"},
			url.Values{"status": {"active"}}, []int64{web1.ID, db1.ID}},
		{"status=stopped", vpsorg.ListServersOptions{Status: "stopped"},
			url.Values{"status": {"stopped"}}, []int64{web2.ID}},
		{"status=suspended", vpsorg.ListServersOptions{Status: "suspended"},
			url.Values{"status": {"suspended"}}, []int64{db2.ID}},
		{"location=us-east", vpsorg.ListServersOptions{Location: "us-east"},
			url.Values{"location": {"us-east"}}, []int64{db1.ID, db2.ID, db3.ID}},
		{"status=provisioning, not a filter value, is filtered by the client", vpsorg.ListServersOptions{Status: "provisioning"},
			url.Values{}, []int64{db3.ID}},
		{"status=rebooting with a location sends only the location", vpsorg.ListServersOptions{Status: "rebooting", Location: "us-east"},
			url.Values{"location": {"us-east"}}, []int64{}},
		{"status and location combined", vpsorg.ListServersOptions{Status: "active", Location: "us-east"},
			url.Values{"status": {"active"}, "location": {"us-east"}}, []int64{db1.ID}},
		{"a filter that matches nothing gives an empty list", vpsorg.ListServersOptions{Status: "suspended", Location: "us-west"},
			url.Values{"status": {"suspended"}, "location": {"us-west"}}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(requestsTo(emu, http.MethodGet, emulator.RouteServers))
			got, err := c.ListServers(testContext(t), tt.opts)
			if err != nil {
				t.Fatalf("ListServers: %v", err)
			}
			if got == nil {
				t.Fatal("ListServers returned a nil slice")
			}
			if ids := sortedIDs(got); !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
			for _, s := range got {
				if tt.opts.Status != "" && s.Status != tt.opts.Status {
					t.Errorf("server %d has status %q, filter was %q", s.ID, s.Status, tt.opts.Status)
				}
				if tt.opts.Location != "" && s.Location != tt.opts.Location {
					t.Errorf("server %d is in %q, filter was %q", s.ID, s.Location, tt.opts.Location)
				}
			}

			reqs := requestsTo(emu, http.MethodGet, emulator.RouteServers)[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d list requests reached the API, want 1 (one page)", len(reqs))
			}
			if reqs[0].Status != http.StatusOK {
				t.Errorf("list answered %d, want 200", reqs[0].Status)
			}
			query, err := url.ParseQuery(reqs[0].RawQuery)
			if err != nil {
				t.Fatalf("RawQuery %q: %v", reqs[0].RawQuery, err)
			}
			if !reflect.DeepEqual(query, tt.wantQuery) {
				t.Errorf("query sent = %q, want %q", reqs[0].RawQuery, tt.wantQuery.Encode())
			}
		})
	}
}

func TestClient_ListServersDecodesTheListView(t *testing.T) {
	emu, _ := startFrozen(t, emulator.Options{})
	c := newClient(t, emu, tokenAlpha)
	added := addServer(t, emu, accountAlpha, emulator.ServerSpec{
		Name: "db-server-01", Hostname: ptr("db01.example.com"), PlanID: 2, OSID: 3, Location: "us-east",
		Status: "active", BackupsEnabled: true,
	})

	got, err := c.ListServers(testContext(t), vpsorg.ListServersOptions{})
	if err != nil {
		t.Fatalf("ListServers: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d servers, want 1", len(got))
	}
	s := got[0]
	if s.ID != added.ID || s.Name != "db-server-01" || deref(s.Hostname) != "db01.example.com" ||
		s.Status != "active" || s.Location != "us-east" || deref(s.IPAddress) != "203.0.113.1" {
		t.Errorf("list item = id %d name %q hostname %v status %q location %q ip %v", s.ID, s.Name, deref(s.Hostname), s.Status, s.Location, deref(s.IPAddress))
	}
	wantPlan := vpsorg.Plan{ID: 2, Name: "Performance VPS", VCPUs: 4, Memory: 8192, Storage: 160}
	if !reflect.DeepEqual(s.Plan, wantPlan) {
		t.Errorf("plan = %+v, want %+v (the list view has no bandwidth)", s.Plan, wantPlan)
	}
	if s.OS != (vpsorg.OS{ID: 3, Name: "Debian 12"}) {
		t.Errorf("os = %+v", s.OS)
	}
	// The list view omits these; the client must not invent them.
	if s.IPv6Address != nil || s.BackupsEnabled != nil || s.ResourceUsage != nil {
		t.Errorf("list item has detail-only fields: ipv6=%v backups=%v usage=%v", deref(s.IPv6Address), deref(s.BackupsEnabled), s.ResourceUsage)
	}
	if s.CreatedAt != t0Text || s.UpdatedAt != t0Text {
		t.Errorf("created_at, updated_at = %q, %q, want %q", s.CreatedAt, s.UpdatedAt, t0Text)
	}
}

func TestClient_ListServersOfAnEmptyAccountIsEmptyAndNotNil(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	c := newClient(t, emu, tokenAlpha)
	// A server of the other account must not show up either.
	addServer(t, emu, accountBravo, emulator.ServerSpec{Name: "not-yours", Status: "active"})

	got, err := c.ListServers(testContext(t), vpsorg.ListServersOptions{})
	if err != nil {
		t.Fatalf("ListServers: %v", err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("ListServers = %#v, want an empty, non-nil slice", got)
	}
	if st := statusesOf(requestsTo(emu, http.MethodGet, emulator.RouteServers)); !slices.Equal(st, []int{200}) {
		t.Errorf("list answers = %v, want [200]", st)
	}
}

// Pagination: the emulator pages with ?page=N and absolute next links; the
// client must follow them to the end and keep the filter on every page.
func TestClient_ListServersFollowsEveryPageAndReturnsEachServerOnce(t *testing.T) {
	tests := []struct {
		name      string
		opts      vpsorg.ListServersOptions
		wantPages []string // the page query value of each request, "" when absent
		active    bool     // want only the active servers
	}{
		// Each list read twice, to see that it held still.
		{"nine servers over five pages of two", vpsorg.ListServersOptions{}, []string{"", "2", "3", "4", "5", "", "2", "3", "4", "5"}, false},
		{"the status filter is kept on every page", vpsorg.ListServersOptions{Status: "active"}, []string{"", "2", "3", "4", "", "2", "3", "4"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, _ := startFrozen(t, emulator.Options{})
			emu.SetPageSize(2)
			var all, active []int64
			for i := range 7 {
				s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: fmt.Sprintf("web-%02d", i), Status: "active"})
				all, active = append(all, s.ID), append(active, s.ID)
			}
			for i := range 2 {
				s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: fmt.Sprintf("off-%02d", i), Status: "stopped", Location: "us-east"})
				all = append(all, s.ID)
			}
			// Another account's servers must not leak into any page.
			addServer(t, emu, accountBravo, emulator.ServerSpec{Name: "bravo-1", Status: "active"})
			want := all
			if tt.active {
				want = active
			}
			c := newClient(t, emu, tokenAlpha)

			got, err := c.ListServers(testContext(t), tt.opts)
			if err != nil {
				t.Fatalf("ListServers: %v", err)
			}
			if ids := sortedIDs(got); !slices.Equal(ids, want) {
				t.Errorf("ids = %v, want each of %v exactly once", ids, want)
			}

			reqs := requestsTo(emu, http.MethodGet, emulator.RouteServers)
			if n := count(emu, http.MethodGet, emulator.RouteServers); n != len(tt.wantPages) {
				t.Errorf("RequestCounts: %d list requests, want %d (one per page of each read)", n, len(tt.wantPages))
			}
			var pages []string
			distinct := map[string]bool{}
			for _, r := range reqs {
				q, err := url.ParseQuery(r.RawQuery)
				if err != nil {
					t.Fatalf("RawQuery %q: %v", r.RawQuery, err)
				}
				pages = append(pages, q.Get("page"))
				if q.Get("page") != "" {
					distinct[q.Get("page")] = true
				}
				if q.Get("status") != tt.opts.Status {
					t.Errorf("request %q lost the status filter %q", r.RawQuery, tt.opts.Status)
				}
				if r.Status != http.StatusOK {
					t.Errorf("request %q answered %d, want 200", r.RawQuery, r.Status)
				}
			}
			if !slices.Equal(pages, tt.wantPages) {
				t.Errorf("page parameters sent = %q, want %q", pages, tt.wantPages)
			}
			if len(distinct) < 3 {
				t.Errorf("only %d distinct page values %v; pagination must be proven across at least three pages", len(distinct), distinct)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 2. Create — POST servers/ → 201; 3. Get — GET servers/{id}/ → 200

func TestClient_CreateThenGetReturnsTheDetailView(t *testing.T) {
	tests := []struct {
		name          string
		req           vpsorg.CreateServerRequest
		wantPlan      vpsorg.Plan // without bandwidth
		wantBandwidth int64
		wantOS        vpsorg.OS
		wantHostname  any
		wantBackups   bool
	}{
		{
			name: "every field given",
			req: vpsorg.CreateServerRequest{Name: "web-server-01", PlanID: 1, OSID: 5, Location: "us-west",
				Hostname: ptr("web01.example.com"), BackupsEnabled: ptr(true)},
			wantPlan:      vpsorg.Plan{ID: 1, Name: "Standard VPS", VCPUs: 2, Memory: 4096, Storage: 80},
			wantBandwidth: 2048,
			wantOS:        vpsorg.OS{ID: 5, Name: "Ubuntu 22.04 LTS"},
			wantHostname:  "web01.example.com",
			wantBackups:   true,
		},
		{
			name:          "optional fields omitted: no hostname, backups off",
			req:           vpsorg.CreateServerRequest{Name: "db-server-01", PlanID: 2, OSID: 3, Location: "us-east"},
			wantPlan:      vpsorg.Plan{ID: 2, Name: "Performance VPS", VCPUs: 4, Memory: 8192, Storage: 160},
			wantBandwidth: 4096,
			wantOS:        vpsorg.OS{ID: 3, Name: "Debian 12"},
			wantHostname:  nil,
			wantBackups:   false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const provisioning = 5 * time.Second
			emu, clock := startFrozen(t, emulator.Options{ProvisioningTime: provisioning})
			c := newClient(t, emu, tokenAlpha)
			ctx := testContext(t)

			// The 201 answer: provisioning, no address yet.
			created, err := c.CreateServer(ctx, tt.req)
			if err != nil {
				t.Fatalf("CreateServer: %v", err)
			}
			if st := statusesOf(requestsTo(emu, http.MethodPost, emulator.RouteServers)); !slices.Equal(st, []int{201}) {
				t.Errorf("create answers = %v, want [201]", st)
			}
			if created.ID != 12345 { // the emulator's first id
				t.Errorf("id = %d, want 12345", created.ID)
			}
			if created.Status != vpsorg.StatusProvisioning {
				t.Errorf("status = %q, want provisioning", created.Status)
			}
			if created.IPAddress != nil {
				t.Errorf("ip_address = %q, want null while provisioning", *created.IPAddress)
			}
			if created.Name != tt.req.Name || created.Location != tt.req.Location || deref(created.Hostname) != tt.wantHostname {
				t.Errorf("name, location, hostname = %q, %q, %v", created.Name, created.Location, deref(created.Hostname))
			}
			if !reflect.DeepEqual(created.Plan, tt.wantPlan) {
				t.Errorf("plan = %+v, want %+v", created.Plan, tt.wantPlan)
			}
			if created.OS != tt.wantOS {
				t.Errorf("os = %+v, want %+v", created.OS, tt.wantOS)
			}
			if deref(created.BackupsEnabled) != tt.wantBackups {
				t.Errorf("backups_enabled = %v, want %v", deref(created.BackupsEnabled), tt.wantBackups)
			}
			if created.IPv6Address != nil || created.ResourceUsage != nil {
				t.Errorf("the create answer has no ipv6_address or resource_usage, got %v, %+v", deref(created.IPv6Address), created.ResourceUsage)
			}
			if created.CreatedAt != t0Text {
				t.Errorf("created_at = %q, want %q", created.CreatedAt, t0Text)
			}
			if s := snapshot(t, emu, created.ID); s.Account != accountAlpha || s.Name != tt.req.Name {
				t.Errorf("emulator holds %s", show(s))
			}

			// While provisioning, the detail view still has no addresses.
			got, err := c.GetServer(ctx, created.ID)
			if err != nil {
				t.Fatalf("GetServer while provisioning: %v", err)
			}
			if got.Status != vpsorg.StatusProvisioning || got.IPAddress != nil || got.IPv6Address != nil {
				t.Errorf("while provisioning: status %q ip %v ipv6 %v", got.Status, deref(got.IPAddress), deref(got.IPv6Address))
			}

			// After provisioning: the full detail view.
			clock.Advance(provisioning)
			got, err = c.GetServer(ctx, created.ID)
			if err != nil {
				t.Fatalf("GetServer: %v", err)
			}
			if got.ID != created.ID || got.Name != tt.req.Name || got.Status != vpsorg.StatusActive || got.Location != tt.req.Location {
				t.Errorf("detail = id %d name %q status %q location %q", got.ID, got.Name, got.Status, got.Location)
			}
			if deref(got.IPAddress) != "203.0.113.1" {
				t.Errorf("ip_address = %v, want 203.0.113.1", deref(got.IPAddress))
			}
			if want := fmt.Sprintf("2001:db8::%x", created.ID); deref(got.IPv6Address) != want {
				t.Errorf("ipv6_address = %v, want %s", deref(got.IPv6Address), want)
			}
			wantPlan := tt.wantPlan
			wantPlan.Bandwidth = ptr(tt.wantBandwidth)
			if !reflect.DeepEqual(got.Plan, wantPlan) {
				t.Errorf("plan = %+v (bandwidth %v), want %+v (bandwidth %d)", got.Plan, deref(got.Plan.Bandwidth), tt.wantPlan, tt.wantBandwidth)
			}
			if got.OS != tt.wantOS {
				t.Errorf("os = %+v", got.OS)
			}
			if got.BackupsEnabled == nil || *got.BackupsEnabled != tt.wantBackups {
				t.Errorf("backups_enabled = %v, want %v (present in the detail view)", deref(got.BackupsEnabled), tt.wantBackups)
			}
			if deref(got.Hostname) != tt.wantHostname {
				t.Errorf("hostname = %v, want %v", deref(got.Hostname), tt.wantHostname)
			}
			if u := got.ResourceUsage; u == nil {
				t.Error("resource_usage is missing from the detail view")
			} else if u.CPUPercent < 5 || u.CPUPercent >= 65 || u.MemoryUsed <= 0 || u.MemoryUsed > tt.wantPlan.Memory ||
				u.DiskUsed <= 0 || u.DiskUsed > tt.wantPlan.Storage {
				t.Errorf("resource_usage = %+v, implausible for a running %s", *u, tt.wantPlan.Name)
			}
			if got.CreatedAt != t0Text || got.UpdatedAt != "2025-01-16T15:30:05Z" {
				t.Errorf("created_at, updated_at = %q, %q, want %q and the end of provisioning", got.CreatedAt, got.UpdatedAt, t0Text)
			}
			if st := statusesOf(requestsTo(emu, http.MethodGet, emulator.RouteServer)); !slices.Equal(st, []int{200, 200}) {
				t.Errorf("get answers = %v, want [200 200]", st)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 4. Replace — PUT servers/{id}/ → 200; 5. Update — PATCH servers/{id}/ → 200

func TestClient_ReplaceServerChangesAllThreeFields(t *testing.T) {
	emu, clock := startFrozen(t, emulator.Options{})
	c := newClient(t, emu, tokenAlpha)
	ctx := testContext(t)
	s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-server-01", Hostname: ptr("web01.example.com"), Status: "active"})
	clock.Advance(time.Minute)

	answer, err := c.ReplaceServer(ctx, s.ID, vpsorg.ReplaceServerRequest{
		Name: "web-server-02", Hostname: "web02.example.com", BackupsEnabled: true,
	})
	if err != nil {
		t.Fatalf("ReplaceServer: %v", err)
	}
	if answer == nil {
		t.Fatal("ReplaceServer returned no server, but the emulator answers the detail view")
	}
	got, err := c.GetServer(ctx, s.ID)
	if err != nil {
		t.Fatalf("GetServer: %v", err)
	}
	for view, v := range map[string]*vpsorg.Server{"PUT answer": answer, "follow-up GET": got} {
		if v.ID != s.ID || v.Name != "web-server-02" || deref(v.Hostname) != "web02.example.com" || deref(v.BackupsEnabled) != true {
			t.Errorf("%s: id %d name %q hostname %v backups %v, want web-server-02, web02.example.com, true",
				view, v.ID, v.Name, deref(v.Hostname), deref(v.BackupsEnabled))
		}
		if v.Status != "active" || v.Location != "us-west" || v.Plan.ID != 1 {
			t.Errorf("%s: PUT changed status/location/plan: %q %q %d", view, v.Status, v.Location, v.Plan.ID)
		}
		if v.UpdatedAt != "2025-01-16T15:31:00Z" {
			t.Errorf("%s: updated_at = %q, want the time of the PUT", view, v.UpdatedAt)
		}
	}
	if n := count(emu, http.MethodPut, emulator.RouteServer); n != 1 {
		t.Errorf("%d PUTs sent, want 1", n)
	}
	if st := statusesOf(requestsTo(emu, http.MethodPut, emulator.RouteServer)); !slices.Equal(st, []int{200}) {
		t.Errorf("PUT answers = %v, want [200]", st)
	}
}

func TestClient_UpdateServerSendsOnePATCHThatChangesOnlyTheName(t *testing.T) {
	emu, clock := startFrozen(t, emulator.Options{})
	c := newClient(t, emu, tokenAlpha)
	ctx := testContext(t)
	s := addServer(t, emu, accountAlpha, emulator.ServerSpec{
		Name: "web-server-01", Hostname: ptr("web01.example.com"), Status: "active", BackupsEnabled: true,
	})
	clock.Advance(time.Minute)

	answer, err := c.UpdateServer(ctx, s.ID, vpsorg.UpdateServerRequest{Name: ptr("renamed-01")})
	if err != nil {
		t.Fatalf("UpdateServer: %v", err)
	}
	if answer == nil {
		t.Fatal("UpdateServer returned no server, but the emulator answers the detail view")
	}
	if answer.Name != "renamed-01" || deref(answer.Hostname) != "web01.example.com" {
		t.Errorf("PATCH answer: name %q hostname %v, want renamed-01 web01.example.com", answer.Name, deref(answer.Hostname))
	}
	got, err := c.GetServer(ctx, s.ID)
	if err != nil {
		t.Fatalf("GetServer: %v", err)
	}
	if got.Name != "renamed-01" {
		t.Errorf("name = %q, want renamed-01", got.Name)
	}
	if deref(got.Hostname) != "web01.example.com" {
		t.Errorf("hostname = %v, want it untouched (web01.example.com)", deref(got.Hostname))
	}
	if got.BackupsEnabled == nil || !*got.BackupsEnabled {
		t.Errorf("backups_enabled = %v, want it untouched (true)", deref(got.BackupsEnabled))
	}
	if emuView := snapshot(t, emu, s.ID); emuView.Name != "renamed-01" || deref(emuView.Hostname) != "web01.example.com" || !emuView.BackupsEnabled {
		t.Errorf("emulator holds %s", show(emuView))
	}
	if n := count(emu, http.MethodPatch, emulator.RouteServer); n != 1 {
		t.Errorf("%d PATCHes sent, want exactly 1", n)
	}
	if n := count(emu, http.MethodPut, emulator.RouteServer); n != 0 {
		t.Errorf("%d PUTs sent, want none: a partial update is a PATCH", n)
	}
	if st := statusesOf(requestsTo(emu, http.MethodPatch, emulator.RouteServer)); !slices.Equal(st, []int{200}) {
		t.Errorf("PATCH answers = %v, want [200]", st)
	}
}

// ---------------------------------------------------------------------------
// 6. Delete — DELETE servers/{id}/ → 204, then 404

func TestClient_DeleteAnswers204AndTheServerIsGone(t *testing.T) {
	emu, _ := startFrozen(t, emulator.Options{})
	c := newClient(t, emu, tokenAlpha)
	ctx := testContext(t)
	s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "doomed", Status: "active"})
	keep := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "kept", Status: "active"})

	if err := c.DeleteServer(ctx, s.ID); err != nil {
		t.Fatalf("DeleteServer: %v", err)
	}
	if _, ok := emu.Server(s.ID); ok {
		t.Error("the emulator still holds the deleted server")
	}
	if _, ok := emu.Server(keep.ID); !ok {
		t.Error("deleting one server removed another")
	}

	_, err := c.GetServer(ctx, s.ID)
	if !errors.Is(err, vpsorg.ErrNotFound) {
		t.Errorf("GetServer after delete: %v, want ErrNotFound", err)
	}
	_ = wantAPIError(t, err, http.StatusNotFound)

	err = c.DeleteServer(ctx, s.ID)
	if !errors.Is(err, vpsorg.ErrNotFound) {
		t.Errorf("second DeleteServer: %v, want ErrNotFound", err)
	}
	if apiErr := wantAPIError(t, err, http.StatusNotFound); apiErr.Operation != fmt.Sprintf("delete server %d", s.ID) {
		t.Errorf("Operation = %q", apiErr.Operation)
	}

	if st := statusesOf(requestsTo(emu, http.MethodDelete, emulator.RouteServer)); !slices.Equal(st, []int{204, 404}) {
		t.Errorf("DELETE answers = %v, want [204 404]: one each, no retries", st)
	}
}

// ---------------------------------------------------------------------------
// 7–9. Start, stop, reboot — POST servers/{id}/{action}/ → 200

func TestClient_PowerActionsAnswerTheDocumentedEnvelopeAndComplete(t *testing.T) {
	const transition = 2 * time.Second
	tests := []struct {
		name        string
		from        string
		call        func(*vpsorg.Client, context.Context, int64) (*vpsorg.ActionResult, error)
		route       string
		wantMessage string
		transient   string
		final       string
	}{
		{"start powers a stopped server on", "stopped", (*vpsorg.Client).StartServer, emulator.RouteStart, "Server is starting", "starting", "active"},
		{"stop shuts an active server down", "active", (*vpsorg.Client).StopServer, emulator.RouteStop, "Server is stopping", "stopping", "stopped"},
		{"reboot restarts an active server", "active", (*vpsorg.Client).RebootServer, emulator.RouteReboot, "Server is rebooting", "rebooting", "active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, clock := startFrozen(t, emulator.Options{TransitionTime: transition})
			c := newClient(t, emu, tokenAlpha)
			ctx := testContext(t)
			s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-server-01", Status: tt.from})

			res, err := tt.call(c, ctx, s.ID)
			if err != nil {
				t.Fatalf("action: %v", err)
			}
			if res.Status != "success" || res.Message != tt.wantMessage {
				t.Errorf("status, message = %q, %q, want success, %q", res.Status, res.Message, tt.wantMessage)
			}
			if res.Server.ID != s.ID || res.Server.Name != "web-server-01" || res.Server.Status != tt.transient {
				t.Errorf("server = %+v, want {%d web-server-01 %s}", res.Server, s.ID, tt.transient)
			}
			if st := statusesOf(requestsTo(emu, http.MethodPost, tt.route)); !slices.Equal(st, []int{200}) {
				t.Errorf("action answers = %v, want [200]", st)
			}

			// The clock is frozen: the server stays in the transient status.
			got, err := c.GetServer(ctx, s.ID)
			if err != nil {
				t.Fatalf("GetServer: %v", err)
			}
			if got.Status != tt.transient {
				t.Errorf("status right after the action = %q, want %q", got.Status, tt.transient)
			}

			clock.Advance(transition)
			final, err := c.WaitForStatus(ctx, s.ID, vpsorg.WaitSpec{Target: []string{tt.final}, Pending: []string{tt.transient}})
			if err != nil {
				t.Fatalf("WaitForStatus(%s): %v", tt.final, err)
			}
			if final.ID != s.ID || final.Status != tt.final {
				t.Errorf("wait ended with server %d in %q, want %q", final.ID, final.Status, tt.final)
			}
			if emuView := snapshot(t, emu, s.ID); emuView.Status != tt.final {
				t.Errorf("emulator says %q, want %q", emuView.Status, tt.final)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 400 — invalid parameters, or an action the server's status forbids

func TestClient_RejectedRequestsAnswer400AndChangeNothing(t *testing.T) {
	tests := []struct {
		name        string
		status      string // of the existing server
		call        func(context.Context, *vpsorg.Client, int64) error
		method      string
		route       string
		wantMessage string
		wantFields  []string // sorted; nil means none
	}{
		{
			name: "create with a bad name and an unknown plan names both fields", status: "active",
			call: func(ctx context.Context, c *vpsorg.Client, _ int64) error {
				_, err := c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: "web server 01!", PlanID: 99, OSID: 5, Location: "us-west"})
				return err
			},
			method: http.MethodPost, route: emulator.RouteServers,
			wantMessage: "Invalid parameters.", wantFields: []string{"name", "plan_id"},
		},
		{
			name: "create with an unknown OS and location names both fields", status: "active",
			call: func(ctx context.Context, c *vpsorg.Client, _ int64) error {
				_, err := c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: "web-02", PlanID: 1, OSID: 2, Location: "mars-1"})
				return err
			},
			method: http.MethodPost, route: emulator.RouteServers,
			wantMessage: "Invalid parameters.", wantFields: []string{"location", "os_id"},
		},
		{
			name: "create with a hostname that is not an FQDN", status: "active",
			call: func(ctx context.Context, c *vpsorg.Client, _ int64) error {
				_, err := c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: "web-02", PlanID: 1, OSID: 5, Location: "us-west", Hostname: ptr("localhost")})
				return err
			},
			method: http.MethodPost, route: emulator.RouteServers,
			wantMessage: "Invalid parameters.", wantFields: []string{"hostname"},
		},
		{
			name: "replace with a bad hostname", status: "active",
			call: func(ctx context.Context, c *vpsorg.Client, id int64) error {
				_, err := c.ReplaceServer(ctx, id, vpsorg.ReplaceServerRequest{Name: "web-02", Hostname: "-bad-.example.com", BackupsEnabled: true})
				return err
			},
			method: http.MethodPut, route: emulator.RouteServer,
			wantMessage: "Invalid parameters.", wantFields: []string{"hostname"},
		},
		{
			name: "update with a bad name", status: "active",
			call: func(ctx context.Context, c *vpsorg.Client, id int64) error {
				_, err := c.UpdateServer(ctx, id, vpsorg.UpdateServerRequest{Name: ptr("under_score")})
				return err
			},
			method: http.MethodPatch, route: emulator.RouteServer,
			wantMessage: "Invalid parameters.", wantFields: []string{"name"},
		},
		{
			name: "stop on a stopped server", status: "stopped",
			call: func(ctx context.Context, c *vpsorg.Client, id int64) error {
				_, err := c.StopServer(ctx, id)
				return err
			},
			method: http.MethodPost, route: emulator.RouteStop, wantMessage: "Server is not running.",
		},
		{
			name: "start on an active server", status: "active",
			call: func(ctx context.Context, c *vpsorg.Client, id int64) error {
				_, err := c.StartServer(ctx, id)
				return err
			},
			method: http.MethodPost, route: emulator.RouteStart, wantMessage: "Server is already running.",
		},
		{
			name: "reboot on a stopped server", status: "stopped",
			call: func(ctx context.Context, c *vpsorg.Client, id int64) error {
				_, err := c.RebootServer(ctx, id)
				return err
			},
			method: http.MethodPost, route: emulator.RouteReboot, wantMessage: "Server is not running.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, clock := startFrozen(t, emulator.Options{})
			c := newClient(t, emu, tokenAlpha)
			s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-01", Hostname: ptr("web01.example.com"), Status: tt.status})
			clock.Advance(time.Minute) // so that any change would move updated_at
			before := snapshot(t, emu, s.ID)

			err := tt.call(testContext(t), c, s.ID)
			apiErr := wantAPIError(t, err, http.StatusBadRequest)
			if apiErr.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", apiErr.Message, tt.wantMessage)
			}
			if got := fieldNames(apiErr.Fields); !slices.Equal(got, tt.wantFields) {
				t.Errorf("Fields = %v, want keys %v", apiErr.Fields, tt.wantFields)
			}
			for _, f := range tt.wantFields {
				if len(apiErr.Fields[f]) == 0 || apiErr.Fields[f][0] == "" {
					t.Errorf("Fields[%q] has no message", f)
				}
				if !strings.Contains(err.Error(), f+": ") {
					t.Errorf("error text %q does not name the field %q", err, f)
				}
			}
			if st := statusesOf(requestsTo(emu, tt.method, tt.route)); !slices.Equal(st, []int{400}) {
				t.Errorf("answers = %v, want [400]: sent once, not retried", st)
			}
			if after := snapshot(t, emu, s.ID); !reflect.DeepEqual(after, before) {
				t.Errorf("a rejected request changed the server:\nbefore %s\nafter  %s", show(before), show(after))
			}
			if n := len(emu.Servers(accountAlpha)); n != 1 {
				t.Errorf("the account holds %d servers, want 1", n)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 401 — wrong or missing token

func TestClient_WrongTokenAnswers401AndNeverShowsTheToken(t *testing.T) {
	const wrongToken = "wrong-Tok3n-s3cr3t-7Pq"
	calls := []struct {
		name   string
		method string
		route  string
		call   func(context.Context, *vpsorg.Client, int64) error
	}{
		{"list", http.MethodGet, emulator.RouteServers, func(ctx context.Context, c *vpsorg.Client, _ int64) error {
			_, err := c.ListServers(ctx, vpsorg.ListServersOptions{Status: "active"})
			return err
		}},
		{"create", http.MethodPost, emulator.RouteServers, func(ctx context.Context, c *vpsorg.Client, _ int64) error {
			_, err := c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: "web-02", PlanID: 1, OSID: 5, Location: "us-west"})
			return err
		}},
		{"get", http.MethodGet, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
			_, err := c.GetServer(ctx, id)
			return err
		}},
		{"update", http.MethodPatch, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
			_, err := c.UpdateServer(ctx, id, vpsorg.UpdateServerRequest{Name: ptr("hijacked")})
			return err
		}},
		{"delete", http.MethodDelete, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
			return c.DeleteServer(ctx, id)
		}},
		{"stop", http.MethodPost, emulator.RouteStop, func(ctx context.Context, c *vpsorg.Client, id int64) error {
			_, err := c.StopServer(ctx, id)
			return err
		}},
	}
	for _, token := range []struct{ name, value string }{{"wrong token", wrongToken}, {"no token", ""}} {
		for _, tt := range calls {
			t.Run(token.name+"/"+tt.name, func(t *testing.T) {
				emu, _ := startFrozen(t, emulator.Options{})
				s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-01", Status: "active"})
				before := snapshot(t, emu, s.ID)
				c := newClient(t, emu, token.value)

				err := tt.call(testContext(t), c, s.ID)
				apiErr := wantAPIError(t, err, http.StatusUnauthorized)
				if apiErr.Message != "Invalid or missing API token." {
					t.Errorf("Message = %q", apiErr.Message)
				}
				if token.value != "" && strings.Contains(err.Error(), token.value) {
					t.Errorf("the error shows the token: %q", err)
				}
				if !strings.Contains(err.Error(), "HTTP 401") {
					t.Errorf("the error does not show the status: %q", err)
				}
				reqs := requestsTo(emu, tt.method, tt.route)
				if st := statusesOf(reqs); !slices.Equal(st, []int{401}) {
					t.Errorf("answers = %v, want [401]: sent once, not retried", st)
				}
				if len(reqs) == 1 && reqs[0].Account != "" {
					t.Errorf("the request was attributed to account %q", reqs[0].Account)
				}
				if after, ok := emu.Server(s.ID); !ok || !reflect.DeepEqual(after, before) {
					t.Errorf("an unauthenticated request changed the server: %s → %s (exists %v)", show(before), show(after), ok)
				}
				if n := len(emu.Servers(accountAlpha)); n != 1 {
					t.Errorf("the account holds %d servers, want 1", n)
				}
			})
		}
	}
}

// ---------------------------------------------------------------------------
// 402 — insufficient credits

func TestClient_CreateBeyondTheAccountsCreditsAnswers402(t *testing.T) {
	tests := []struct {
		name    string
		credits int
	}{
		{"no credits: the first create is refused", 0},
		{"two credits: the third create is refused", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, _ := startFrozen(t, emulator.Options{})
			emu.SetCredits(accountAlpha, tt.credits)
			c := newClient(t, emu, tokenAlpha)
			ctx := testContext(t)
			create := func(name string) (*vpsorg.Server, error) {
				return c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: name, PlanID: 1, OSID: 5, Location: "us-west"})
			}

			var want []int
			for i := range tt.credits {
				if _, err := create(fmt.Sprintf("web-%d", i)); err != nil {
					t.Fatalf("create %d of %d credits: %v", i+1, tt.credits, err)
				}
				want = append(want, 201)
			}
			_, err := create("one-too-many")
			apiErr := wantAPIError(t, err, http.StatusPaymentRequired)
			if apiErr.Message != "Insufficient credits." || apiErr.Operation != "create server" {
				t.Errorf("Operation, Message = %q, %q", apiErr.Operation, apiErr.Message)
			}
			want = append(want, 402)
			if st := statusesOf(requestsTo(emu, http.MethodPost, emulator.RouteServers)); !slices.Equal(st, want) {
				t.Errorf("create answers = %v, want %v: a 402 is not retried", st, want)
			}
			if n := len(emu.Servers(accountAlpha)); n != tt.credits {
				t.Errorf("the account holds %d servers, want %d", n, tt.credits)
			}

			// Credits are per account: the other one can still create.
			if _, err := newClient(t, emu, tokenBravo).CreateServer(ctx, vpsorg.CreateServerRequest{Name: "bravo-1", PlanID: 1, OSID: 5, Location: "us-west"}); err != nil {
				t.Errorf("the other account's create: %v", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 404 — a server that does not exist, on every endpoint that takes an id

// idCalls are the seven endpoints that take a server id.
var idCalls = []struct {
	name   string // also the verb in APIError.Operation
	method string
	route  string
	call   func(context.Context, *vpsorg.Client, int64) error
}{
	{"get", http.MethodGet, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		_, err := c.GetServer(ctx, id)
		return err
	}},
	{"replace", http.MethodPut, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		_, err := c.ReplaceServer(ctx, id, vpsorg.ReplaceServerRequest{Name: "hijacked", Hostname: "evil.example.com", BackupsEnabled: true})
		return err
	}},
	{"update", http.MethodPatch, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		_, err := c.UpdateServer(ctx, id, vpsorg.UpdateServerRequest{Name: ptr("hijacked")})
		return err
	}},
	{"delete", http.MethodDelete, emulator.RouteServer, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		return c.DeleteServer(ctx, id)
	}},
	{"start", http.MethodPost, emulator.RouteStart, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		_, err := c.StartServer(ctx, id)
		return err
	}},
	{"stop", http.MethodPost, emulator.RouteStop, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		_, err := c.StopServer(ctx, id)
		return err
	}},
	{"reboot", http.MethodPost, emulator.RouteReboot, func(ctx context.Context, c *vpsorg.Client, id int64) error {
		_, err := c.RebootServer(ctx, id)
		return err
	}},
}

func TestClient_UnknownServerIDAnswers404MatchingErrNotFound(t *testing.T) {
	const unknown = 99999
	emu, _ := startFrozen(t, emulator.Options{})
	c := newClient(t, emu, tokenAlpha)
	addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-01", Status: "stopped"})
	for _, tt := range idCalls {
		t.Run(tt.name, func(t *testing.T) {
			before := count(emu, tt.method, tt.route)
			err := tt.call(testContext(t), c, unknown)
			if !errors.Is(err, vpsorg.ErrNotFound) {
				t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
			}
			apiErr := wantAPIError(t, err, http.StatusNotFound)
			if want := fmt.Sprintf("%s server %d", tt.name, unknown); apiErr.Operation != want {
				t.Errorf("Operation = %q, want %q", apiErr.Operation, want)
			}
			if apiErr.Message != "Not found." {
				t.Errorf("Message = %q", apiErr.Message)
			}
			if n := count(emu, tt.method, tt.route) - before; n != 1 {
				t.Errorf("%d requests sent, want 1: a 404 is not retried", n)
			}
		})
	}
	if n := len(emu.Servers(accountAlpha)); n != 1 {
		t.Errorf("the account holds %d servers, want 1", n)
	}
}

// ---------------------------------------------------------------------------
// Isolation between two tokens

func TestClient_EachTokenSeesAndChangesOnlyItsOwnAccount(t *testing.T) {
	emu, clock := startFrozen(t, emulator.Options{})
	alpha := newClient(t, emu, tokenAlpha)
	bravo := newClient(t, emu, tokenBravo)
	ctx := testContext(t)

	a1 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "alpha-1", Status: "active"})
	a2 := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "alpha-2", Status: "stopped"})
	bActive := addServer(t, emu, accountBravo, emulator.ServerSpec{Name: "bravo-1", Hostname: ptr("b1.example.com"), Status: "active"})
	bStopped := addServer(t, emu, accountBravo, emulator.ServerSpec{Name: "bravo-2", Status: "stopped"})
	clock.Advance(time.Minute) // so that any change would move updated_at

	t.Run("each token lists only its own servers", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			c    *vpsorg.Client
			want []int64
		}{{"alpha", alpha, []int64{a1.ID, a2.ID}}, {"bravo", bravo, []int64{bActive.ID, bStopped.ID}}} {
			got, err := tc.c.ListServers(ctx, vpsorg.ListServersOptions{})
			if err != nil {
				t.Fatalf("%s ListServers: %v", tc.name, err)
			}
			if ids := sortedIDs(got); !slices.Equal(ids, tc.want) {
				t.Errorf("%s lists %v, want %v", tc.name, ids, tc.want)
			}
		}
	})

	before := map[int64]emulator.Server{bActive.ID: snapshot(t, emu, bActive.ID), bStopped.ID: snapshot(t, emu, bStopped.ID)}
	for _, tt := range idCalls {
		// start needs a stopped server to act on; the rest an active one.
		target := bActive.ID
		if tt.name == "start" {
			target = bStopped.ID
		}
		t.Run(tt.name+" on the other account's server is 404", func(t *testing.T) {
			err := tt.call(ctx, alpha, target)
			if !errors.Is(err, vpsorg.ErrNotFound) {
				t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
			}
			_ = wantAPIError(t, err, http.StatusNotFound)
		})
	}

	for id, b := range before {
		if after, ok := emu.Server(id); !ok || !reflect.DeepEqual(after, b) {
			t.Errorf("alpha's requests changed bravo's server %d:\nbefore %s\nafter  %s (exists %v)", id, show(b), show(after), ok)
		}
	}
	got, err := bravo.GetServer(ctx, bActive.ID)
	if err != nil {
		t.Fatalf("bravo GetServer: %v", err)
	}
	if got.Name != "bravo-1" || deref(got.Hostname) != "b1.example.com" || got.Status != "active" {
		t.Errorf("bravo sees %q %v %q, want bravo-1 b1.example.com active", got.Name, deref(got.Hostname), got.Status)
	}
	for _, r := range emu.Requests() {
		if r.Account == accountAlpha && r.Route != emulator.RouteServers && r.Status != http.StatusNotFound {
			t.Errorf("alpha's %s %s answered %d, want 404", r.Method, r.Path, r.Status)
		}
	}
}

// ---------------------------------------------------------------------------
// Waiting through the emulator (real clock)

func TestClient_WaitForStatusSeesProvisioningBecomeActive(t *testing.T) {
	const provisioning = 200 * time.Millisecond
	const pollMin = 20 * time.Millisecond
	emu := startEmulator(t, emulator.Options{ProvisioningTime: provisioning})
	c := newClient(t, emu, tokenAlpha, func(cfg *vpsorg.Config) {
		cfg.Poll = vpsorg.PollPolicy{Min: pollMin, Max: 100 * time.Millisecond, Fraction: 0.1}
	})
	ctx := testContext(t)

	created, err := c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: "web-01", PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if created.Status != vpsorg.StatusProvisioning {
		t.Fatalf("created in %q, want provisioning", created.Status)
	}
	emu.ResetRequests()

	got, err := c.WaitForStatus(ctx, created.ID, vpsorg.WaitSpec{
		Target:      []string{vpsorg.StatusActive},
		Pending:     []string{vpsorg.StatusProvisioning},
		NotFoundFor: time.Minute,
	})
	if err != nil {
		t.Fatalf("WaitForStatus: %v", err)
	}
	if got.ID != created.ID || got.Status != vpsorg.StatusActive || deref(got.IPAddress) != "203.0.113.1" {
		t.Errorf("wait ended with id %d status %q ip %v, want %d active 203.0.113.1", got.ID, got.Status, deref(got.IPAddress), created.ID)
	}

	// The polls: how the client looks (one server, or the list) is its own
	// business; count both.
	var polls []emulator.Request
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet && (r.Route == emulator.RouteServer || r.Route == emulator.RouteServers) {
			polls = append(polls, r)
		}
		if r.Method != http.MethodGet {
			t.Errorf("the wait sent %s %s", r.Method, r.Path)
		}
	}
	// Never a busy loop: at most one poll per half minimum interval (the
	// client may serve a poll up to half an interval early, to share it),
	// and a slower machine only polls less. When the polls came is left to
	// pollInterval's own tests: this one asserts no time.
	if n := len(polls); n > 2*int(provisioning/pollMin)+3 {
		t.Errorf("%d polls in a %v provisioning with a %v minimum interval", n, provisioning, pollMin)
	}
	for _, p := range polls {
		if p.Status != http.StatusOK {
			t.Errorf("poll %s answered %d", p.Path, p.Status)
		}
	}
}

func TestClient_WaitForStatusFailsAtOnceWhenProvisioningFails(t *testing.T) {
	emu := startEmulator(t, emulator.Options{ProvisioningTime: 30 * time.Millisecond})
	emu.FailProvisioning(func(name string) bool { return strings.HasPrefix(name, "broken") })
	c := newClient(t, emu, tokenAlpha)
	ctx := testContext(t)

	created, err := c.CreateServer(ctx, vpsorg.CreateServerRequest{Name: "broken-01", PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	_, err = c.WaitForStatus(ctx, created.ID, vpsorg.WaitSpec{Target: []string{vpsorg.StatusActive}, Pending: []string{vpsorg.StatusProvisioning}})
	var unexpected *vpsorg.UnexpectedStatusError
	if !errors.As(err, &unexpected) || unexpected.Status != "error" || unexpected.ID != created.ID {
		t.Fatalf("error = %v, want an *UnexpectedStatusError naming status \"error\"", err)
	}
	if !strings.Contains(err.Error(), `"error"`) {
		t.Errorf("the error does not name the status: %q", err)
	}
}

func TestClient_WaitForDeletedReturnsOnceGETAnswers404(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(*testing.T, context.Context, *emulator.Emulator, *vpsorg.Client, int64)
		timeout time.Duration
		wantErr bool
	}{
		{
			name: "deleted through the client",
			prepare: func(t *testing.T, ctx context.Context, _ *emulator.Emulator, c *vpsorg.Client, id int64) {
				if err := c.DeleteServer(ctx, id); err != nil {
					t.Fatalf("DeleteServer: %v", err)
				}
			},
			timeout: 5 * time.Second,
		},
		{
			name: "deleted behind the API's back while waiting",
			prepare: func(t *testing.T, _ context.Context, emu *emulator.Emulator, _ *vpsorg.Client, id int64) {
				timer := time.AfterFunc(150*time.Millisecond, func() { emu.DeleteServer(id) })
				t.Cleanup(func() { timer.Stop() })
			},
			timeout: 5 * time.Second,
		},
		{
			name:    "never deleted: the deadline ends the wait",
			prepare: func(*testing.T, context.Context, *emulator.Emulator, *vpsorg.Client, int64) {},
			timeout: 150 * time.Millisecond,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := startEmulator(t, emulator.Options{})
			c := newClient(t, emu, tokenAlpha)
			s := addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: "web-01", Status: "active"})
			tt.prepare(t, testContext(t), emu, c, s.ID)

			ctx, cancel := context.WithTimeout(testContext(t), tt.timeout)
			defer cancel()
			err := c.WaitForDeleted(ctx, s.ID)

			_, exists := emu.Server(s.ID)
			if tt.wantErr {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error = %v, want one matching context.DeadlineExceeded", err)
				}
				if !exists {
					t.Error("the server is gone, but nothing deleted it")
				}
			} else {
				if err != nil {
					t.Fatalf("WaitForDeleted: %v", err)
				}
				if exists {
					t.Error("WaitForDeleted returned while the server still exists")
				}
			}
			for _, r := range emu.Requests() {
				if r.Method == http.MethodGet && r.Status != http.StatusOK && r.Status != http.StatusNotFound {
					t.Errorf("poll %s answered %d", r.Path, r.Status)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 429 on create: retried, because the API provably did not act

func TestClient_CreateRetriedAfterA429CreatesExactlyOneServer(t *testing.T) {
	emu := startEmulator(t, emulator.Options{ProvisioningTime: -1})
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: http.StatusTooManyRequests, RetryAfter: "1"})
	var mu sync.Mutex
	var holds []map[string]any
	c := newClient(t, emu, tokenAlpha, func(cfg *vpsorg.Config) {
		cfg.RetryWaitMin = time.Millisecond
		cfg.RetryWaitMax = 2 * time.Millisecond
		cfg.Log = func(_ context.Context, msg string, fields map[string]any) {
			if msg == "vpsorg: rate-limited: holding every request" {
				mu.Lock()
				defer mu.Unlock()
				holds = append(holds, fields)
			}
		}
	})

	created, err := c.CreateServer(testContext(t), vpsorg.CreateServerRequest{Name: "web-01", PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if created.Name != "web-01" || created.Status != vpsorg.StatusProvisioning {
		t.Errorf("created %q in %q", created.Name, created.Status)
	}

	posts := requestsTo(emu, http.MethodPost, emulator.RouteServers)
	if st := statusesOf(posts); !slices.Equal(st, []int{429, 201}) {
		t.Fatalf("create answers = %v, want [429 201]", st)
	}
	// Retry-After: 1 outranks the 1ms backoff: the client held its
	// requests for the second asked (that a hold delays the retry, the
	// pacer's tests show).
	mu.Lock()
	if len(holds) != 1 || holds[0]["hold_ms"] != int64(1000) {
		t.Errorf("holds logged: %v, want one of 1000ms", holds)
	}
	mu.Unlock()
	servers := emu.Servers(accountAlpha)
	if len(servers) != 1 || servers[0].ID != created.ID {
		var shown []string
		for _, s := range servers {
			shown = append(shown, show(s))
		}
		t.Errorf("the account holds %d servers %v, want exactly the one server %d", len(servers), shown, created.ID)
	}
}

// Another client of the account deletes a server and creates one between
// two page reads (emulator's ListChurn): the count stays, the later pages
// shift, and a single read skips a server that existed throughout. A list
// has every such server, or fails saying the account changed under it.
func TestClient_ListServersUnderChurnMissesNoServerThatExistedThroughout(t *testing.T) {
	tests := []struct {
		name    string
		churns  int // list page reads that churn; -1: every one
		wantErr bool
	}{
		{"the account changes during two reads, then rests", 2, false},
		{"the account changes during every read", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := startEmulator(t, emulator.Options{PageSize: 2})
			var before []int64
			for i := range 5 {
				before = append(before, addServer(t, emu, accountAlpha, emulator.ServerSpec{Name: fmt.Sprintf("web-%d", i), Status: "active"}).ID)
			}
			emu.SetManners(emulator.Manners{ListChurn: tt.churns})
			got, err := newClient(t, emu, tokenAlpha).ListServers(testContext(t), vpsorg.ListServersOptions{})
			if tt.wantErr {
				if !errors.Is(err, vpsorg.ErrListChanged) || !strings.Contains(err.Error(), "changed while it was read") {
					t.Fatalf("ListServers under constant change: %d servers, error %v; want ErrListChanged", len(got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ListServers: %v", err)
			}
			listed := sortedIDs(got)
			for _, s := range emu.Servers(accountAlpha) {
				if slices.Contains(before, s.ID) && !slices.Contains(listed, s.ID) {
					t.Errorf("server %d existed throughout the read and is not in the list %v", s.ID, listed)
				}
			}
			var now []int64
			for _, s := range emu.Servers(accountAlpha) {
				now = append(now, s.ID)
			}
			slices.Sort(now)
			if !slices.Equal(listed, now) {
				t.Errorf("listed %v, want the account's servers once it rested, %v", listed, now)
			}
		})
	}
}
