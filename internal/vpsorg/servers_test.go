package vpsorg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClient_EachMethodSendsTheDocumentedRequest(t *testing.T) {
	tests := []struct {
		name      string
		call      func(context.Context, *Client) (any, error)
		reply     reply
		method    string
		path      string
		query     string
		body      string // JSON; "" means no body
		wantValue any
	}{
		{
			name: "ListServers with filters",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListServers(ctx, ListServersOptions{Status: "active", Location: "us west&x"})
			},
			reply:  reply{status: 200, body: `{"count": 0, "next": null, "results": []}`},
			method: "GET", path: "/api/v1/servers/", query: "location=us+west%26x&status=active",
			wantValue: []Server{},
		},
		{
			name: "CreateServer with optional fields",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateServer(ctx, CreateServerRequest{Name: "web-server-02", PlanID: 1, OSID: 5, Location: "us-west",
					Hostname: ptr("web02.example.com"), SSHKeyID: ptr(int64(7)), BackupsEnabled: ptr(false)})
			},
			reply:  reply{status: 201, body: createdJSON},
			method: "POST", path: "/api/v1/servers/",
			body: `{"name":"web-server-02","plan_id":1,"os_id":5,"location":"us-west","hostname":"web02.example.com","ssh_key_id":7,"backups_enabled":false}`,
		},
		{
			name: "CreateServer omits unset optional fields",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateServer(ctx, CreateServerRequest{Name: "a", PlanID: 2, OSID: 3, Location: "us-east"})
			},
			reply:  reply{status: 201, body: createdJSON},
			method: "POST", path: "/api/v1/servers/",
			body: `{"name":"a","plan_id":2,"os_id":3,"location":"us-east"}`,
		},
		{
			name:   "GetServer",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetServer(ctx, 12345) },
			reply:  reply{status: 200, body: detailJSON},
			method: "GET", path: "/api/v1/servers/12345/",
		},
		{
			name: "ReplaceServer sends all three fields, even zero values",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ReplaceServer(ctx, 12345, ReplaceServerRequest{Name: "n", Hostname: "", BackupsEnabled: false})
			},
			reply:  reply{status: 200, body: detailJSON},
			method: "PUT", path: "/api/v1/servers/12345/",
			body: `{"name":"n","hostname":"","backups_enabled":false}`,
		},
		{
			name: "UpdateServer sends only the name",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateServer(ctx, 12345, UpdateServerRequest{Name: ptr("new-server-name")})
			},
			reply:  reply{status: 200, body: detailJSON},
			method: "PATCH", path: "/api/v1/servers/12345/",
			body: `{"name":"new-server-name"}`,
		},
		{
			name: "UpdateServer sends a false backups_enabled",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateServer(ctx, 12345, UpdateServerRequest{BackupsEnabled: ptr(false), Hostname: ptr("h.example.com")})
			},
			reply:  reply{status: 200, body: detailJSON},
			method: "PATCH", path: "/api/v1/servers/12345/",
			body: `{"hostname":"h.example.com","backups_enabled":false}`,
		},
		{
			name:   "DeleteServer",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteServer(ctx, 12345) },
			reply:  reply{status: 204},
			method: "DELETE", path: "/api/v1/servers/12345/",
		},
		{
			name:   "StartServer",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.StartServer(ctx, 12345) },
			reply:  reply{status: 200, body: startJSON},
			method: "POST", path: "/api/v1/servers/12345/start/",
			wantValue: actionResult("success", "Server is starting", StatusStarting),
		},
		{
			name:   "StopServer",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.StopServer(ctx, 12345) },
			reply:  reply{status: 200, body: stopJSON},
			method: "POST", path: "/api/v1/servers/12345/stop/",
			wantValue: actionResult("success", "Server is stopping", StatusStopping),
		},
		{
			name:   "RebootServer",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.RebootServer(ctx, 12345) },
			reply:  reply{status: 200, body: rebootJSON},
			method: "POST", path: "/api/v1/servers/12345/reboot/",
			wantValue: actionResult("success", "Server is rebooting", StatusRebooting),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{replies: []reply{tt.reply}}
			c, _ := newTestClient(t, rec)
			got, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path || r.Query != tt.query {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tt.method, tt.path, tt.query)
			}
			if got, want := r.Header.Get("Authorization"), "Bearer "+testToken; got != want {
				t.Errorf("Authorization = %q, want %q", got, want)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			if got := r.Header.Get("User-Agent"); got != "terraform-provider-vpsorg/dev" {
				t.Errorf("User-Agent = %q", got)
			}
			if tt.body == "" {
				if r.Body != "" {
					t.Errorf("body = %q, want none", r.Body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "" {
					t.Errorf("Content-Type = %q on a request without body", ct)
				}
			} else {
				jsonEqual(t, r.Body, tt.body)
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			}
			if tt.wantValue != nil && !reflect.DeepEqual(got, tt.wantValue) {
				t.Errorf("result = %#v, want %#v", got, tt.wantValue)
			}
		})
	}
}

