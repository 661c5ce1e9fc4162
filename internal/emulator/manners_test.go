package emulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestManners_CreateLagHidesANewServerFromGETAndTheList(t *testing.T) {
	h := newHarness(t, Options{Manners: Manners{CreateLag: 3 * time.Second}})
	id := h.create("late")
	if r := h.do(http.MethodGet, serverPath(id, ""), nil); r.status != http.StatusNotFound {
		t.Errorf("GET right after the create: %v, want 404", r)
	}
	if r := h.do(http.MethodGet, RouteServers, nil); r.body["count"] != float64(0) {
		t.Errorf("list right after the create: %v, want no server", r)
	}
	h.clock.Advance(3 * time.Second)
	if r := h.do(http.MethodGet, serverPath(id, ""), nil); r.status != http.StatusOK {
		t.Errorf("GET once the lag passed: %v, want 200", r)
	}
	if r := h.do(http.MethodGet, RouteServers, nil); r.body["count"] != float64(1) {
		t.Errorf("list once the lag passed: %v, want the server", r)
	}
}

func TestManners_ClockOffsetShowsInTimestampsAndDate(t *testing.T) {
	h := newHarness(t, Options{Manners: Manners{ClockOffset: -20 * time.Second}})
	r := h.do(http.MethodPost, RouteServers, validCreate("skewed"))
	want := h.clock.Now().Add(-20 * time.Second).UTC()
	if got := r.body["created_at"]; got != want.Format(time.RFC3339) {
		t.Errorf("created_at = %v, want %s (20 s behind)", got, want.Format(time.RFC3339))
	}
	if got := r.header.Get("Date"); got != want.Format(http.TimeFormat) {
		t.Errorf("Date = %q, want %q", got, want.Format(http.TimeFormat))
	}
}

func TestManners_PartialEveryStripsPlanOSAndLocation(t *testing.T) {
	h := newHarness(t, Options{Manners: Manners{PartialEvery: 2}})
	id := h.create("partial")
	var partial int
	for range 4 {
		r := h.do(http.MethodGet, serverPath(id, ""), nil)
		_, hasPlan := r.body["plan"]
		_, hasOS := r.body["os"]
		_, hasLocation := r.body["location"]
		switch {
		case !hasPlan && !hasOS && !hasLocation:
			partial++
		case !hasPlan || !hasOS || !hasLocation:
			t.Errorf("half-stripped answer: %v", r)
		}
	}
	if partial != 2 {
		t.Errorf("%d of 4 answers partial, want 2", partial)
	}
}

func TestManners_UnknownStatusReplacesActive(t *testing.T) {
	h := newHarness(t, Options{ProvisioningTime: -1, Manners: Manners{UnknownStatus: "maintenance"}})
	id := h.create("odd")
	if r := h.do(http.MethodGet, serverPath(id, ""), nil); r.body["status"] != "maintenance" {
		t.Errorf("status = %v, want maintenance", r.body["status"])
	}
}

func TestManners_RedirectToAnswers307ToTheOtherBase(t *testing.T) {
	h := newHarness(t, Options{Manners: Manners{RedirectTo: "http://127.0.0.1:9/"}})
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/api/v1/servers/?page=1", nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "http://127.0.0.1:9/api/v1/servers/?page=1" {
		t.Errorf("answer %d to %q, want 307 to the other base", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestManners_HostileNextIsEveryPagesNext(t *testing.T) {
	h := newHarness(t, Options{Manners: Manners{HostileNext: "https://evil.example/steal"}})
	if r := h.do(http.MethodGet, RouteServers, nil); r.body["next"] != "https://evil.example/steal" {
		t.Errorf("next = %v", r.body["next"])
	}
}

func TestManners_ErrorBodiesHugeOrEchoingTheRequest(t *testing.T) {
	h := newHarness(t, Options{Manners: Manners{EchoHeaders: true}})
	if r := h.do(http.MethodGet, serverPath(99, ""), nil); r.status != 404 || !strings.Contains(string(r.raw), aliceToken) {
		t.Errorf("answer %v, want a 404 echoing the token", r)
	}
	h = newHarness(t, Options{Manners: Manners{HugeErrors: true}})
	r := h.do(http.MethodGet, serverPath(99, ""), nil)
	if r.status != 404 || len(r.raw) < 1<<20 || strings.Count(string(r.raw), `"field": {`) < 199 {
		t.Errorf("a %d answer of %d bytes, want a 404 of 1 MiB nested 200 deep", r.status, len(r.raw))
	}
}

func TestManners_ListChurnShiftsTheLaterPagesByOne(t *testing.T) {
	h := newHarness(t, Options{PageSize: 2, Manners: Manners{ListChurn: 1}})
	var ids []int64
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		ids = append(ids, h.createActive(name))
	}
	names := func(r response) (out []string) {
		for _, s := range r.body["results"].([]any) {
			out = append(out, s.(map[string]any)["name"].(string))
		}
		return out
	}
	first := h.do(http.MethodGet, RouteServers, nil)
	second := h.do(http.MethodGet, RouteServers+"?page=2", nil)
	// a was deleted and a new a created at the end: page 2 is now d, e,
	// and c, on neither page read, was skipped.
	if got := append(names(first), names(second)...); !slices.Equal(got, []string{"a", "b", "d", "e"}) {
		t.Errorf("pages 1 and 2 read %v, want [a b d e]: c skipped by the shift", got)
	}
	if first.body["count"] != float64(5) || second.body["count"] != float64(5) {
		t.Errorf("counts %v and %v, want 5 both times", first.body["count"], second.body["count"])
	}
	if r := h.do(http.MethodGet, serverPath(ids[0], ""), nil); r.status != http.StatusNotFound {
		t.Errorf("the oldest server after the churn: %v, want 404", r)
	}
	if left := h.emu.Manners().ListChurn; left != 0 {
		t.Errorf("ListChurn left %d, want 0 after one churn", left)
	}
	again := h.do(http.MethodGet, RouteServers+"?page=2", nil)
	if got := names(again); !slices.Equal(got, []string{"d", "e"}) {
		t.Errorf("page 2 after the churn ran out reads %v, want [d e]", got)
	}
}
