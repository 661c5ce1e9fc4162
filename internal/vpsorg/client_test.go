package vpsorg

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNew_ValidatesTheEndpoint(t *testing.T) {
	tests := []struct {
		endpoint string
		wantBase string // "" means New must fail
	}{
		{"", DefaultEndpoint},
		{"https://admin.vps.org/api/v1/", "https://admin.vps.org/api/v1/"},
		{"https://admin.vps.org/api/v1", "https://admin.vps.org/api/v1/"},
		{"http://127.0.0.1:8080/api/v1", "http://127.0.0.1:8080/api/v1/"},
		{"admin.vps.org/api/v1/", ""},
		{"/api/v1/", ""},
		{"ftp://admin.vps.org/api/v1/", ""},
		{"https:///api/v1/", ""},
		{"https://admin.vps.org/api/v1/?x=1", ""},
		{"https://user:" + testToken + "@admin.vps.org/api/v1/", ""},
		{"https://admin.vps.org/%zz" + testToken, ""},
		{"mailto:someone@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			c, err := New(Config{Endpoint: tt.endpoint, Token: testToken})
			if tt.wantBase == "" {
				if err == nil {
					t.Fatalf("New succeeded; want an error")
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := c.base.String(); got != tt.wantBase {
				t.Errorf("base = %q, want %q", got, tt.wantBase)
			}
			if got := c.resolve("servers/1/start/").String(); got != tt.wantBase+"servers/1/start/" {
				t.Errorf("resolve = %q", got)
			}
		})
	}
}

func TestNew_AppliesDefaults(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.userAgent != "terraform-provider-vpsorg/dev" || c.retryMax != 4 || c.retryWaitMin != time.Second ||
		c.retryWaitMax != 30*time.Second || c.maxRetryAfter != 60*time.Second || c.maxRateLimitWait != 15*time.Minute ||
		c.poll != (PollPolicy{Min: 200 * time.Millisecond, Max: 10 * time.Second, Fraction: 0.1}) {
		t.Errorf("defaults not applied: %+v", c)
	}
	if _, ok := c.httpClient.Transport.(*noReplayTransport); !ok {
		t.Errorf("transport is %T, want *noReplayTransport", c.httpClient.Transport)
	}
	c, _ = New(Config{RetryMax: -1})
	if c.retryMax != 0 {
		t.Errorf("RetryMax -1 → %d retries, want 0", c.retryMax)
	}
}

func TestNew_WrapsTheTransportOfAGivenHTTPClientWithoutChangingIt(t *testing.T) {
	base := &http.Client{Timeout: 7 * time.Second}
	c, err := New(Config{HTTPClient: base})
	if err != nil {
		t.Fatal(err)
	}
	if base.Transport != nil {
		t.Errorf("caller's client was modified")
	}
	if c.httpClient.Timeout != 7*time.Second {
		t.Errorf("Timeout = %v, want the base client's", c.httpClient.Timeout)
	}
	if rt, ok := c.httpClient.Transport.(*noReplayTransport); !ok || rt.base != http.DefaultTransport {
		t.Errorf("transport = %#v, want noReplayTransport over http.DefaultTransport", c.httpClient.Transport)
	}
}

func TestClient_SendsTheConfiguredUserAgent(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 200, body: detailJSON}}}
	c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.UserAgent = "terraform-provider-vpsorg/1.2.3 (+Terraform 1.9.0)" })
	if _, err := c.GetServer(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if got := rec.requests()[0].Header.Get("User-Agent"); got != "terraform-provider-vpsorg/1.2.3 (+Terraform 1.9.0)" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestNoReplayTransport_StripsGetBodyOnlyFromPOST(t *testing.T) {
	var seen []*http.Request
	rt := &noReplayTransport{base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r)
		return nil, errors.New("stop")
	})}
	for _, method := range []string{"POST", "PUT", "PATCH"} {
		req, _ := http.NewRequest(method, "http://x/", strings.NewReader("{}"))
		if resp, err := rt.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		if req.GetBody == nil {
			t.Errorf("%s: the caller's request was modified", method)
		}
	}
	if seen[0].GetBody != nil {
		t.Errorf("POST reached the transport with a GetBody")
	}
	if seen[1].GetBody == nil || seen[2].GetBody == nil {
		t.Errorf("PUT/PATCH lost their GetBody")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClient_NeverShowsTheToken(t *testing.T) {
	t.Run("in an API message that echoes it", func(t *testing.T) {
		rec := &recorder{replies: []reply{{status: 401, body: `{"detail": "Invalid token ` + testToken + `.", "errors": {"token": ["` + testToken + ` is revoked"]}}`}}}
		sink := &logSink{}
		c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.Log = sink.log })
		_, err := c.GetServer(context.Background(), 1)
		if err == nil {
			t.Fatal("want an error")
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error %q contains the token", err)
		}
		if !strings.Contains(err.Error(), "Invalid token ***.") || !strings.Contains(err.Error(), "token: *** is revoked") {
			t.Errorf("error %q does not show the redacted message", err)
		}
		if strings.Contains(sink.text(), testToken) {
			t.Errorf("log contains the token:\n%s", sink.text())
		}
	})
	t.Run("in a transport error", func(t *testing.T) {
		// A refused connection to an endpoint whose path holds the token:
		// url.Error quotes the URL.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		sink := &logSink{}
		c, err := New(Config{Endpoint: "http://" + addr + "/" + testToken + "/", Token: testToken, RetryMax: -1, Log: sink.log})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetServer(context.Background(), 1)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 {
			t.Fatalf("error = %v, want *APIError without status", err)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error %q contains the token", err)
		}
		if !strings.Contains(err.Error(), "***") {
			t.Errorf("error %q: want the redaction marker", err)
		}
		var urlErr *url.Error
		if !errors.As(err, &urlErr) {
			t.Errorf("the redacted error lost its *url.Error")
		}
		if strings.Contains(sink.text(), testToken) {
			t.Errorf("log contains the token:\n%s", sink.text())
		}
	})
}

func TestClient_LogsEveryAttemptWithoutSecrets(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 503}, {status: 200, body: detailJSON}}}
	sink := &logSink{}
	c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.Log = sink.log })
	if _, err := c.GetServer(context.Background(), 12345); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.entries) != 2 {
		t.Fatalf("%d log entries, want 2", len(sink.entries))
	}
	for i, e := range sink.entries {
		f := e.fields
		if f["method"] != "GET" || f["path"] != "/api/v1/servers/12345/" || f["attempt"] != i+1 {
			t.Errorf("entry %d = %v", i, f)
		}
		if _, ok := f["duration_ms"]; !ok {
			t.Errorf("entry %d has no duration", i)
		}
	}
	if sink.entries[0].fields["status"] != 503 || sink.entries[1].fields["status"] != 200 {
		t.Errorf("statuses = %v, %v", sink.entries[0].fields["status"], sink.entries[1].fields["status"])
	}
}
