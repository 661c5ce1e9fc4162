package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	aliceToken = "alice-token"
	bobToken   = "bob-token"
)

// fakeClock is an Options.Now that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)}
}

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

// harness is an emulator served over real HTTP with a fake clock and two
// accounts, alice and bob.
type harness struct {
	t     *testing.T
	emu   *Emulator
	srv   *httptest.Server
	clock *fakeClock
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Tokens == nil {
		opts.Tokens = map[string]string{aliceToken: "alice", bobToken: "bob"}
	}
	emu := New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &harness{t: t, emu: emu, srv: srv, clock: clock}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// do sends a request as alice unless told otherwise. body may be a string
// (sent as is), nil (no body) or anything else (sent as JSON).
func (h *harness) do(method, path string, body any) response {
	h.t.Helper()
	return h.doAs(aliceToken, method, path, body, nil)
}

func (h *harness) doAs(token, method, path string, body any, header http.Header) response {
	h.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = h.srv.URL + path
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			h.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

func validCreate(name string) map[string]any {
	return map[string]any{
		"name":            name,
		"plan_id":         1,
		"os_id":           5,
		"location":        "us-west",
		"hostname":        name + ".example.com",
		"backups_enabled": true,
	}
}

// create makes a server through the API as token's account and returns its id.
func (h *harness) createAs(token string, body map[string]any) int64 {
	h.t.Helper()
	r := h.doAs(token, "POST", "/api/v1/servers/", body, nil)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create: want 201, got %s", r)
	}
	return int64(r.body["id"].(float64))
}

func (h *harness) create(name string) int64 {
	h.t.Helper()
	return h.createAs(aliceToken, validCreate(name))
}

// createActive makes a server and lets it finish provisioning.
func (h *harness) createActive(name string) int64 {
	h.t.Helper()
	id := h.create(name)
	h.clock.Advance(DefaultProvisioningTime)
	return id
}

func serverPath(id int64, action string) string {
	p := fmt.Sprintf("/api/v1/servers/%d/", id)
	if action != "" {
		p += action + "/"
	}
	return p
}

func (h *harness) status(id int64) string {
	h.t.Helper()
	r := h.do("GET", serverPath(id, ""), nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("get %d: %s", id, r)
	}
	return r.body["status"].(string)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func assertKeys(t *testing.T, what string, m any, want ...string) {
	t.Helper()
	obj, ok := m.(map[string]any)
	if !ok {
		t.Fatalf("%s: want an object, got %T", what, m)
	}
	got, exp := strings.Join(keys(obj), ","), strings.Join(sorted(want...), ",")
	if got != exp {
		t.Errorf("%s keys:\n got  %s\n want %s", what, got, exp)
	}
}

func fieldErrorsOf(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Fatalf("want 400, got %s", r)
	}
	if r.body["detail"] != "Invalid parameters." {
		t.Fatalf("want detail %q, got %s", "Invalid parameters.", r)
	}
	fe, ok := r.body["errors"].(map[string]any)
	if !ok {
		t.Fatalf("want an errors object, got %s", r)
	}
	return fe
}
