package vpsorg

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestCheckAccess_ReadsOnlyTheFirstPageOfTheList(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/servers/" {
			t.Errorf("CheckAccess sent %s %s, want GET /api/v1/servers/", r.Method, r.URL.Path)
		}
		// A next page that CheckAccess must not follow.
		_, _ = io.WriteString(w, `{"count": 3, "next": "`+"http://"+r.Host+`/api/v1/servers/?page=2", "results": []}`)
	}))
	defer srv.Close()
	c, err := New(fastConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckAccess(context.Background()); err != nil {
		t.Fatalf("CheckAccess: %v", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("CheckAccess sent %d requests, want 1", n)
	}
}

func TestAPIError_NamesTheMethodAndURLPathThatAnswered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail": "Not found."}`)
	}))
	defer srv.Close()
	cfg := fastConfig(srv)
	cfg.Endpoint = srv.URL + "/wrong/base/"
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		call         func() error
		method, path string
	}{
		{func() error { return c.CheckAccess(context.Background()) }, "GET", "/wrong/base/servers/"},
		{func() error {
			_, err := c.CreateServer(context.Background(), CreateServerRequest{Name: "a"})
			return err
		}, "POST", "/wrong/base/servers/"},
		{func() error { _, err := c.GetServer(context.Background(), 12345); return err }, "GET", "/wrong/base/servers/12345/"},
	} {
		var apiErr *APIError
		if err := tc.call(); !errors.As(err, &apiErr) {
			t.Fatalf("got %v, want an *APIError", err)
		}
		if apiErr.Method != tc.method || apiErr.Path != tc.path || apiErr.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got method %q, path %q, status %d; want %s %s, 404", apiErr.Operation, apiErr.Method, apiErr.Path, apiErr.StatusCode, tc.method, tc.path)
		}
	}
	if got := c.Endpoint(); got != srv.URL+"/wrong/base/" {
		t.Errorf("Endpoint() = %q, want %q", got, srv.URL+"/wrong/base/")
	}
}
