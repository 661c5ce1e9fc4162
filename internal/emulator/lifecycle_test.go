package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestStatusMachine_ProvisioningBecomesActiveAfterProvisioningTime(t *testing.T) {
	h := newHarness(t, Options{ProvisioningTime: 10 * time.Second})
	id := h.create("web")
	h.clock.Advance(10*time.Second - time.Millisecond)
	r := h.do("GET", serverPath(id, ""), nil)
	if r.body["status"] != "provisioning" || r.body["ip_address"] != nil || r.body["ipv6_address"] != nil {
		t.Fatalf("just before: %s", r)
	}
	if u := r.body["resource_usage"].(map[string]any); u["cpu_percent"] != float64(0) || u["disk_used"] != float64(0) {
		t.Errorf("usage while provisioning: %v", u)
	}
	h.clock.Advance(time.Millisecond)
	r = h.do("GET", serverPath(id, ""), nil)
	if r.body["status"] != "active" || r.body["ip_address"] != "203.0.113.1" || r.body["ipv6_address"] != "2001:db8::3039" {
		t.Fatalf("at ProvisioningTime: %s", r)
	}
	if r.body["updated_at"] != "2025-01-16T15:30:10Z" || r.body["created_at"] != "2025-01-16T15:30:00Z" {
		t.Errorf("timestamps: created %v updated %v", r.body["created_at"], r.body["updated_at"])
	}
	h.clock.Advance(time.Hour)
	if r := h.do("GET", serverPath(id, ""), nil); r.body["updated_at"] != "2025-01-16T15:30:10Z" {
		t.Errorf("reading later must not bump updated_at: %v", r.body["updated_at"])
	}
}

func TestStatusMachine_ActionsPassThroughTransientStatuses(t *testing.T) {
	h := newHarness(t, Options{TransitionTime: 3 * time.Second})
	id := h.createActive("web")
	steps := []struct {
		action, transient, settled string
	}{
		{"stop", "stopping", "stopped"},
		{"start", "starting", "active"},
		{"reboot", "rebooting", "active"},
	}
	for _, s := range steps {
		if r := h.do("POST", serverPath(id, s.action), nil); r.status != http.StatusOK {
			t.Fatalf("%s: %s", s.action, r)
		}
		actedAt := timestamp(h.clock.Now())
		r := h.do("GET", serverPath(id, ""), nil)
		if r.body["status"] != s.transient || r.body["updated_at"] != actedAt {
			t.Errorf("after %s: status %v updated_at %v, want %s at %s", s.action, r.body["status"], r.body["updated_at"], s.transient, actedAt)
		}
		h.clock.Advance(2 * time.Second)
		if got := h.status(id); got != s.transient {
			t.Errorf("%s: before TransitionTime: %s", s.action, got)
		}
		h.clock.Advance(time.Second)
		r = h.do("GET", serverPath(id, ""), nil)
		if r.body["status"] != s.settled || r.body["updated_at"] != timestamp(h.clock.Now()) {
			t.Errorf("%s: after TransitionTime: %v at %v", s.action, r.body["status"], r.body["updated_at"])
		}
		usage := r.body["resource_usage"].(map[string]any)
		if cpu := usage["cpu_percent"].(float64); (s.settled == "stopped") != (cpu == 0) || cpu < 0 || cpu > 100 {
			t.Errorf("%s: cpu_percent %v while %s", s.action, cpu, s.settled)
		}
		if s.settled == "stopped" && usage["memory_used"] != float64(0) {
			t.Errorf("memory used while stopped: %v", usage)
		}
		if usage["disk_used"].(float64) <= 0 {
			t.Errorf("disk_used = %v", usage["disk_used"])
		}
	}
}

func TestStatusMachine_FailedProvisioningEndsInError(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.FailProvisioning(func(name string) bool { return strings.HasPrefix(name, "doomed") })
	bad := h.create("doomed-1")
	good := h.create("fine-1")
	h.emu.FailProvisioning(nil)
	later := h.create("doomed-2")
	h.clock.Advance(DefaultProvisioningTime)
	r := h.do("GET", serverPath(bad, ""), nil)
	if r.body["status"] != "error" || r.body["ip_address"] != nil {
		t.Errorf("matched server: %s", r)
	}
	if got := h.status(good); got != "active" {
		t.Errorf("unmatched server: %s", got)
	}
	if got := h.status(later); got != "active" {
		t.Errorf("server created after the matcher was cleared: %s", got)
	}
}