func actionResult(status, message, serverStatus string) *ActionResult {
	r := &ActionResult{Status: status, Message: message}
	r.Server.ID, r.Server.Name, r.Server.Status = 12345, "web-server-01", serverStatus
	return r
}

func TestGetServer_DecodesTheDocumentedDetailView(t *testing.T) {
	c, _ := newTestClient(t, &recorder{replies: []reply{{status: 200, body: detailJSON}}})
	got, err := c.GetServer(context.Background(), 12345)
	if err != nil {
		t.Fatal(err)
	}
	want := &Server{
		ID: 12345, Name: "web-server-01", Hostname: ptr("web01.example.com"), Status: StatusActive,
		IPAddress: ptr("203.0.113.10"), IPv6Address: ptr("2001:0db8::1"), Location: "us-west",
		Plan:           Plan{ID: 1, Name: "Standard VPS", VCPUs: 2, Memory: 4096, Storage: 80, Bandwidth: ptr(int64(2048))},
		OS:             OS{ID: 5, Name: "Ubuntu 22.04 LTS"},
		BackupsEnabled: ptr(true),
		ResourceUsage:  &ResourceUsage{CPUPercent: 23.5, MemoryUsed: 2048, DiskUsed: 35, BandwidthUsed: 450},
		CreatedAt:      "2025-01-10T14:30:00Z", UpdatedAt: "2025-01-16T15:45:00Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetServer =\n%#v\nwant\n%#v", got, want)
	}
}

func TestCreateServer_DecodesTheProvisioningAnswer(t *testing.T) {
	c, _ := newTestClient(t, &recorder{replies: []reply{{status: 201, body: createdJSON}}})
	got, err := c.CreateServer(context.Background(), CreateServerRequest{Name: "web-server-02", PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 12347 || got.Status != StatusProvisioning || got.IPAddress != nil || got.IPv6Address != nil ||
		got.BackupsEnabled == nil || !*got.BackupsEnabled || got.ResourceUsage != nil || got.CreatedAt != "2025-01-16T15:30:00Z" {
		t.Errorf("CreateServer = %+v", got)
	}
}

func TestClient_UndecodableSuccessBodyIsAnAPIErrorNamingTheOperation(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, *Client) error
		body string
		op   string
	}{
		{"get: not JSON", func(ctx context.Context, c *Client) error { _, err := c.GetServer(ctx, 7); return err }, "<html>", "get server 7"},
		{"get: no id", func(ctx context.Context, c *Client) error { _, err := c.GetServer(ctx, 7); return err }, `{"name": "x"}`, "get server 7"},
		{"get: wrong type", func(ctx context.Context, c *Client) error { _, err := c.GetServer(ctx, 7); return err }, `{"id": "seven"}`, "get server 7"},
		{"create: empty", func(ctx context.Context, c *Client) error {
			_, err := c.CreateServer(ctx, CreateServerRequest{Name: "a"})
			return err
		}, "", "create server"},
		{"list: no results", func(ctx context.Context, c *Client) error {
			_, err := c.ListServers(ctx, ListServersOptions{})
			return err
		}, `{"count": 1}`, "list servers"},
		{"list: garbage", func(ctx context.Context, c *Client) error {
			_, err := c.ListServers(ctx, ListServersOptions{})
			return err
		}, `nope`, "list servers"},
		{"start: not the envelope", func(ctx context.Context, c *Client) error { _, err := c.StartServer(ctx, 7); return err }, `[1,2]`, "start server 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, &recorder{replies: []reply{{status: 200, body: tt.body}}})
			err := tt.call(context.Background(), c)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want *APIError", err, err)
			}
			if apiErr.Operation != tt.op || apiErr.StatusCode != 200 {
				t.Errorf("Operation, StatusCode = %q, %d; want %q, 200", apiErr.Operation, apiErr.StatusCode, tt.op)
			}
			if !strings.HasPrefix(err.Error(), tt.op+": ") {
				t.Errorf("Error() = %q does not start with the operation", err)
			}
		})
	}
}

