package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// calls maps each HTTP method to a client call that uses it.
var calls = []struct {
	method string
	name   string
	call   func(context.Context, *Client) error
}{
	{"GET", "GetServer", func(ctx context.Context, c *Client) error { _, err := c.GetServer(ctx, 1); return err }},
	{"GET", "ListServers", func(ctx context.Context, c *Client) error {
		_, err := c.ListServers(ctx, ListServersOptions{})
		return err
	}},
	{"PUT", "ReplaceServer", func(ctx context.Context, c *Client) error {
		_, err := c.ReplaceServer(ctx, 1, ReplaceServerRequest{Name: "n", Hostname: "h"})
		return err
	}},
	{"PATCH", "UpdateServer", func(ctx context.Context, c *Client) error {
		_, err := c.UpdateServer(ctx, 1, UpdateServerRequest{Name: ptr("n")})
		return err
	}},
	{"DELETE", "DeleteServer", func(ctx context.Context, c *Client) error { return c.DeleteServer(ctx, 1) }},
	{"POST", "CreateServer", func(ctx context.Context, c *Client) error {
		_, err := c.CreateServer(ctx, CreateServerRequest{Name: "n"})
		return err
	}},
	{"POST", "StartServer", func(ctx context.Context, c *Client) error { _, err := c.StartServer(ctx, 1); return err }},
	{"POST", "RebootServer", func(ctx context.Context, c *Client) error { _, err := c.RebootServer(ctx, 1); return err }},
}

func TestRetryPolicy_RepeatsOnlyWhatCannotDoHarm(t *testing.T) {
	// With RetryMax 2, a retried failure is tried 3 times. (A 429 is
	// retried until the deadline: TestRateLimit_*.)
	const retried, once = 3, 1
	conditions := []struct {
		name     string
		reply    reply
		tries    map[string]int // by method
		wantCode int
	}{
		{"502", reply{status: 502, body: "Bad Gateway"}, map[string]int{"GET": retried, "PUT": retried, "PATCH": retried, "DELETE": retried, "POST": once}, 502},
		{"503", reply{status: 503}, map[string]int{"GET": retried, "PUT": retried, "PATCH": retried, "DELETE": retried, "POST": once}, 503},
		{"504", reply{status: 504}, map[string]int{"GET": retried, "PUT": retried, "PATCH": retried, "DELETE": retried, "POST": once}, 504},
		{"500", reply{status: 500, body: `{"detail": "boom"}`}, map[string]int{"GET": retried, "PUT": retried, "PATCH": retried, "DELETE": retried, "POST": once}, 500},
		{"400", reply{status: 400, body: `{"detail": "bad"}`}, map[string]int{"GET": once, "PUT": once, "PATCH": once, "DELETE": once, "POST": once}, 400},
		{"401", reply{status: 401}, map[string]int{"GET": once, "PUT": once, "PATCH": once, "DELETE": once, "POST": once}, 401},
		{"402", reply{status: 402}, map[string]int{"GET": once, "PUT": once, "PATCH": once, "DELETE": once, "POST": once}, 402},
		{"404", reply{status: 404}, map[string]int{"GET": once, "PUT": once, "PATCH": once, "DELETE": once, "POST": once}, 404},
		{"connection dropped", reply{hangUp: true}, map[string]int{"GET": retried, "PUT": retried, "PATCH": retried, "DELETE": retried, "POST": once}, 0},
	}
	for _, cond := range conditions {
		for _, call := range calls {
			t.Run(cond.name+"/"+call.name, func(t *testing.T) {
				rec := &recorder{replies: []reply{cond.reply}}
				c, _ := newTestClient(t, rec)
				err := call.call(context.Background(), c)
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("error = %v, want *APIError", err)
				}
				if apiErr.StatusCode != cond.wantCode {
					t.Errorf("StatusCode = %d, want %d (%v)", apiErr.StatusCode, cond.wantCode, err)
				}
				reqs := rec.requests()
				if want := cond.tries[call.method]; len(reqs) != want {
					t.Errorf("%s was tried %d times, want %d", call.method, len(reqs), want)
				}
				for _, r := range reqs {
					if r.Method != call.method {
						t.Errorf("method = %s, want %s", r.Method, call.method)
					}
				}
			})
		}
	}
}

