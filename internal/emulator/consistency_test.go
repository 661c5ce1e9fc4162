package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// seen is what a GET of one server answered: its status and updated_at, or
// "404".
func (h *harness) seen(id int64) string {
	h.t.Helper()
	r := h.do("GET", serverPath(id, ""), nil)
	switch r.status {
	case http.StatusOK:
		return fmt.Sprintf("%v at %v", r.body["status"], r.body["updated_at"])
	case http.StatusNotFound:
		return "404"
	}
	h.t.Fatalf("GET %d: %s", id, r)
	return ""
}

// listed is the names and count a list with that query answered, as
// "name name (count)".
func (h *harness) listed(query string) string {
	h.t.Helper()
	r := h.do("GET", "/api/v1/servers/?"+query, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("list ?%s: %s", query, r)
	}
	var names []string
	for _, item := range r.body["results"].([]any) {
		names = append(names, item.(map[string]any)["name"].(string))
	}
	return fmt.Sprintf("%s (%v)", strings.Join(names, " "), r.body["count"])
}

// at is the API timestamp of the fake clock's start plus d.
func at(d time.Duration) string { return timestamp(newFakeClock().Now().Add(d)) }

// expect checks a sequence of observations against what they should be.
func expect(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func mustOK(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusOK && r.status != http.StatusNoContent {
		t.Fatalf("want success, got %s", r)
	}
}

func TestConsistencyLag_RebootShowsOnlyAfterTheLag(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: time.Second, TransitionTime: 2 * time.Second})
	id := h.createActive("web") // active at 0:05
	h.clock.Advance(time.Minute)
	mustOK(t, h.do("POST", serverPath(id, "reboot"), nil)) // at 1:05

	expect(t, "GET right after the reboot", h.seen(id), "active at "+at(5*time.Second))
	expect(t, "list right after the reboot", h.listed(""), "web (1)")
	if s, _ := h.emu.Server(id); s.Status != StatusRebooting {
		t.Errorf("Server() shows the true status; got %s", s.Status)
	}
	h.clock.Advance(time.Second - time.Millisecond)
	expect(t, "GET just before the lag ends", h.seen(id), "active at "+at(5*time.Second))
	h.clock.Advance(time.Millisecond)
	expect(t, "GET when the lag ends", h.seen(id), "rebooting at "+at(65*time.Second))
	h.clock.Advance(time.Second)
	expect(t, "GET when the reboot ends", h.seen(id), "active at "+at(67*time.Second))
}

func TestConsistencyLag_LongerThanTheTransitionHidesTheTransientStatus(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: 3 * time.Second, TransitionTime: 2 * time.Second})
	id := h.createActive("web")
	mustOK(t, h.do("POST", serverPath(id, "reboot"), nil)) // at 0:05, ends 0:07

	for range 3 {
		expect(t, "during the lag", h.seen(id), "active at "+at(5*time.Second))
		h.clock.Advance(time.Second - time.Millisecond)
	}
	h.clock.Advance(3 * time.Millisecond)
	expect(t, "after the lag, the end of the reboot", h.seen(id), "active at "+at(7*time.Second))
}

func TestConsistencyLag_StopShowsOnlyAfterTheLag(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: time.Second, TransitionTime: 2 * time.Second})
	id := h.createActive("web")
	mustOK(t, h.do("POST", serverPath(id, "stop"), nil)) // at 0:05

	expect(t, "GET during the lag", h.seen(id), "active at "+at(5*time.Second))
	expect(t, "status=stopped during the lag", h.listed("status=stopped"), " (0)")
	expect(t, "status=active during the lag", h.listed("status=active"), "web (1)")
	if r := h.do("POST", serverPath(id, "start"), nil); r.status != http.StatusBadRequest ||
		r.body["detail"] != "Server is stopping; wait until the action has finished." {
		t.Errorf("start while stopping, though GET says active: %s", r)
	}
	h.clock.Advance(time.Second)
	expect(t, "GET after the lag", h.seen(id), "stopping at "+at(5*time.Second))
	h.clock.Advance(time.Second)
	expect(t, "GET after the stop", h.seen(id), "stopped at "+at(7*time.Second))
	expect(t, "status=stopped after the stop", h.listed("status=stopped"), "web (1)")
}

