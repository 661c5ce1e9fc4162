package provider

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// A search for a lost create's server whose lists fail: when the deadline
// cuts its last list short, the error still names the API's failure, not
// only the deadline that ended the search.
func TestFindCreated_aListCutByTheDeadlineKeepsTheAPIsFailure(t *testing.T) {
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lists.Add(1) <= 2 { // the first list and its one retry
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"detail": "Internal Server Error."}`))
			return
		}
		<-r.Context().Done() // the next one stalls until the search ends
	}))
	defer srv.Close()
	c, err := vpsorg.New(vpsorg.Config{Endpoint: srv.URL + "/api/v1/", Token: "test-token-for-search",
		RetryMax: 1, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	now := time.Now()
	_, err = findCreated(ctx, c, vpsorg.CreateServerRequest{Name: "web", PlanID: 1, OSID: 5, Location: "us-west"}, now, now)
	if !errors.Is(err, errNoneListed) {
		t.Fatalf("the search ended with %v; want no server listed", err)
	}
	if lists.Load() < 3 {
		t.Fatalf("%d lists; the third, cut by the deadline, is what the test is about", lists.Load())
	}
	if !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("the search's error does not name the API's failure: %v", err)
	}
}