func TestRetryPolicy_RetriesWhatNeverReachedTheAPIForEveryMethod(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused

	failures := []struct {
		name     string
		endpoint string
		is       func(error) bool
	}{
		{"connection refused", "http://" + addr + "/api/v1/", func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
		{"DNS failure", "http://vpsorg-test.invalid/api/v1/", func(err error) bool { var d *net.DNSError; return errors.As(err, &d) }},
	}
	for _, f := range failures {
		for _, call := range calls {
			t.Run(f.name+"/"+call.name, func(t *testing.T) {
				sink := &logSink{}
				c, err := New(Config{Endpoint: f.endpoint, Token: testToken, RetryMax: 2,
					RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, Log: sink.log})
				if err != nil {
					t.Fatal(err)
				}
				err = call.call(context.Background(), c)
				if !f.is(err) {
					t.Fatalf("error = %v, want a %s", err, f.name)
				}
				if n := sink.count("vpsorg: HTTP request"); n != 3 {
					t.Errorf("%d tries, want 3", n)
				}
			})
		}
	}
}

func TestRetryPolicy_NeverRetriesAnUntrustedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the request reached the API")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
	t.Cleanup(srv.Close)
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			sink := &logSink{}
			c, err := New(Config{Endpoint: srv.URL + "/api/v1/", Token: testToken, RetryMax: 2,
				RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, Log: sink.log})
			if err != nil {
				t.Fatal(err)
			}
			err = call.call(context.Background(), c)
			if !isCertError(err) {
				t.Fatalf("error = %v, want a certificate verification failure", err)
			}
			if n := sink.count("vpsorg: HTTP request"); n != 1 {
				t.Errorf("%d tries, want 1", n)
			}
		})
	}
}

func TestRetryPolicy_SucceedsAfterTransientFailures(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 503}, {hangUp: true}, {status: 200, body: detailJSON}}}
	c, _ := newTestClient(t, rec)
	s, err := c.GetServer(context.Background(), 12345)
	if err != nil || s.ID != 12345 {
		t.Fatalf("GetServer = %v, %v", s, err)
	}
	if n := len(rec.requests()); n != 3 {
		t.Errorf("%d tries, want 3", n)
	}
}

// A 500 is as often a passing failure as a 502 (a worker restarted, a
// database failing over): the idempotent methods ride through one. A POST
// answered 500 may have acted, and is not sent again (TestMayHaveActed).
func TestRetryPolicy_RidesThroughOne500OnTheIdempotentMethods(t *testing.T) {
	success := map[string]reply{
		"GetServer":     {status: 200, body: detailJSON},
		"ListServers":   {status: 200, body: listJSON},
		"ReplaceServer": {status: 200, body: detailJSON},
		"UpdateServer":  {status: 200, body: detailJSON},
		"DeleteServer":  {status: 204},
	}
	for _, call := range calls {
		if call.method == http.MethodPost {
			continue
		}
		t.Run(call.name, func(t *testing.T) {
			rec := &recorder{replies: []reply{{status: 500, body: `{"detail": "Internal error."}`}, success[call.name]}}
			c, _ := newTestClient(t, rec)
			if err := call.call(context.Background(), c); err != nil {
				t.Fatalf("%s after one 500: %v", call.name, err)
			}
			if n := len(rec.requests()); n != 2 {
				t.Errorf("%d tries, want 2", n)
			}
		})
	}
}

func TestRetryPolicy_LastAnswerSurvivesTheLastTry(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 503, body: `{"detail": "first"}`}, {status: 502, body: `{"detail": "maintenance until 10:00"}`}}}
	c, _ := newTestClient(t, rec)
	_, err := c.GetServer(context.Background(), 7)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v", err)
	}
	if apiErr.StatusCode != 502 || apiErr.Message != "maintenance until 10:00" || apiErr.Err != nil {
		t.Errorf("error = %#v, want the last answer (502, its message)", apiErr)
	}
	if got, want := err.Error(), "get server 7: HTTP 502 Bad Gateway: maintenance until 10:00"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// arrivals is a handler that answers 429 with a Retry-After header first,
