package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFault_HitsCountMatchingRequestsThenStops(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createActive("web")
	h.emu.InjectFault(Fault{Method: "GET", Route: RouteServer, Count: 2, Status: 503, RetryAfter: "7"})
	if r := h.do("GET", "/api/v1/servers/", nil); r.status != 200 {
		t.Errorf("another route is not hit: %s", r)
	}
	if r := h.do("DELETE", serverPath(id+1, ""), nil); r.status != 404 {
		t.Errorf("another method is not hit: %s", r)
	}
	for i := range 2 {
		r := h.do("GET", serverPath(id, ""), nil)
		if r.status != 503 || r.header.Get("Retry-After") != "7" || r.body["detail"] != "Service Unavailable." {
			t.Errorf("hit %d: %s (Retry-After %q)", i+1, r, r.header.Get("Retry-After"))
		}
	}
	if r := h.do("GET", serverPath(id, ""), nil); r.status != 200 || r.header.Get("Retry-After") != "" {
		t.Errorf("after Count hits: %s", r)
	}
}

func TestFault_EmptyMethodAndCustomBody(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.InjectFault(Fault{Route: RouteServers, Status: 502, Body: "<html>Bad Gateway</html>"})
	r := h.do("POST", "/api/v1/servers/", validCreate("web"))
	if r.status != 502 || string(r.raw) != "<html>Bad Gateway</html>" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("got %s (%s)", r, r.header.Get("Content-Type"))
	}
	if n := len(h.emu.Servers("alice")); n != 0 {
		t.Errorf("a fault without AfterAction must not act: %d servers", n)
	}
	h.emu.InjectFault(Fault{Status: 500, Body: `{"error":"boom"}`})
	if r := h.do("GET", "/api/v1/anything/", nil); r.status != 500 || r.body["error"] != "boom" {
		t.Errorf("empty Method and Route match any request: %s", r)
	}
}

func TestFault_AfterActionCreatesTheServerAndStillFails(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.InjectFault(Fault{Method: "POST", Route: RouteServers, Status: 504, AfterAction: true})
	r := h.do("POST", "/api/v1/servers/", validCreate("web"))
	if r.status != 504 || r.body["detail"] != "Gateway Timeout." {
		t.Fatalf("got %s", r)
	}
	servers := h.emu.Servers("alice")
	if len(servers) != 1 || servers[0].Name != "web" {
		t.Fatalf("the create must have happened: %+v", servers)
	}
	if got := h.emu.Requests(); len(got) != 1 || got[0].Status != 504 {
		t.Errorf("one request, logged with the status the client saw: %+v", got)
	}
}

func TestFault_DropConnectionClosesWithoutAnswer(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createActive("web")
	h.emu.InjectFault(Fault{Method: "POST", Route: RouteStop, DropConnection: true})
	h.emu.InjectFault(Fault{Method: "POST", Route: RouteServers, DropConnection: true, AfterAction: true})

	post := func(path string, body string) error {
		req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+aliceToken)
		resp, err := h.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := post(serverPath(id, "stop"), ""); err == nil {
		t.Error("stop: want a connection error")
	}
	if got := h.status(id); got != "active" {
		t.Errorf("dropped before acting, the server must not stop: %s", got)
	}
	if err := post("/api/v1/servers/", `{"name":"ghost","plan_id":1,"os_id":5,"location":"us-west"}`); err == nil {
		t.Error("create: want a connection error")
	}
	if servers := h.emu.Servers("alice"); len(servers) != 2 || servers[1].Name != "ghost" {
		t.Errorf("dropped after acting, the server must exist: %+v", servers)
	}
	for _, r := range h.emu.Requests() {
		if r.Route == RouteStop && r.Status != 0 {
			t.Errorf("a dropped request is logged with status 0: %+v", r)
		}
	}
}

func TestFault_ClearFaultsRemovesEveryHook(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.InjectFault(Fault{Status: 500, Count: 100})
	h.emu.SetLatency(time.Hour)
	h.emu.SetRateLimit(0.001, 1)
	h.emu.ClearFaults()
	for range 3 {
		if r := h.do("GET", "/api/v1/servers/", nil); r.status != 200 {
			t.Fatalf("after ClearFaults: %s", r)
		}
	}
}