func TestConsistencyLag_DeletedServerShowsUntilTheLagEnds(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: time.Second})
	id := h.createActive("web")
	h.createActive("db")
	if r := h.do("DELETE", serverPath(id, ""), nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %s", r)
	}

	expect(t, "GET during the lag", h.seen(id), "active at "+at(5*time.Second))
	expect(t, "list during the lag", h.listed(""), "web db (2)")
	expect(t, "status=active during the lag", h.listed("status=active&location=us-west"), "web db (2)")
	for _, req := range []struct{ method, action string }{
		{"DELETE", ""}, {"PATCH", ""}, {"PUT", ""}, {"POST", "start"}, {"POST", "stop"}, {"POST", "reboot"},
	} {
		if r := h.do(req.method, serverPath(id, req.action), map[string]any{"name": "x"}); r.status != http.StatusNotFound {
			t.Errorf("%s %s on a deleted server during the lag: want 404, got %s", req.method, req.action, r)
		}
	}
	if _, ok := h.emu.Server(id); ok || len(h.emu.Servers("alice")) != 1 {
		t.Error("Server() and Servers() show the true state: the server is gone")
	}
	if r := h.doAs(bobToken, "GET", serverPath(id, ""), nil, nil); r.status != http.StatusNotFound {
		t.Errorf("another account never sees it: %s", r)
	}
	h.clock.Advance(time.Second)
	expect(t, "GET after the lag", h.seen(id), "404")
	expect(t, "list after the lag", h.listed(""), "db (1)")
}

func TestConsistencyLag_DeleteAfterAnActionShowsEachChangeInTurn(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: time.Second, TransitionTime: 2 * time.Second})
	id := h.createActive("web")
	mustOK(t, h.do("POST", serverPath(id, "reboot"), nil)) // at 0:05
	h.clock.Advance(500 * time.Millisecond)
	mustOK(t, h.do("DELETE", serverPath(id, ""), nil)) // at 0:05.5

	expect(t, "before the reboot shows", h.seen(id), "active at "+at(5*time.Second))
	h.clock.Advance(500 * time.Millisecond)
	expect(t, "the reboot shows, as it was at the delete", h.seen(id), "rebooting at "+at(5*time.Second))
	h.clock.Advance(499 * time.Millisecond)
	expect(t, "a deleted server does not finish its reboot", h.seen(id), "rebooting at "+at(5*time.Second))
	h.clock.Advance(time.Millisecond)
	expect(t, "the delete shows", h.seen(id), "404")
}

func TestConsistencyLag_ActionsDuringATransitionAreRefusedWithAClearMessage(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: 5 * time.Second, TransitionTime: 2 * time.Second})
	id := h.createActive("web")
	mustOK(t, h.do("POST", serverPath(id, "reboot"), nil))
	expect(t, "GET", h.seen(id), "active at "+at(5*time.Second))
	for _, action := range []string{"reboot", "stop", "start"} {
		r := h.do("POST", serverPath(id, action), nil)
		if r.status != http.StatusBadRequest || r.body["detail"] != "Server is rebooting; wait until the action has finished." {
			t.Errorf("%s during the reboot: %s", action, r)
		}
	}
	h.clock.Advance(2 * time.Second)
	r := h.do("POST", serverPath(id, "reboot"), nil)
	if r.status != http.StatusOK {
		t.Errorf("once the true reboot has ended a reboot is accepted, whatever GET shows: %s", r)
	}
	var statuses []string
	for _, c := range h.emu.History(id) {
		statuses = append(statuses, c.Status)
	}
	expect(t, "History", strings.Join(statuses, " "), "provisioning active rebooting active rebooting")
}

func TestConsistencyLag_SettingsShowAtOnce(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: 10 * time.Second})
	id := h.createActive("web")
	mustOK(t, h.do("POST", serverPath(id, "stop"), nil)) // at 0:05
	h.clock.Advance(time.Second)
	r := h.do("PATCH", serverPath(id, ""), map[string]any{"name": "renamed"}) // at 0:06
	if r.status != http.StatusOK || r.body["name"] != "renamed" {
		t.Fatalf("PATCH: %s", r)
	}
	r = h.do("GET", serverPath(id, ""), nil)
	if r.body["name"] != "renamed" || r.body["status"] != "active" || r.body["updated_at"] != at(6*time.Second) {
		t.Errorf("GET after the PATCH shows the new name and its updated_at, and still the old status: %s", r)
	}
	created := h.create("new") // visible at once
	expect(t, "a new server shows at once", h.seen(created), "provisioning at "+at(6*time.Second))
}

func TestConsistencyLag_OutOfBandHooksSetAndShowTheTrueState(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: time.Minute})
	id := h.createActive("web")
	other := h.createActive("db") // clock at 0:10
	mustOK(t, h.do("POST", serverPath(id, "stop"), nil))
	if s, _ := h.emu.Server(id); s.Status != StatusStopping {
		t.Errorf("Server() = %s, want the true stopping", s.Status)
	}
	h.clock.Advance(time.Second)
	h.emu.SetStatus(id, StatusSuspended)
	expect(t, "GET after SetStatus", h.seen(id), "suspended at "+at(11*time.Second))
	h.emu.RenameServer(other, "renamed")
	expect(t, "list after RenameServer", h.listed(""), "web renamed (2)")
	h.emu.DeleteServer(other)
	expect(t, "GET after DeleteServer", h.seen(other), "404")
}