func TestReplaceAndUpdateServer_TolerateAnAnswerThatIsNotAServer(t *testing.T) {
	for _, body := range []string{"", "   ", `{}`, `{"status": "ok"}`, `"done"`, `not json`, `{"server": {"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}}`} {
		for _, method := range []string{"PUT", "PATCH"} {
			t.Run(method+" "+body, func(t *testing.T) {
				c, _ := newTestClient(t, &recorder{replies: []reply{{status: 200, body: body}}})
				var s *Server
				var err error
				if method == "PUT" {
					s, err = c.ReplaceServer(context.Background(), 1, ReplaceServerRequest{Name: "n", Hostname: "h"})
				} else {
					s, err = c.UpdateServer(context.Background(), 1, UpdateServerRequest{Name: ptr("n")})
				}
				if err != nil || s != nil {
					t.Errorf("= %v, %v; want nil, nil", s, err)
				}
			})
		}
	}
}

func TestDeleteServer_AcceptsAny2xx(t *testing.T) {
	for _, status := range []int{200, 202, 204} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c, _ := newTestClient(t, &recorder{replies: []reply{{status: status}}})
			if err := c.DeleteServer(context.Background(), 1); err != nil {
				t.Errorf("DeleteServer: %v", err)
			}
		})
	}
}

func TestActions_AcceptAnEmptySuccessBody(t *testing.T) {
	c, _ := newTestClient(t, &recorder{replies: []reply{{status: 202}}})
	res, err := c.StopServer(context.Background(), 1)
	if err != nil || res == nil {
		t.Errorf("StopServer = %v, %v; want empty result, nil", res, err)
	}
}

func TestUpdateServerRequest_IsEmpty(t *testing.T) {
	tests := []struct {
		req  UpdateServerRequest
		want bool
	}{
		{UpdateServerRequest{}, true},
		{UpdateServerRequest{Name: ptr("")}, false},
		{UpdateServerRequest{Hostname: ptr("h")}, false},
		{UpdateServerRequest{BackupsEnabled: ptr(false)}, false},
	}
	for _, tt := range tests {
		if got := tt.req.IsEmpty(); got != tt.want {
			t.Errorf("%+v.IsEmpty() = %v, want %v", tt.req, got, tt.want)
		}
	}
}