// then 200, and records when each request arrived.
type arrivals struct {
	retryAfter string
	mu         sync.Mutex
	times      []time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	a.times = append(a.times, time.Now())
	n := len(a.times)
	a.mu.Unlock()
	if n == 1 {
		w.Header().Set("Retry-After", a.retryAfter)
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"detail": "Request was throttled."}`)
		return
	}
	_, _ = io.WriteString(w, detailJSON)
}

func (a *arrivals) gaps() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var d []time.Duration
	for i := 1; i < len(a.times); i++ {
		d = append(d, a.times[i].Sub(a.times[i-1]))
	}
	return d
}

func TestRetryAfter_IsHonoured(t *testing.T) {
	for _, header := range []string{"1", "date"} {
		t.Run(header, func(t *testing.T) {
			a := &arrivals{retryAfter: header}
			want := time.Second
			if header == "date" {
				// HTTP dates have one-second resolution: aim 2s ahead so
				// that at least 1s remains after rounding down.
				a.retryAfter = time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
			}
			c, _ := newTestClient(t, a)
			if _, err := c.GetServer(context.Background(), 12345); err != nil {
				t.Fatal(err)
			}
			gaps := a.gaps()
			if len(gaps) != 1 || gaps[0] < want {
				t.Errorf("gaps between tries = %v, want one of at least %v", gaps, want)
			}
		})
	}
}

func TestRetryAfter_IsCappedAtMaxRetryAfter(t *testing.T) {
	a := &arrivals{retryAfter: "3600"}
	c, _ := newTestClient(t, a, func(cfg *Config) { cfg.MaxRetryAfter = 50 * time.Millisecond })
	// Uncapped, the retry would start an hour on, after this deadline, and
	// be refused: that it succeeds shows the cap, with no clock read.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := c.GetServer(ctx, 12345); err != nil {
		t.Fatal(err)
	}
	if gaps := a.gaps(); len(gaps) != 1 || gaps[0] < 50*time.Millisecond {
		t.Errorf("gaps = %v, want one of at least 50ms", gaps)
	}
}

func TestRetryAfter_BeyondTheDeadlineReturnsTheLastAnswerAtOnce(t *testing.T) {
	a := &arrivals{retryAfter: "30"}
	c, _ := newTestClient(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.CreateServer(ctx, CreateServerRequest{Name: "a"})
	if ctx.Err() != nil {
		t.Errorf("returned at the deadline; want at once")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Message != "Request was throttled." || apiErr.RetryAfter != "30" {
		t.Errorf("error = %v, want the 429 answer", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false; the caller ran out of time", err)
	}
	if n := len(a.gaps()) + 1; n != 1 {
		t.Errorf("%d tries, want 1", n)
	}
}

func TestRetry_CancelWhileWaitingReturnsPromptlyWithTheLastStatus(t *testing.T) {
	a := &arrivals{retryAfter: "30"}
	c, _ := newTestClient(t, a, func(cfg *Config) { cfg.MaxRetryAfter = time.Hour })
	// Ignoring the cancel, it would sleep on until the deadline, and the
	// error would match DeadlineExceeded instead.
	deadline, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()
	ctx, cancel := context.WithCancel(deadline)
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.GetServer(ctx, 1)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want the 429 answer wrapping context.Canceled", err)
	}
}

func TestRetryDelay_ExponentialFullJitterWithinBounds(t *testing.T) {
	c := &Client{retryWaitMin: 100 * time.Millisecond, retryWaitMax: time.Second, maxRetryAfter: 5 * time.Second}
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		t.Run(fmt.Sprint(attempt), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := c.retryDelay(attempt, nil, time.Now())
				if d < c.retryWaitMin || d > ceiling {
					t.Fatalf("delay %v outside [%v, %v]", d, c.retryWaitMin, ceiling)
				}
				seen[d] = true
			}
			if ceiling > c.retryWaitMin && len(seen) < 10 {
				t.Errorf("only %d distinct delays: no jitter", len(seen))
			}
		})
	}
}

func TestRetryDelay_RetryAfter(t *testing.T) {
	c := &Client{retryWaitMin: time.Millisecond, retryWaitMax: time.Millisecond, maxRetryAfter: time.Minute}
	now := time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"5", 5 * time.Second},
		{"0", 0},
		{" 7 ", 7 * time.Second},
		{"3600", time.Minute}, // capped
		{"99999999999999999999", time.Minute},
		{"Thu, 16 Jan 2025 15:30:10 GMT", 10 * time.Second},
		{"Thursday, 16-Jan-25 15:30:20 GMT", 20 * time.Second},
		{"Thu, 16 Jan 2025 15:00:00 GMT", 0}, // in the past
		{"-5", time.Millisecond},             // invalid: backoff instead
		{"soon", time.Millisecond},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Retry-After", tt.header)
		if got := c.retryDelay(1, h, now); got != tt.want {
			t.Errorf("Retry-After %q: delay %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestRetry_NoRetriesWhenRetryMaxIsNegative(t *testing.T) {
	var n atomic.Int32
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(503)
	}), func(cfg *Config) { cfg.RetryMax = -1 })
	if _, err := c.GetServer(context.Background(), 1); err == nil {
		t.Fatal("want an error")
	}
	if n.Load() != 1 {
		t.Errorf("%d tries, want 1", n.Load())
	}
}

// A request HTTP forbids (a token read from a file with its newline, a
// control character in a header) can never be sent: it fails at once,
// never retried, not a request that may have acted, and without the token.
func TestRetryPolicy_NeverRetriesARequestThatCannotBeSent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(*Config)
		header string
	}{
		{"a token with a newline", func(cfg *Config) { cfg.Token = testToken + "\n" }, "Authorization"},
		{"a token with an inner control character", func(cfg *Config) { cfg.Token = "tok\x01" + testToken }, "Authorization"},
		{"a User-Agent with a carriage return", func(cfg *Config) { cfg.UserAgent = "a\rb" }, "User-Agent"},
	} {
		for _, call := range calls {
			t.Run(tt.name+"/"+call.name, func(t *testing.T) {
				rec := &recorder{}
				sink := &logSink{}
				c, _ := newTestClient(t, rec, tt.edit, func(cfg *Config) { cfg.Log = sink.log })
				err := call.call(context.Background(), c)
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || !strings.Contains(err.Error(), "cannot be sent") ||
					!strings.Contains(err.Error(), tt.header) {
					t.Fatalf("error = %v, want an *APIError saying the request cannot be sent, naming %s", err, tt.header)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error %q contains the token", err)
				}
				if MayHaveActed(err) {
					t.Error("MayHaveActed = true for a request that was never sent")
				}
				if n := sink.count("vpsorg: HTTP request"); n > 1 || len(rec.requests()) != 0 {
					t.Errorf("%d tries logged, %d reached the API; want at most one try and none", n, len(rec.requests()))
				}
			})
		}
	}
}