func TestActions_RefuseWhenTheStatusDoesNotAllowThem(t *testing.T) {
	cases := []struct {
		status, action string
		code           int
		message        string
	}{
		{"stopped", "start", 200, ""},
		{"active", "start", 400, "Server is already running."},
		{"active", "stop", 200, ""},
		{"stopped", "stop", 400, "Server is not running."},
		{"active", "reboot", 200, ""},
		{"stopped", "reboot", 400, "Server is not running."},
		{"starting", "start", 400, "Server is starting; wait until the action has finished."},
		{"starting", "stop", 400, "Server is starting; wait until the action has finished."},
		{"starting", "reboot", 400, "Server is starting; wait until the action has finished."},
		{"stopping", "start", 400, "Server is stopping; wait until the action has finished."},
		{"stopping", "stop", 400, "Server is stopping; wait until the action has finished."},
		{"stopping", "reboot", 400, "Server is stopping; wait until the action has finished."},
		{"rebooting", "start", 400, "Server is rebooting; wait until the action has finished."},
		{"rebooting", "stop", 400, "Server is rebooting; wait until the action has finished."},
		{"rebooting", "reboot", 400, "Server is rebooting; wait until the action has finished."},
		{"", "start", 400, "Server is still being provisioned."},
		{"", "stop", 400, "Server is still being provisioned."},
		{"", "reboot", 400, "Server is still being provisioned."},
		{"suspended", "start", 400, "Server is suspended."},
		{"suspended", "stop", 400, "Server is suspended."},
		{"suspended", "reboot", 400, "Server is suspended."},
		{"error", "start", 400, "Server is in an error state."},
		{"error", "stop", 400, "Server is in an error state."},
		{"error", "reboot", 400, "Server is in an error state."},
		{"migrating", "start", 400, "Server cannot be started while migrating."},
	}
	h := newHarness(t, Options{})
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s when %q", c.action, c.status), func(t *testing.T) {
			s, err := h.emu.AddServer("alice", ServerSpec{Name: "web", PlanID: 1, OSID: 5, Location: "us-west", Status: c.status})
			if err != nil {
				t.Fatal(err)
			}
			r := h.do("POST", serverPath(s.ID, c.action), nil)
			if r.status != c.code || (c.message != "" && r.body["detail"] != c.message) {
				t.Errorf("want %d %q, got %s", c.code, c.message, r)
			}
			after, _ := h.emu.Server(s.ID)
			if c.code != 200 && after.Status != s.Status {
				t.Errorf("a refused action changed the status from %s to %s", s.Status, after.Status)
			}
		})
	}
}

func TestList_PaginatesKeepingFilters(t *testing.T) {
	h := newHarness(t, Options{PageSize: 3})
	var want []float64
	for i := range 11 {
		body := validCreate(fmt.Sprintf("web-%d", i))
		if i%4 == 3 {
			body["location"] = "us-east" // 3 of 11 elsewhere
		} else {
			want = append(want, float64(12345+i))
		}
		h.createAs(aliceToken, body)
	}
	h.clock.Advance(DefaultProvisioningTime)

	var got []float64
	next := h.srv.URL + "/api/v1/servers/?status=active&location=us-west"
	pages := 0
	var previous []any
	for next != "" {
		r := h.do("GET", next, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %s", next, r)
		}
		pages++
		if r.body["count"] != float64(len(want)) {
			t.Errorf("page %d: count %v, want %d", pages, r.body["count"], len(want))
		}
		previous = append(previous, r.body["previous"])
		for _, item := range r.body["results"].([]any) {
			got = append(got, item.(map[string]any)["id"].(float64))
		}
		next = ""
		if n, ok := r.body["next"].(string); ok {
			u, err := url.Parse(n)
			if err != nil || u.Host != strings.TrimPrefix(h.srv.URL, "http://") || u.Path != "/api/v1/servers/" ||
				u.Query().Get("status") != "active" || u.Query().Get("location") != "us-west" {
				t.Fatalf("next %q must be absolute on the request's host and keep the filters", n)
			}
			next = n
		}
	}
	if pages != 3 {
		t.Errorf("want 3 pages of 3 for 8 servers, got %d", pages)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ids across pages = %v, want %v in order", got, want)
	}
	if previous[0] != nil {
		t.Errorf("page 1 previous = %v, want null", previous[0])
	}
	for i, p := range previous[1:] {
		u, err := url.Parse(fmt.Sprint(p))
		if err != nil || u.Query().Get("page") != fmt.Sprint(i+1) || u.Query().Get("location") != "us-west" {
			t.Errorf("page %d previous = %v", i+2, p)
		}
	}
}

