package control

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// world is an emulator with its control API, served over real HTTP from
// loopback, as the command serves them.
type world struct {
	t       *testing.T
	emu     *emulator.Emulator
	url     string
	changed int
}

func newWorld(t *testing.T, opts Options) *world {
	t.Helper()
	w := &world{t: t, emu: emulator.New(emulator.Options{
		Tokens:           map[string]string{"alice-token": "alice"},
		ProvisioningTime: -1, TransitionTime: -1,
	})}
	if opts.Changed == nil {
		opts.Changed = func() { w.changed++ }
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", w.emu)
	mux.Handle(Prefix, New(w.emu, opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// call sends a request, as JSON unless it is a GET, and decodes a JSON
// answer into out (when not nil).
func (w *world) call(method, path, token, body string, out any) int {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			w.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// apiStatus is the server's status as alice's GET shows it, or the HTTP
// status when it is not 200.
func (w *world) apiStatus(id int64) string {
	w.t.Helper()
	var s struct{ Status string }
	if code := w.call("GET", fmt.Sprintf("/api/v1/servers/%d/", id), "alice-token", "", &s); code != 200 {
		return fmt.Sprint(code)
	}
	return s.Status
}

func TestServers_AddChangeAndDeleteBehindTheAPIsBack(t *testing.T) {
	w := newWorld(t, Options{})
	var s emulator.Server
	if code := w.call("POST", "/_emulator/servers", "",
		`{"account": "alice", "name": "web", "plan_id": 1, "os_id": 5, "location": "us-west", "status": "active"}`, &s); code != 201 {
		t.Fatalf("add: %d", code)
	}
	if got := w.apiStatus(s.ID); got != "active" {
		t.Fatalf("the API shows %q, want the added server active", got)
	}
	if code := w.call("PATCH", fmt.Sprintf("/_emulator/servers/%d", s.ID), "", `{"status": "suspended", "name": "drifted"}`, &s); code != 200 ||
		s.Name != "drifted" {
		t.Fatalf("change: %d %+v", code, s)
	}
	if got := w.apiStatus(s.ID); got != "suspended" {
		t.Errorf("after the change the API shows %q, want suspended", got)
	}
	var listed []emulator.Server
	if w.call("GET", "/_emulator/servers?account=alice", "", "", &listed); len(listed) != 1 || listed[0].Name != "drifted" {
		t.Errorf("listed %+v", listed)
	}
	if code := w.call("DELETE", fmt.Sprintf("/_emulator/servers/%d", s.ID), "", "", nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if got := w.apiStatus(s.ID); got != "404" {
		t.Errorf("after the delete the API shows %q, want 404", got)
	}
	var hist []emulator.StatusChange
	w.call("GET", fmt.Sprintf("/_emulator/servers/%d/history", s.ID), "", "", &hist)
	var causes []string
	for _, c := range hist {
		causes = append(causes, c.Status+" by "+c.Cause)
	}
	if want := "active by AddServer, suspended by SetStatus, deleted by DeleteServer"; strings.Join(causes, ", ") != want {
		t.Errorf("history %q, want %q", strings.Join(causes, ", "), want)
	}
	if w.changed != 3 {
		t.Errorf("Changed called %d times, want 3 (add, change, delete)", w.changed)
	}
}

func TestServers_RefusesABadSpecOrIdNamingTheProblem(t *testing.T) {
	w := newWorld(t, Options{})
	var e struct{ Detail string }
	if code := w.call("POST", "/_emulator/servers", "", `{"name": "x", "plan_id": 999, "os_id": 5, "location": "us-west"}`, &e); code != 400 ||
		!strings.Contains(e.Detail, "plan") {
		t.Errorf("unknown plan: %d %q", code, e.Detail)
	}
	if code := w.call("POST", "/_emulator/servers", "", `{"name": "x", "plan": 1}`, &e); code != 400 || !strings.Contains(e.Detail, `"plan"`) {
		t.Errorf("unknown field: %d %q", code, e.Detail)
	}
	for _, path := range []string{"/_emulator/servers/abc", "/_emulator/servers/777"} {
		if code := w.call("PATCH", path, "", `{"status": "stopped"}`, nil); code != 404 {
			t.Errorf("PATCH %s: %d, want 404", path, code)
		}
	}
}

func TestReset_CallsTheResetGivenAndDefaultsToAnEmptyWorld(t *testing.T) {
	w := newWorld(t, Options{})
	w.call("POST", "/_emulator/servers", "", `{"account": "alice", "name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`, nil)
	var st emulator.State
	if code := w.call("POST", "/_emulator/reset", "", "", &st); code != 200 || len(st.Servers) != 0 {
		t.Errorf("default reset: %d, %d servers left", code, len(st.Servers))
	}
	seeded := 0
	w2 := newWorld(t, Options{Reset: func() error { seeded++; return nil }})
	w2.call("POST", "/_emulator/reset", "", "", nil)
	if seeded != 1 {
		t.Errorf("the given Reset ran %d times", seeded)
	}
}

func TestFaults_InjectedOverHTTPAnswerTheNextMatchingRequests(t *testing.T) {
	w := newWorld(t, Options{})
	if code := w.call("POST", "/_emulator/faults", "", `[{"route": "/api/v1/servers/", "method": "GET", "status": 503, "count": 2}]`, nil); code != 201 {
		t.Fatalf("inject: %d", code)
	}
	var got []int
	for range 3 {
		got = append(got, w.call("GET", "/api/v1/servers/", "alice-token", "", nil))
	}
	if fmt.Sprint(got) != "[503 503 200]" {
		t.Errorf("statuses %v, want [503 503 200]", got)
	}
	w.call("POST", "/_emulator/faults", "", `{"status": 500}`, nil)
	w.call("DELETE", "/_emulator/faults", "", "", nil)
	if code := w.call("GET", "/api/v1/servers/", "alice-token", "", nil); code != 200 {
		t.Errorf("after clearing faults: %d", code)
	}
}

func TestSettings_ApplyAllOrNothingAndShowWhatWasSet(t *testing.T) {
	w := newWorld(t, Options{})
	var e struct{ Detail string }
	code := w.call("PATCH", "/_emulator/settings", "", `{"rate_limit": {"per_second": 0.001, "burst": 1}, "latency": "soon", "bogus": 1}`, &e)
	if code != 400 || !strings.Contains(e.Detail, "latency: want a duration") || !strings.Contains(e.Detail, "bogus: no such setting") {
		t.Fatalf("bad settings: %d %q", code, e.Detail)
	}
	for range 3 {
		if code := w.call("GET", "/api/v1/servers/", "alice-token", "", nil); code != 200 {
			t.Fatalf("a refused PATCH set the rate limit: %d", code)
		}
	}
	if code := w.call("PATCH", "/_emulator/settings", "", `{"rate_limit": {"per_second": 0.001, "burst": 1}, "fail_provisioning": "^bad-"}`, nil); code != 200 {
		t.Fatalf("settings: %d", code)
	}
	statuses := []int{w.call("GET", "/api/v1/servers/", "alice-token", "", nil), w.call("GET", "/api/v1/servers/", "alice-token", "", nil)}
	if fmt.Sprint(statuses) != "[200 429]" {
		t.Errorf("under a limit of burst 1: %v, want [200 429]", statuses)
	}
	var shown []settingView
	w.call("GET", "/_emulator/settings", "", "", &shown)
	for _, s := range shown {
		if s.Name == "rate_limit" && !strings.Contains(string(s.Value), "0.001") {
			t.Errorf("rate_limit shows %s", s.Value)
		}
	}
	if len(shown) != len(Settings) {
		t.Errorf("%d settings shown, want %d", len(shown), len(Settings))
	}
}

// The manners of issue 18, the strictness of issue 19 and the open answers
// of issue 17 are settings too: a PATCH changes the fields it names and keeps the others, and the
// API answers by them at once.
func TestSettings_MannersStrictnessAndUpdateAnswersChangeTheAPIAtOnce(t *testing.T) {
	w := newWorld(t, Options{})
	w.call("POST", "/api/v1/servers/", "alice-token", `{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`, nil)
	if code := w.call("PATCH", "/_emulator/settings", "", `{"manners": {"create_lag": "1h", "clock_offset": "-20m"}}`, nil); code != 200 {
		t.Fatalf("manners: %d", code)
	}
	if code := w.call("PATCH", "/_emulator/settings", "", `{"manners": {"echo_headers": true, "list_churn": 3}}`, nil); code != 200 {
		t.Fatalf("manners: %d", code)
	}
	if m := w.emu.Manners(); m.CreateLag != time.Hour || m.ClockOffset != -20*time.Minute || !m.EchoHeaders || m.ListChurn != 3 {
		t.Errorf("manners in force %+v: want create_lag 1h and clock_offset -20m kept beside echo_headers and list_churn 3", m)
	}
	var created struct{ ID int64 }
	w.call("POST", "/api/v1/servers/", "alice-token", `{"name": "late", "plan_id": 1, "os_id": 5, "location": "us-west"}`, &created)
	if code := w.call("GET", fmt.Sprintf("/api/v1/servers/%d/", created.ID), "alice-token", "", nil); code != 404 {
		t.Errorf("a server made under a create lag of 1h: GET %d, want 404", code)
	}
	resp, err := http.Get(w.url + "/api/v1/servers/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || time.Until(date) > -19*time.Minute || time.Until(date) < -21*time.Minute {
		t.Errorf("Date %q under a clock offset of -20m (now %s)", resp.Header.Get("Date"), time.Now().UTC())
	}
	for body, want := range map[string]int{`{"manners": {"create_lag": "-1s"}}`: 400, `{"manners": {"partial_every": -1}}`: 400, `{"manners": {"bogus": 1}}`: 400} {
		if code := w.call("PATCH", "/_emulator/settings", "", body, nil); code != want {
			t.Errorf("%s: %d, want %d", body, code, want)
		}
	}

	if code := w.call("PATCH", "/_emulator/settings", "", `{"strictness": {"rate_limit_headers": "x-ratelimit", "strict_filters": true}, "rate_limit": {"per_second": 100, "burst": 100}}`, nil); code != 200 {
		t.Fatalf("strictness: %d", code)
	}
	if code := w.call("GET", "/api/v1/servers/?status=provisioning", "alice-token", "", nil); code != 400 {
		t.Errorf("a list filtered by an undocumented status under strict_filters: %d, want 400", code)
	}
	req, _ := http.NewRequest("GET", w.url+"/api/v1/servers/", nil)
	req.Header.Set("Authorization", "Bearer alice-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.Header.Get("X-RateLimit-Limit") != "100" {
		t.Errorf("under rate_limit_headers x-ratelimit: %v, X-RateLimit-Limit %q, want 100", err, resp.Header.Get("X-RateLimit-Limit"))
	} else {
		resp.Body.Close()
	}
	if code := w.call("PATCH", "/_emulator/settings", "", `{"strictness": {"rate_limit_headers": "bogus"}}`, nil); code != 400 {
		t.Errorf("an unknown header family: %d, want 400", code)
	}

	if code := w.call("PATCH", "/_emulator/settings", "", `{"update_answers": {"empty_update_answer": true}}`, nil); code != 200 {
		t.Fatalf("update_answers: %d", code)
	}
	var answer map[string]any
	if code := w.call("PATCH", "/api/v1/servers/12345/", "alice-token", `{"name": "web-2"}`, &answer); code != 200 || len(answer) != 0 {
		t.Errorf("PATCH under empty_update_answer: %d %v, want 200 {}", code, answer)
	}
}

func TestJournal_FiltersByMethodPathAndTime(t *testing.T) {
	w := newWorld(t, Options{})
	w.call("GET", "/api/v1/servers/", "alice-token", "", nil)
	w.call("POST", "/api/v1/servers/", "alice-token", `{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`, nil)
	w.call("GET", "/api/v1/servers/12345/", "alice-token", "", nil)
	var all []emulator.Request
	w.call("GET", "/_emulator/requests", "", "", &all)
	if len(all) != 3 {
		t.Fatalf("journal %+v", all)
	}
	var posts, byPath, later []emulator.Request
	w.call("GET", "/_emulator/requests?method=post", "", "", &posts)
	w.call("GET", "/_emulator/requests?path=/api/v1/servers/12345/", "", "", &byPath)
	w.call("GET", "/_emulator/requests?since="+all[1].Time.Format(time.RFC3339Nano), "", "", &later)
	if len(posts) != 1 || posts[0].Status != 201 || len(byPath) != 1 || byPath[0].Method != "GET" || len(later) != 2 {
		t.Errorf("posts %+v; by path %+v; since the second %+v", posts, byPath, later)
	}
	var counts map[string]int
	w.call("GET", "/_emulator/requests/counts", "", "", &counts)
	if counts["GET /api/v1/servers/"] != 1 || counts["POST /api/v1/servers/"] != 1 {
		t.Errorf("counts %v", counts)
	}
	var stats emulator.JournalStats
	w.call("GET", "/_emulator/journal", "", "", &stats)
	if want := (emulator.JournalStats{Size: emulator.DefaultJournalSize, Kept: 3, Total: 3, PathLimit: emulator.JournalPathLimit}); stats != want {
		t.Errorf("journal stats %+v, want %+v", stats, want)
	}
	if code := w.call("GET", "/_emulator/requests?since=yesterday", "", "", nil); code != 400 {
		t.Errorf("a bad time: %d", code)
	}
	w.call("DELETE", "/_emulator/requests", "", "", nil)
	if w.call("GET", "/_emulator/requests", "", "", &all); len(all) != 0 {
		t.Errorf("journal after DELETE: %+v", all)
	}
}

// remote sends a control request as if from a non-loopback address.
func remote(h http.Handler, method, path, token string) int {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.10:40000"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestAuthorize_OffLoopbackTheAdminTokenIsNeeded(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	open := New(emu, Options{})
	if code := remote(open, "POST", "/_emulator/reset", ""); code != http.StatusForbidden {
		t.Errorf("no admin token configured, remote reset: %d, want 403", code)
	}
	guarded := New(emu, Options{AdminToken: "s3cret"})
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"s3cret", 200}} {
		if code := remote(guarded, "GET", "/_emulator/servers", c.token); code != c.want {
			t.Errorf("remote with token %q: %d, want %d", c.token, code, c.want)
		}
	}
	if code := remote(open, "GET", HealthPath, ""); code != 200 {
		t.Errorf("health from afar: %d, want 200 with no token", code)
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "127.9.9.9:1": true, "[::1]:1": true,
		"192.0.2.1:1": false, "[2001:db8::1]:1": false, "garbage": false} {
		if FromLoopback(addr) != want {
			t.Errorf("FromLoopback(%q) = %v", addr, !want)
		}
	}
}