func TestCreateServer_SendsTheSameIdempotencyKeyOnEveryRetry(t *testing.T) {
	rec := &recorder{replies: []reply{
		{status: 429, body: `{"detail": "slow down"}`, header: map[string]string{"Retry-After": "0"}},
		{status: 429, body: `{"detail": "slow down"}`},
		{status: 201, body: createdJSON},
	}}
	c, _ := newTestClient(t, rec)
	if _, err := c.CreateServer(context.Background(), CreateServerRequest{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d tries, want 3", len(reqs))
	}
	key := reqs[0].Header.Get("Idempotency-Key")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(key) {
		t.Errorf("Idempotency-Key = %q, want 128-bit hex", key)
	}
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != key {
			t.Errorf("try %d: Idempotency-Key = %q, want %q", i+1, got, key)
		}
		jsonEqual(t, r.Body, `{"name":"a","plan_id":0,"os_id":0,"location":""}`)
	}

	// A new call is a new create, with a new key.
	rec2 := &recorder{replies: []reply{{status: 201, body: createdJSON}}}
	c2, _ := newTestClient(t, rec2)
	if _, err := c2.CreateServer(context.Background(), CreateServerRequest{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if got := rec2.requests()[0].Header.Get("Idempotency-Key"); got == key || got == "" {
		t.Errorf("second create reused key %q", got)
	}
}

// An API that accepts a create and then drops the connection without
// answering, on a keep-alive connection the client had already used. Go's
// net/http would re-send such a POST by itself (it carries an
// Idempotency-Key); the client must not, or a second server gets created.
func TestCreateServer_NeverResentWhenTheAnswerIsLostOnAReusedConnection(t *testing.T) {
	newAPI := func(t *testing.T) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
		var posts, conns atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, detailJSON)
				return
			}
			_, _ = io.ReadAll(r.Body)
			posts.Add(1)
			hangUp(w)
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		return srv, &posts, &conns
	}
	// warmUp makes one GET so that the next request reuses its connection.
	warmUp := func(t *testing.T, get func() error) {
		if err := get(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // let the connection reach the idle pool
	}

	t.Run("control: plain net/http replays the POST", func(t *testing.T) {
		srv, posts, conns := newAPI(t)
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.CloseIdleConnections()
		warmUp(t, func() error {
			resp, err := hc.Get(srv.URL + "/api/v1/servers/1/")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return err
		})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/servers/", bytes.NewReader([]byte(`{"name":"a"}`)))
		req.Header.Set("Idempotency-Key", "k")
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			t.Fatal("POST succeeded; want an error")
		}
		if conns.Load() < 2 || posts.Load() != 2 {
			t.Fatalf("control: %d POSTs over %d connections; the test no longer reproduces net/http's replay", posts.Load(), conns.Load())
		}
	})

	t.Run("client sends it once and reports the error", func(t *testing.T) {
		srv, posts, _ := newAPI(t)
		cfg := fastConfig(srv)
		cfg.RetryMax = 3
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.httpClient.CloseIdleConnections()
		warmUp(t, func() error { _, err := c.GetServer(context.Background(), 1); return err })
		_, err = c.CreateServer(context.Background(), CreateServerRequest{Name: "a"})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || apiErr.Err == nil {
			t.Fatalf("CreateServer error = %v, want *APIError without status", err)
		}
		if got := posts.Load(); got != 1 {
			t.Errorf("server saw %d POSTs, want exactly 1", got)
		}
	})
}