func TestRateLimit_PerAccountTokenBucket(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.SetRateLimit(0.5, 2) // one token every 2s
	for i := range 2 {
		if r := h.do("GET", "/api/v1/servers/", nil); r.status != 200 {
			t.Fatalf("burst request %d: %s", i+1, r)
		}
	}
	r := h.do("GET", "/api/v1/servers/", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" || r.body["detail"] == nil {
		t.Fatalf("over the limit: %s (Retry-After %q)", r, r.header.Get("Retry-After"))
	}
	if r := h.doAs(bobToken, "GET", "/api/v1/servers/", nil, nil); r.status != 200 {
		t.Errorf("bob has his own bucket: %s", r)
	}
	if r := h.doAs("", "GET", "/api/v1/servers/", nil, nil); r.status != 401 {
		t.Errorf("unauthenticated requests are not throttled but refused: %s", r)
	}
	h.clock.Advance(1500 * time.Millisecond)
	if r := h.do("GET", "/api/v1/servers/", nil); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After rounds up to whole seconds, at least 1: %s (%q)", r, r.header.Get("Retry-After"))
	}
	h.clock.Advance(500 * time.Millisecond)
	if r := h.do("GET", "/api/v1/servers/", nil); r.status != 200 {
		t.Errorf("after refill: %s", r)
	}
	h.emu.SetRateLimit(0, 0)
	for range 5 {
		if r := h.do("GET", "/api/v1/servers/", nil); r.status != 200 {
			t.Fatalf("disabled: %s", r)
		}
	}
	h.emu.SetRateLimit(100, 0)
	if r := h.do("GET", "/api/v1/servers/", nil); r.status != 200 {
		t.Errorf("burst 0 counts as 1: %s", r)
	}
	if r := h.do("GET", "/api/v1/servers/", nil); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("fast refill still says at least 1 second: %s", r)
	}
}

func TestIdempotencyKey_IgnoredByDefault(t *testing.T) {
	h := newHarness(t, Options{})
	key := http.Header{"Idempotency-Key": {"k-1"}}
	a := h.doAs(aliceToken, "POST", "/api/v1/servers/", validCreate("web"), key)
	b := h.doAs(aliceToken, "POST", "/api/v1/servers/", validCreate("web"), key)
	if a.status != 201 || b.status != 201 || a.body["id"] == b.body["id"] {
		t.Errorf("like the documented API, a repeated create makes another server: %s / %s", a, b)
	}
	if n := len(h.emu.Servers("alice")); n != 2 {
		t.Errorf("%d servers, want 2", n)
	}
}

func TestIdempotencyKey_HonouredReturnsTheFirstAnswer(t *testing.T) {
	h := newHarness(t, Options{HonourIdempotencyKey: true})
	key := http.Header{"Idempotency-Key": {"k-1"}}
	h.emu.InjectFault(Fault{Method: "POST", Route: RouteServers, Status: 502, AfterAction: true})
	if r := h.doAs(aliceToken, "POST", "/api/v1/servers/", validCreate("web"), key); r.status != 502 {
		t.Fatalf("ambiguous first attempt: %s", r)
	}
	h.clock.Advance(time.Minute)
	a := h.doAs(aliceToken, "POST", "/api/v1/servers/", validCreate("web"), key)
	b := h.doAs(aliceToken, "POST", "/api/v1/servers/", validCreate("web"), key)
	if a.status != 201 || !bytes.Equal(a.raw, b.raw) || a.body["id"] != float64(12345) || a.body["status"] != "provisioning" {
		t.Errorf("retries answer the first 201: %s / %s", a, b)
	}
	if n := len(h.emu.Servers("alice")); n != 1 {
		t.Errorf("%d servers, want 1", n)
	}
	if r := h.doAs(bobToken, "POST", "/api/v1/servers/", validCreate("web"), key); r.status != 201 || r.body["id"] == float64(12345) {
		t.Errorf("keys are per account: bob got %s", r)
	}
	if r := h.doAs(aliceToken, "POST", "/api/v1/servers/", validCreate("web"), http.Header{"Idempotency-Key": {"k-2"}}); r.body["id"] == float64(12345) {
		t.Errorf("another key creates another server: %s", r)
	}
	if r := h.do("POST", "/api/v1/servers/", validCreate("web")); r.status != 201 || r.body["id"] == float64(12345) {
		t.Errorf("no key creates another server: %s", r)
	}
}

func TestLatency_DelaysEveryRequest(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.SetLatency(80 * time.Millisecond)
	start := time.Now()
	h.do("GET", "/api/v1/servers/", nil)
	h.do("GET", "/api/v1/nothing/", nil)
	if took := time.Since(start); took < 160*time.Millisecond {
		t.Errorf("two requests took %v, want at least 160ms", took)
	}
	h.emu.SetLatency(0)
	start = time.Now()
	h.do("GET", "/api/v1/servers/", nil)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("after SetLatency(0) a request took %v", took)
	}
}