func TestList_InvalidPagesAnswer404(t *testing.T) {
	h := newHarness(t, Options{PageSize: 2})
	for i := range 3 {
		h.create(fmt.Sprintf("web-%d", i))
	}
	for _, page := range []string{"3", "0", "-1", "abc", "1.5", "99999999999999999999", ""} {
		r := h.do("GET", "/api/v1/servers/?page="+page, nil)
		if r.status != http.StatusNotFound || r.body["detail"] != "Invalid page." {
			t.Errorf("page=%s: want 404 Invalid page., got %s", page, r)
		}
	}
	if r := h.do("GET", "/api/v1/servers/?page=2", nil); r.status != 200 || len(r.body["results"].([]any)) != 1 || r.body["next"] != nil {
		t.Errorf("last page: %s", r)
	}
	if r := h.do("GET", "/api/v1/servers/?page=1&status=stopped", nil); r.status != 200 || r.body["count"] != float64(0) {
		t.Errorf("page 1 of an empty filtered list is fine: %s", r)
	}
}

func TestList_FiltersByStatusAndLocation(t *testing.T) {
	h := newHarness(t, Options{})
	add := func(name, location, status string) {
		if _, err := h.emu.AddServer("alice", ServerSpec{Name: name, PlanID: 1, OSID: 5, Location: location, Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	add("a", "us-west", "active")
	add("b", "us-east", "active")
	add("c", "us-west", "stopped")
	add("d", "us-east", "suspended")
	add("e", "us-west", "error")
	add("f", "us-east", "")
	cases := []struct {
		query string
		names string
	}{
		{"", "a b c d e f"},
		{"status=active", "a b"},
		{"status=stopped", "c"},
		{"status=suspended", "d"},
		{"status=error", "e"},
		{"status=provisioning", "f"},
		{"status=ACTIVE", ""},
		{"location=us-west", "a c e"},
		{"location=eu-central", ""},
		{"location=nowhere", ""},
		{"status=active&location=us-east", "b"},
		{"status=stopped&location=us-east", ""},
		{"status=&location=", "a b c d e f"},
	}
	for _, c := range cases {
		r := h.do("GET", "/api/v1/servers/?"+c.query, nil)
		var names []string
		for _, item := range r.body["results"].([]any) {
			names = append(names, item.(map[string]any)["name"].(string))
		}
		if strings.Join(names, " ") != c.names || r.body["count"] != float64(len(names)) {
			t.Errorf("?%s: got %v (count %v), want %q", c.query, names, r.body["count"], c.names)
		}
	}
}

func TestOutOfBand_ChangesShowThroughTheAPI(t *testing.T) {
	h := newHarness(t, Options{})
	host := "db.example.com"
	s, err := h.emu.AddServer("alice", ServerSpec{Name: "db", Hostname: &host, PlanID: 2, OSID: 3, Location: "us-east", Status: "active", BackupsEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != 12345 || s.Account != "alice" || s.Status != "active" || s.IPAddress == nil || *s.IPAddress != "203.0.113.1" ||
		s.IPv6Address == nil || s.PlanID != 2 || s.OSID != 3 || !s.BackupsEnabled || !s.CreatedAt.Equal(h.clock.Now()) {
		t.Errorf("AddServer = %+v", s)
	}
	h.clock.Advance(time.Minute)
	if !h.emu.RenameServer(s.ID, "renamed") || !h.emu.SetStatus(s.ID, "suspended") {
		t.Fatal("RenameServer/SetStatus reported a missing server")
	}
	r := h.do("GET", serverPath(s.ID, ""), nil)
	if r.body["name"] != "renamed" || r.body["status"] != "suspended" || r.body["updated_at"] != "2025-01-16T15:31:00Z" {
		t.Errorf("after rename and suspend: %s", r)
	}
	if h.emu.SetStatus(s.ID, "") {
		t.Error("SetStatus with an empty status should report false")
	}
	if !h.emu.DeleteServer(s.ID) || h.emu.DeleteServer(s.ID) {
		t.Error("DeleteServer should report true, then false")
	}
	if r := h.do("GET", serverPath(s.ID, ""), nil); r.status != http.StatusNotFound {
		t.Errorf("after DeleteServer: %s", r)
	}
	if h.emu.RenameServer(s.ID, "x") || h.emu.SetStatus(s.ID, "active") {
		t.Error("changes to a missing server should report false")
	}
	if _, ok := h.emu.Server(s.ID); ok {
		t.Error("Server() found a deleted server")
	}
}

func TestOutOfBand_AddServerValidatesTheSpec(t *testing.T) {
	h := newHarness(t, Options{})
	for _, spec := range []ServerSpec{
		{Name: "", PlanID: 1, OSID: 5, Location: "us-west"},
		{Name: "ok", PlanID: 9, OSID: 5, Location: "us-west"},
		{Name: "ok", PlanID: 1, OSID: 9, Location: "us-west"},
		{Name: "ok", PlanID: 1, OSID: 5, Location: "moon"},
		{Name: "ok", Hostname: new(string), PlanID: 1, OSID: 5, Location: "us-west"},
	} {
		if _, err := h.emu.AddServer("alice", spec); err == nil {
			t.Errorf("AddServer(%+v) succeeded", spec)
		}
	}
	if n := len(h.emu.Servers("alice")); n != 0 {
		t.Errorf("rejected specs made %d servers", n)
	}
}

func TestOutOfBand_ServersAndSettingsApplyAtOnce(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.SetProvisioningTime(time.Second)
	h.emu.SetTransitionTime(0)
	a := h.create("a")
	b, _ := h.emu.AddServer("alice", ServerSpec{Name: "b", PlanID: 1, OSID: 5, Location: "us-west"})
	h.createAs(bobToken, validCreate("c"))
	got := h.emu.Servers("alice")
	if len(got) != 2 || got[0].ID != a || got[1].ID != b.ID || got[0].Status != "provisioning" {
		t.Fatalf("Servers(alice) = %+v", got)
	}
	h.clock.Advance(time.Second)
	if got := h.emu.Servers("alice"); got[0].Status != "active" || got[1].Status != "active" {
		t.Errorf("statuses as of now: %+v", got)
	}
	h.do("POST", serverPath(a, "stop"), nil)
	if got := h.status(a); got != "stopped" {
		t.Errorf("with TransitionTime 0 the next read shows the settled status, got %s", got)
	}
	if got := h.emu.Servers("nobody"); got == nil || len(got) != 0 {
		t.Errorf("Servers(nobody) = %#v, want empty non-nil", got)
	}
	h.emu.SetPageSize(1)
	if r := h.do("GET", "/api/v1/servers/", nil); len(r.body["results"].([]any)) != 1 || r.body["next"] == nil {
		t.Errorf("SetPageSize(1): %s", r)
	}
}

func TestOutOfBand_TimesMatchWhatTheAPIShows(t *testing.T) {
	h := newHarness(t, Options{})
	h.clock.Advance(1500 * time.Millisecond)
	id := h.create("web")
	s, _ := h.emu.Server(id)
	r := h.do("GET", serverPath(id, ""), nil)
	if got := s.CreatedAt.Format(time.RFC3339Nano); got != "2025-01-16T15:30:01Z" || r.body["created_at"] != got {
		t.Errorf("Server.CreatedAt %s, API created_at %v: want both cut to whole seconds", got, r.body["created_at"])
	}
	if s.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt is in %v, want UTC", s.CreatedAt.Location())
	}
}
