package control

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// call is one control request as a caller on this machine, a web page or a
// proxy would send it.
type call struct {
	method, path string
	remote       string // RemoteAddr; default a loopback address
	host         string // Host; default 127.0.0.1:8080
	origin       string
	contentType  string
	token        string
	header       map[string]string
	body         string
}

func (c call) serve(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	req.RemoteAddr, req.Host = "127.0.0.1:40000", "127.0.0.1:8080"
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	if c.host != "" {
		req.Host = strings.TrimPrefix(c.host, "none")
	}
	for k, v := range map[string]string{"Origin": c.origin, "Content-Type": c.contentType} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const (
	jsonType   = "application/json"
	aServer    = `{"name": "planted", "plan_id": 1, "os_id": 5, "location": "us-west"}`
	evilOrigin = "http://evil.example"
)

// A web page of any site can make the browser send a simple POST
// (text/plain, with its own Origin) to loopback, and with DNS rebinding it
// can read answers under a name of its own (Host: its name). Neither may
// reach the control API; nor may a caller a proxy on this machine relays.
// Callers on this machine, and anyone with the admin token, are served.
func TestAuthorize_RefusesWhatAWebPageOrAProxyCouldSend(t *testing.T) {
	cases := []struct {
		name       string
		adminToken string
		call       call
		want       int
		wantDetail string
	}{
		{name: "a pipeline on this machine resets", call: call{method: "POST", path: "/_emulator/reset", contentType: jsonType}, want: 200},
		{name: "a pipeline adds a server", call: call{method: "POST", path: "/_emulator/servers", contentType: "application/json; charset=utf-8", body: aServer}, want: 201},
		{name: "by the name localhost", call: call{method: "GET", path: "/_emulator/state", host: "localhost:8080"}, want: 200},
		{name: "by IPv6 loopback", call: call{method: "GET", path: "/_emulator/servers", host: "[::1]:8080", remote: "[::1]:40000"}, want: 200},
		{name: "by one of the emulator's own names", call: call{method: "GET", path: "/_emulator/state", host: "emulator:8443"}, want: 200},
		{name: "a page of its own origin", call: call{method: "POST", path: "/_emulator/reset", origin: "http://127.0.0.1:8080", contentType: jsonType}, want: 200},

		{name: "cross-site POST of a server", call: call{method: "POST", path: "/_emulator/servers", origin: evilOrigin, contentType: "text/plain", body: aServer},
			want: 403, wantDetail: "Origin"},
		{name: "cross-site reset", call: call{method: "POST", path: "/_emulator/reset", origin: evilOrigin, contentType: "text/plain"}, want: 403, wantDetail: "Origin"},
		{name: "cross-site faults", call: call{method: "POST", path: "/_emulator/faults", origin: evilOrigin, contentType: "text/plain", body: `{"status": 500}`},
			want: 403, wantDetail: "Origin"},
		{name: "a sandboxed page (Origin null)", call: call{method: "POST", path: "/_emulator/reset", origin: "null", contentType: jsonType}, want: 403, wantDetail: "Origin"},
		{name: "another port of this machine", call: call{method: "POST", path: "/_emulator/reset", origin: "http://127.0.0.1:3000", contentType: jsonType}, want: 403, wantDetail: "Origin"},
		{name: "cross-site even with the admin token", adminToken: "s3cret",
			call: call{method: "POST", path: "/_emulator/reset", origin: evilOrigin, contentType: jsonType, token: "s3cret"}, want: 403, wantDetail: "Origin"},
		{name: "a POST without an Origin that is no JSON", call: call{method: "POST", path: "/_emulator/servers", contentType: "text/plain", body: aServer},
			want: 415, wantDetail: "Content-Type: application/json"},
		{name: "a reset with no Content-Type", call: call{method: "POST", path: "/_emulator/reset"}, want: 415, wantDetail: "Content-Type: application/json"},
		{name: "a delete with no Content-Type", call: call{method: "DELETE", path: "/_emulator/faults"}, want: 415, wantDetail: "Content-Type: application/json"},

		{name: "DNS rebinding reads the state", call: call{method: "GET", path: "/_emulator/state", host: "rebound.evil.example:8080"}, want: 403, wantDetail: "DNS rebinding"},
		{name: "DNS rebinding resets", call: call{method: "POST", path: "/_emulator/reset", host: "rebound.evil.example:8080", origin: "http://rebound.evil.example:8080", contentType: jsonType},
			want: 403, wantDetail: "DNS rebinding"},
		{name: "DNS rebinding where an admin token is set", adminToken: "s3cret", call: call{method: "GET", path: "/_emulator/servers", host: "rebound.evil.example:8080"},
			want: 401, wantDetail: "needs Authorization: Bearer"},
		{name: "no Host at all", call: call{method: "GET", path: "/_emulator/state", host: "none"}, want: 403, wantDetail: "Host"},

		{name: "through a proxy (X-Forwarded-For)", call: call{method: "GET", path: "/_emulator/servers", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
			want: 403, wantDetail: "X-Forwarded-For"},
		{name: "through a proxy (Forwarded)", call: call{method: "GET", path: "/_emulator/state", header: map[string]string{"Forwarded": "for=203.0.113.9"}},
			want: 403, wantDetail: "Forwarded"},
		{name: "through a proxy without the admin token", adminToken: "s3cret",
			call: call{method: "GET", path: "/_emulator/state", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}, want: 401},
		{name: "through a proxy with the admin token", adminToken: "s3cret",
			call: call{method: "POST", path: "/_emulator/reset", contentType: jsonType, token: "s3cret", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}, want: 200},
		{name: "loopback by a foreign name with the admin token", adminToken: "s3cret",
			call: call{method: "GET", path: "/_emulator/state", host: "tunnel.example:443", token: "s3cret"}, want: 200},
		{name: "loopback with the admin token", adminToken: "s3cret", call: call{method: "POST", path: "/_emulator/reset", contentType: jsonType, token: "s3cret"}, want: 200},

		{name: "health answers anyone", call: call{method: "GET", path: HealthPath, host: "rebound.evil.example", origin: evilOrigin}, want: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			emu := emulator.New(emulator.Options{})
			rec := c.call.serve(New(emu, Options{AdminToken: c.adminToken, Hosts: []string{"emulator"}}))
			if rec.Code != c.want || !strings.Contains(rec.Body.String(), c.wantDetail) {
				t.Errorf("%s %s: %d %s, want %d naming %q", c.call.method, c.call.path, rec.Code, rec.Body.String(), c.want, c.wantDetail)
			}
			if c.want >= 400 && len(emu.Servers(emulator.DefaultAccount)) != 0 {
				t.Errorf("refused, yet the request added a server: %+v", emu.Servers(emulator.DefaultAccount))
			}
		})
	}
}