func TestListServers_FollowsNextThroughEveryPage(t *testing.T) {
	var srvURL string
	pages := map[string]string{
		// absolute next
		"": `{"count": 99, "next": "%s/api/v1/servers/?page=2&status=active", "previous": null, "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "os": {"id": 5, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 2, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "os": {"id": 5, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "created_at": "2025-01-10T14:30:00Z"}]}`,
		// relative next (path-absolute)
		"2": `{"count": 99, "next": "/api/v1/servers/?page=3&status=active", "results": [{"id": 3, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "os": {"id": 5, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "created_at": "2025-01-10T14:30:00Z"}]}`,
		// relative next (query only)
		"3": `{"count": 99, "next": "?page=4&status=active", "results": []}`,
		"4": `{"count": 99, "next": null, "results": [{"id": 4, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "os": {"id": 5, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, "created_at": "2025-01-10T14:30:00Z"}]}`,
	}
	var mu sync.Mutex
	var seen []string
	c, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Path != "/api/v1/servers/" || r.URL.Query().Get("status") != "active" {
			http.Error(w, "bad request "+r.URL.String(), 400)
			return
		}
		body, ok := pages[r.URL.Query().Get("page")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(body, "%s") {
			body = fmt.Sprintf(body, srvURL)
		}
		_, _ = io.WriteString(w, body)
	}))
	srvURL = srv.URL

	got, err := c.ListServers(context.Background(), ListServersOptions{Status: StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if !reflect.DeepEqual(ids, []int64{1, 2, 3, 4}) {
		t.Errorf("ids = %v, want [1 2 3 4]", ids)
	}
	if len(seen) != 8 {
		t.Errorf("fetched %d pages (%v), want 8: the list of four pages read twice, to see it hold still", len(seen), seen)
	}
}

// The API pages with no snapshot: a server deleted or created between two
// page requests shifts the rest of the list. A list of several pages is
// read until two reads in a row show the same servers; a read whose later
// page is gone starts over. A list that never holds still fails.
func TestListServers_ReadsAgainWhenTheListChangesUnderTheRead(t *testing.T) {
	type page struct {
		status int
		body   string
	}
	// twoPages is a read of two pages, a server each.
	twoPages := func(first, second int64) []page {
		one := func(id int64, next string) string {
			return fmt.Sprintf(`{"count": 2, "next": %s, "results": [{"id": %d, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`, next, id)
		}
		return []page{{200, one(first, `"?page=2"`)}, {200, one(second, "null")}}
	}
	cases := []struct {
		name    string
		reads   [][]page // what each read from page 1 is answered
		want    []int64
		wantErr string
		fetches int
	}{
		{
			name: "a server deleted between pages: read until two reads agree",
			reads: [][]page{
				{{200, `{"count": 3, "next": "?page=2", "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 2, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}, {200, `{"count": 2, "next": null, "results": []}`}},
				{{200, `{"count": 2, "next": "?page=2", "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 3, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}, {200, `{"count": 2, "next": null, "results": []}`}},
			},
			want: []int64{1, 3}, fetches: 6,
		},
		{
			name: "a later page gone: read again",
			reads: [][]page{
				{{200, `{"count": 3, "next": "?page=2", "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 2, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}, {404, `{"detail": "Invalid page."}`}},
				{{200, `{"count": 2, "next": null, "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 2, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}},
			},
			want: []int64{1, 2}, fetches: 3,
		},
		{
			name: "a server shifted onto the next page shows once",
			reads: [][]page{
				{{200, `{"count": 3, "next": "?page=2", "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 2, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}, {200, `{"count": 3, "next": null, "results": [{"id": 2, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}, {"id": 3, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}},
			},
			want: []int64{1, 2, 3}, fetches: 4,
		},
		{
			name: "a list whose servers differ on every read: ErrListChanged",
			reads: [][]page{
				twoPages(1, 2), twoPages(1, 3), twoPages(1, 4), twoPages(1, 5), twoPages(1, 6),
			},
			wantErr: "changed while it was read", fetches: 10,
		},
		{
			name: "a later page gone on every read: the 404 stands",
			reads: [][]page{
				{{200, `{"count": 2, "next": "?page=2", "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`}, {404, `{"detail": "Invalid page."}`}},
			},
			wantErr: "Invalid page", fetches: 10,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			read, fetches := -1, 0
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				fetches++
				n := 0
				if p := r.URL.Query().Get("page"); p != "" {
					n, _ = strconv.Atoi(p)
					n--
				} else {
					read++
				}
				pages := tc.reads[min(read, len(tc.reads)-1)]
				w.WriteHeader(pages[n].status)
				_, _ = io.WriteString(w, pages[n].body)
			}))
			got, err := c.ListServers(context.Background(), ListServersOptions{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				if !reflect.DeepEqual(ids, tc.want) {
					t.Errorf("ids = %v, want %v", ids, tc.want)
				}
			}
			if fetches != tc.fetches {
				t.Errorf("%d page requests, want %d", fetches, tc.fetches)
			}
		})
	}
}

func TestListServers_DecodesTheDocumentedListView(t *testing.T) {
	c, _ := newTestClient(t, &recorder{replies: []reply{{status: 200, body: listJSON}}})
	got, err := c.ListServers(context.Background(), ListServersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != 12346 || got[1].Location != "us-east" || got[1].Plan.Memory != 8192 ||
		got[1].BackupsEnabled != nil || got[1].Plan.Bandwidth != nil || got[0].OS.Name != "Ubuntu 22.04 LTS" {
		t.Errorf("ListServers = %+v", got)
	}
}

func TestListServers_ReturnsANonNilEmptySliceWhenNothingMatches(t *testing.T) {
	for _, body := range []string{`{"count": 0, "results": []}`, `{"count": 3, "next": null, "results": null}`, `[]`} {
		t.Run(body, func(t *testing.T) {
			c, _ := newTestClient(t, &recorder{replies: []reply{{status: 200, body: body}}})
			got, err := c.ListServers(context.Background(), ListServersOptions{Location: "nowhere"})
			if err != nil || got == nil || len(got) != 0 {
				t.Errorf("ListServers = %#v, %v; want []Server{}, nil", got, err)
			}
		})
	}
}

func TestListServers_RefusesANextLinkLoop(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		next := "?page=2"
		if r.URL.Query().Get("page") == "2" {
			next = "/api/v1/servers/?page=3"
		}
		if r.URL.Query().Get("page") == "3" {
			next = "?page=2" // back to page 2
		}
		fmt.Fprintf(w, `{"count": 1, "next": %q, "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`, next)
	}))
	_, err := c.ListServers(context.Background(), ListServersOptions{})
	if err == nil || !strings.Contains(err.Error(), "pagination loop") {
		t.Fatalf("error = %v, want a pagination loop error", err)
	}
	if calls.Load() != 3 {
		t.Errorf("fetched %d pages, want 3", calls.Load())
	}
}

func TestListServers_RefusesANextLinkToAnotherOrigin(t *testing.T) {
	for _, next := range []string{"https://evil.example/api/v1/servers/?page=2", "//evil.example/x", "ftp://127.0.0.1/"} {
		t.Run(next, func(t *testing.T) {
			var calls atomic.Int32
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				fmt.Fprintf(w, `{"count": 1, "next": %q, "results": [{"id": 1, "name": "w", "status": "active", "location": "us-west", "plan": {"id": 1}, "os": {"id": 5}, "created_at": "2025-01-10T14:30:00Z"}]}`, next)
			}))
			_, err := c.ListServers(context.Background(), ListServersOptions{})
			if err == nil || !strings.Contains(err.Error(), "leaves the endpoint") {
				t.Errorf("error = %v, want a refused next link", err)
			}
			if calls.Load() != 1 {
				t.Errorf("%d requests, want 1", calls.Load())
			}
		})
	}
}

func TestListServers_SameOriginAllowsDefaultPorts(t *testing.T) {
	base := mustParse(t, "https://admin.vps.org/api/v1/")
	for next, want := range map[string]bool{
		"https://admin.vps.org:443/api/v1/servers/?page=2": true,
		"https://ADMIN.vps.org/api/v1/servers/?page=2":     true,
		"http://admin.vps.org/api/v1/servers/?page=2":      false,
		"https://admin.vps.org:8443/api/v1/servers/":       false,
		"https://user@admin.vps.org/api/v1/servers/":       false,
	} {
		if got := sameOrigin(mustParse(t, next), base); got != want {
			t.Errorf("sameOrigin(%s) = %v, want %v", next, got, want)
		}
	}
}

func TestRecentlyDeleted_RemembersTheServersThisClientDeleted(t *testing.T) {
	tests := []struct {
		answer reply
		want   bool
	}{
		{reply{status: 204}, true},
		{reply{status: 404, body: `{"detail": "Not found."}`}, true}, // gone either way
		{reply{status: 400, body: `{"detail": "Server is locked."}`}, false},
		{reply{status: 500}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.answer.status), func(t *testing.T) {
			c, _ := newTestClient(t, &recorder{replies: []reply{tt.answer}})
			if c.RecentlyDeleted(12345) {
				t.Fatal("RecentlyDeleted before any delete")
			}
			_ = c.DeleteServer(t.Context(), 12345)
			if got := c.RecentlyDeleted(12345); got != tt.want {
				t.Errorf("after DELETE answered %d: RecentlyDeleted = %v, want %v", tt.answer.status, got, tt.want)
			}
			if c.RecentlyDeleted(12346) {
				t.Error("RecentlyDeleted(12346): another server counts as deleted")
			}
		})
	}
	t.Run("per client", func(t *testing.T) {
		c, srv := newTestClient(t, &recorder{replies: []reply{{status: 204}}})
		if err := c.DeleteServer(t.Context(), 12345); err != nil {
			t.Fatal(err)
		}
		other, err := New(fastConfig(srv))
		if err != nil {
			t.Fatal(err)
		}
		if other.RecentlyDeleted(12345) {
			t.Error("a client that deleted nothing says it deleted 12345")
		}
	})
}
