package provider

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// A create that fails TLS verification never reached the API: it made no
// server, so the provider neither looks for one to adopt nor retries.
func TestCreateServer_untrustedCertificateIsNotALostAnswer(t *testing.T) {
	var handshakes, requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			handshakes.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()

	// The default client does not trust httptest's certificate.
	c, err := vpsorg.New(vpsorg.Config{Endpoint: srv.URL + "/api/v1/", Token: "test-token-for-tls"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = createServer(context.Background(), c, vpsorg.CreateServerRequest{Name: "web", PlanID: 1, OSID: 5, Location: "us-west"})
	if err == nil {
		t.Fatal("a create against an untrusted certificate succeeded")
	}
	if strings.Contains(err.Error(), "looking for the server") {
		t.Errorf("the provider looked for a server a create that never reached the API might have made: %v", err)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d connections, want 1: the create was retried or followed by a list", n)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests got through an untrusted certificate", n)
	}
}
