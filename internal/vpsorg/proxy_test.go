package vpsorg

import (
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fakeProxy is an HTTP proxy that records what it is asked: plain requests
// (answered with a server object, as a hostile proxy would supply the
// answers) and CONNECT tunnels, which it opens to tunnelTo.
type fakeProxy struct {
	tunnelTo string
	mu       sync.Mutex
	plain    []*http.Request
	connects []*http.Request
}

func (p *fakeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if r.Method == http.MethodConnect {
		p.connects = append(p.connects, r)
	} else {
		p.plain = append(p.plain, r)
	}
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		reply{status: 200, body: detailJSON}.write(w)
		return
	}
	upstream, err := net.Dial("tcp", p.tunnelTo)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	go func() { _, _ = io.Copy(upstream, buf); upstream.Close() }()
	_, _ = io.Copy(conn, upstream)
	conn.Close()
}

// withProxy starts p and points the proxy environment at it.
func withProxy(t *testing.T, p *fakeProxy) {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, srv.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
}

// Plain http is allowed only on a loopback host, because the token then
// never leaves the machine. A proxy from the environment would carry it
// off in clear text, whatever the host name's case.
func TestClient_PlainHTTPToLoopbackNeverGoesThroughAProxy(t *testing.T) {
	for _, host := range []string{"LOCALHOST", "LocalHost", "localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			proxy := &fakeProxy{}
			withProxy(t, proxy)
			api := &recorder{replies: []reply{{status: 200, body: detailJSON}}}
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

			c, err := New(Config{Endpoint: "http://" + host + ":" + port + "/api/v1/", Token: testToken, RetryMax: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetServer(context.Background(), 12345)
			if n := len(proxy.plain) + len(proxy.connects); n != 0 {
				t.Fatalf("the proxy received %d requests (Authorization: %q); want none", n, proxy.plain[0].Header.Get("Authorization"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if reqs := api.requests(); len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+testToken {
				t.Errorf("the API received %d requests, want 1 with the token", len(reqs))
			}
			if got, want := c.Endpoint(), "http://"+map[bool]string{true: "127.0.0.1", false: "localhost"}[host == "127.0.0.1"]+":"+port+"/api/v1/"; got != want {
				t.Errorf("Endpoint() = %q, want %q (the host in lower case)", got, want)
			}
		})
	}
}

// An https endpoint still goes through the environment's proxy, as a
// CONNECT tunnel: the proxy sees the host and port, never the token.
func TestClient_HTTPSGoesThroughAProxyAsATunnel(t *testing.T) {
	api := &recorder{replies: []reply{{status: 200, body: detailJSON}}}
	srv := httptest.NewTLSServer(api)
	t.Cleanup(srv.Close)
	proxy := &fakeProxy{tunnelTo: srv.Listener.Addr().String()}
	withProxy(t, proxy)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// example.com is in the test server's certificate; only the proxy
	// knows where it is.
	c, err := New(Config{Endpoint: "https://example.com:" + port + "/api/v1/", Token: testToken, RootCAs: roots, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetServer(context.Background(), 12345); err != nil {
		t.Fatal(err)
	}
	if len(proxy.plain) != 0 || len(proxy.connects) != 1 || proxy.connects[0].Host != "example.com:"+port {
		t.Fatalf("the proxy received %d plain requests and CONNECTs %v; want one CONNECT to example.com:%s", len(proxy.plain), proxy.connects, port)
	}
	if h := proxy.connects[0].Header.Get("Authorization"); h != "" {
		t.Errorf("the CONNECT carried Authorization %q", h)
	}
	if reqs := api.requests(); len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("the API received %d requests, want 1 with the token", len(reqs))
	}
}

func TestProxyFunc_NeverForALoopbackHost(t *testing.T) {
	withProxy(t, &fakeProxy{})
	proxy := proxyFunc()
	for _, tt := range []struct {
		url       string
		wantProxy bool
	}{
		{"http://LOCALHOST:8080/api/v1/", false},
		{"http://localhost:8080/api/v1/", false},
		{"http://127.0.0.2:8080/api/v1/", false},
		{"http://[::1]:8080/api/v1/", false},
		{"https://LocalHost:8443/api/v1/", false},
		{"https://admin.vps.org/api/v1/", true},
		{"http://api.example.test/api/v1/", true},
	} {
		u, _ := url.Parse(tt.url)
		got, err := proxy(&http.Request{URL: u})
		if err != nil || (got != nil) != tt.wantProxy {
			t.Errorf("proxy for %s = %v, %v; want a proxy: %v", tt.url, got, err, tt.wantProxy)
		}
	}
}

// A plain http endpoint is on loopback in fact, not only in name: the
// client connects only to loopback addresses, whatever a name resolved to.
func TestLoopbackOnly_RefusesEveryAddressButLoopback(t *testing.T) {
	for address, allowed := range map[string]bool{
		"127.0.0.1:8080":   true,
		"127.8.9.10:80":    true,
		"[::1]:8080":       true,
		"192.0.2.10:8080":  false, // a documentation address: what a hostile hosts file may give "localhost"
		"[2001:db8::1]:80": false,
		"0.0.0.0:8080":     false,
		"localhost:8080":   false, // Control sees addresses, never names
	} {
		err := loopbackOnly("tcp", address, nil)
		if (err == nil) != allowed {
			t.Errorf("loopbackOnly(%s) = %v, want allowed %v", address, err, allowed)
		}
	}
}

// The default transport of a plain http endpoint carries that rule: the
// connection is refused before anything is sent (Control runs before
// connect), so the test sends nothing off the machine.
func TestDefaultHTTPClient_PlainHTTPDialsOnlyLoopback(t *testing.T) {
	tr := defaultHTTPClient(nil, true).Transport.(*http.Transport)
	if _, err := tr.DialContext(t.Context(), "tcp", "192.0.2.10:9"); err == nil || !strings.Contains(err.Error(), "must be on a loopback address") {
		t.Errorf("dialling a documentation address over plain http gave %v, want a refusal", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	conn, err := tr.DialContext(t.Context(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dialling loopback over plain http: %v", err)
	}
	_ = conn.Close()
}