func TestConsistencyLag_AppliesToRequestsSentAfterItIsSet(t *testing.T) {
	h := newHarness(t, Options{TransitionTime: time.Minute})
	a, b := h.createActive("a"), h.createActive("b") // clock at 0:10
	mustOK(t, h.do("POST", serverPath(a, "stop"), nil))
	h.emu.SetConsistencyLag(time.Second)
	mustOK(t, h.do("POST", serverPath(b, "stop"), nil))
	expect(t, "a, stopped before the lag", h.seen(a), "stopping at "+at(10*time.Second))
	expect(t, "b, stopped under the lag", h.seen(b), "active at "+at(10*time.Second))
	h.emu.SetConsistencyLag(-time.Second)
	mustOK(t, h.do("DELETE", serverPath(a, ""), nil))
	expect(t, "a, deleted once the lag is off", h.seen(a), "404")
}

func TestConsistencyLag_ZeroShowsEveryChangeAtOnce(t *testing.T) {
	h := newHarness(t, Options{TransitionTime: 2 * time.Second})
	id := h.createActive("web")
	mustOK(t, h.do("POST", serverPath(id, "reboot"), nil))
	expect(t, "GET after the reboot", h.seen(id), "rebooting at "+at(5*time.Second))
	expect(t, "status=active after the reboot", h.listed("status=active"), " (0)")
	mustOK(t, h.do("DELETE", serverPath(id, ""), nil))
	expect(t, "GET after the delete", h.seen(id), "404")
	expect(t, "list after the delete", h.listed(""), " (0)")
}

func TestConsistencyLag_ListFiltersSeeTheLaggedView(t *testing.T) {
	h := newHarness(t, Options{ConsistencyLag: time.Second, TransitionTime: 10 * time.Second, PageSize: 1})
	web := h.createActive("web")
	h.createActive("db")
	mustOK(t, h.do("POST", serverPath(web, "reboot"), nil))

	expect(t, "status=active during the lag", h.listed("status=active"), "web (2)")
	expect(t, "page 2 of status=active", h.listed("status=active&page=2"), "db (2)")
	expect(t, "status=rebooting during the lag", h.listed("status=rebooting"), " (0)")
	h.clock.Advance(time.Second)
	expect(t, "status=active after the lag", h.listed("status=active"), "db (1)")
	expect(t, "status=rebooting after the lag", h.listed("status=rebooting"), "web (1)")
}

func TestHistory_ListsEveryTrueStatusFromCreateToDelete(t *testing.T) {
	h := newHarness(t, Options{TransitionTime: 2 * time.Second, ConsistencyLag: 3 * time.Second})
	start := h.clock.Now()
	id := h.create("web")
	h.clock.Advance(10 * time.Second)
	mustOK(t, h.do("POST", serverPath(id, "reboot"), nil)) // never seen: the lag outlasts it
	h.clock.Advance(5 * time.Second)
	mustOK(t, h.do("DELETE", serverPath(id, ""), nil))
	h.clock.Advance(time.Hour)

	want := []StatusChange{
		{start, "provisioning", "POST create"},
		{start.Add(5 * time.Second), "active", "provisioned"},
		{start.Add(10 * time.Second), "rebooting", "POST reboot"},
		{start.Add(12 * time.Second), "active", "rebooted"},
		{start.Add(15 * time.Second), "deleted", "DELETE"},
	}
	if got := h.emu.History(id); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("History:\n got  %v\n want %v", got, want)
	}
}

func TestHistory_RecordsHooksAndFailuresAndNothingForUnknownIDs(t *testing.T) {
	h := newHarness(t, Options{})
	start := h.clock.Now()
	s, err := h.emu.AddServer("bob", ServerSpec{Name: "db", PlanID: 1, OSID: 5, Location: "us-west", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	h.emu.SetStatus(s.ID, StatusActive) // no change
	h.clock.Advance(time.Second)
	h.emu.SetStatus(s.ID, StatusSuspended)
	h.clock.Advance(time.Second)
	h.emu.DeleteServer(s.ID)
	want := []StatusChange{
		{start, "active", "AddServer"},
		{start.Add(time.Second), "suspended", "SetStatus"},
		{start.Add(2 * time.Second), "deleted", "DeleteServer"},
	}
	if got := h.emu.History(s.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("History of a hooked server:\n got  %v\n want %v", got, want)
	}

	h.emu.FailProvisioning(func(string) bool { return true })
	failed := h.create("doomed")
	h.clock.Advance(DefaultProvisioningTime)
	got := h.emu.History(failed)
	if len(got) != 2 || got[1].Status != StatusError || got[1].Cause != "provisioning failed" {
		t.Errorf("History of a failed provisioning: %v", got)
	}
	if got := h.emu.History(999999); got != nil {
		t.Errorf("History of an unknown id: %v", got)
	}
}