func TestRequestLog_RecordsEveryRequestInOrder(t *testing.T) {
	var logBuf syncBuffer
	h := newHarness(t, Options{Log: &logBuf})
	id := h.createActive("web")
	h.emu.InjectFault(Fault{Route: RouteReboot, Status: 500})
	h.do("GET", "/api/v1/servers/?status=active", nil)
	h.do("POST", serverPath(id, "reboot"), nil)
	h.doAs("wrong", "GET", serverPath(id, ""), nil, nil)
	h.do("GET", "/favicon.ico", nil)
	h.do("GET", serverPath(id, "start"), nil)

	got := h.emu.Requests()
	want := []Request{
		{Method: "POST", Route: RouteServers, Path: "/api/v1/servers/", Account: "alice", Status: 201},
		{Method: "GET", Route: RouteServers, Path: "/api/v1/servers/", RawQuery: "status=active", Account: "alice", Status: 200},
		{Method: "POST", Route: RouteReboot, Path: serverPath(id, "reboot"), Account: "alice", Status: 500, Fault: true},
		{Method: "GET", Route: RouteServer, Path: serverPath(id, ""), Status: 401},
		{Method: "GET", Route: RouteOther, Path: "/favicon.ico", Account: "alice", Status: 404},
		{Method: "GET", Route: RouteStart, Path: serverPath(id, "start"), Account: "alice", Status: 405},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d requests: %+v", len(got), got)
	}
	for i := range want {
		g := got[i]
		if g.Time.IsZero() {
			t.Errorf("request %d has no time", i)
		}
		g.Time = time.Time{}
		if g != want[i] {
			t.Errorf("request %d:\n got  %+v\n want %+v", i, g, want[i])
		}
	}
	counts := h.emu.RequestCounts()
	if counts["GET "+RouteServer] != 1 || counts["POST "+RouteServers] != 1 || counts["GET other"] != 1 || len(counts) != 6 {
		t.Errorf("counts = %v", counts)
	}
	h.emu.ResetRequests()
	if len(h.emu.Requests()) != 0 || len(h.emu.RequestCounts()) != 0 {
		t.Error("ResetRequests left entries")
	}

	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("want one log line per request, got %d:\n%s", len(lines), logBuf.String())
	}
	if !strings.Contains(lines[0], "POST /api/v1/servers/ 201 ") || !strings.HasSuffix(lines[0], "account=alice") {
		t.Errorf("log line = %q", lines[0])
	}
	if strings.Contains(logBuf.String(), aliceToken) || strings.Contains(logBuf.String(), "wrong") {
		t.Errorf("the log must never contain a token:\n%s", logBuf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the emulator's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConcurrency_ParallelClientsKeepStateConsistent(t *testing.T) {
	h := newHarness(t, Options{TransitionTime: -1, ProvisioningTime: -1, PageSize: 7})
	h.emu.SetRateLimit(1e6, 1e6)
	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	ids := make(chan int64, workers*perWorker)
	errs := make(chan string, workers*perWorker*4)
	for w := range workers {
		token := aliceToken
		if w%2 == 1 {
			token = bobToken
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r := h.doAs(token, "POST", "/api/v1/servers/", validCreate(fmt.Sprintf("w%d-%d", w, i)), nil)
				if r.status != 201 {
					errs <- "create: " + r.String()
					continue
				}
				id := int64(r.body["id"].(float64))
				ids <- id
				for _, step := range []struct{ method, path string }{
					{"GET", "/api/v1/servers/?page=1"},
					{"POST", serverPath(id, "stop")},
					{"PATCH", serverPath(id, "")},
					{"GET", serverPath(id, "")},
				} {
					if r := h.doAs(token, step.method, step.path, map[string]any{"backups_enabled": i%2 == 0}, nil); r.status >= 500 {
						errs <- step.method + " " + step.path + ": " + r.String()
					}
				}
				_ = h.emu.Servers("alice")
				_ = h.emu.RequestCounts()
			}
		}()
	}
	wg.Wait()
	close(ids)
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %d handed out twice", id)
		}
		seen[id] = true
	}
	if a, b := len(h.emu.Servers("alice")), len(h.emu.Servers("bob")); a+b != workers*perWorker || a != b {
		t.Errorf("alice %d + bob %d servers, want %d split evenly", a, b, workers*perWorker)
	}
	if n := h.emu.RequestCounts()["POST "+RouteServers]; n != workers*perWorker {
		t.Errorf("logged %d creates", n)
	}
}
