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
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseErrorBody_UnderstandsCommonShapes(t *testing.T) {
	huge := strings.Repeat("x", 5000)
	tests := []struct {
		name       string
		body       string
		wantMsg    string
		wantFields map[string][]string
	}{
		{"empty body", "", "", nil},
		{"whitespace", " \n ", "", nil},
		{"detail (emulator)", `{"detail": "Invalid parameters.", "errors": {"name": ["must be alphanumeric"], "plan_id": ["unknown plan", "required"]}}`,
			"Invalid parameters.", map[string][]string{"name": {"must be alphanumeric"}, "plan_id": {"unknown plan", "required"}}},
		{"detail only", `{"detail": "Not found."}`, "Not found.", nil},
		{"message", `{"message": "Insufficient credits", "code": 402}`, "Insufficient credits", nil},
		{"error string", `{"error": "server is already running"}`, "server is already running", nil},
		{"error object", `{"error": {"code": "rate_limited", "message": "Too many requests"}}`, "Too many requests", nil},
		{"message preferred to error code", `{"error": "not_found", "message": "Server not found"}`, "Server not found", nil},
		{"DRF field lists", `{"name": ["This field is required."], "os_id": ["Invalid pk \"99\" - object does not exist."]}`,
			"", map[string][]string{"name": {"This field is required."}, "os_id": {`Invalid pk "99" - object does not exist.`}}},
		{"DRF non_field_errors", `{"non_field_errors": ["Server is not running.", "Try later."]}`, "Server is not running.; Try later.", nil},
		{"DRF nested", `{"plan": {"id": ["bad plan"]}}`, "", map[string][]string{"plan.id": {"bad plan"}}},
		{"errors map of strings", `{"errors": {"hostname": "must be a FQDN"}}`, "", map[string][]string{"hostname": {"must be a FQDN"}}},
		{"errors list of objects", `{"message": "Validation failed", "errors": [{"field": "name", "message": "too long"}, {"field": "name", "message": "bad chars"}, {"message": "general"}]}`,
			"Validation failed; general", map[string][]string{"name": {"too long", "bad chars"}}},
		{"errors list of strings", `{"errors": ["first", "second"]}`, "first; second", nil},
		{"FastAPI detail list", `{"detail": [{"loc": ["body", "name"], "msg": "field required", "type": "missing"}]}`,
			"", map[string][]string{"name": {"field required"}}},
		{"top-level list", `["Server is already running."]`, "Server is already running.", nil},
		{"JSON without a message", `{"status": 500, "code": "E42"}`, `{"status": 500, "code": "E42"}`, nil},
		{"plain text", "Bad Gateway\n", "Bad Gateway", nil},
		{"HTML", "<html><body><h1>502 Bad Gateway</h1></body></html>", "<html><body><h1>502 Bad Gateway</h1></body></html>", nil},
		{"JSON string", `"oops"`, `"oops"`, nil},
		{"huge text is cut", huge, strings.Repeat("x", 509) + "…", nil},
		{"huge detail is cut", `{"detail": "` + huge + `"}`, strings.Repeat("x", 509) + "…", nil},
		{"invalid UTF-8", "bad \xff byte", "bad \uFFFD byte", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, fields := parseErrorBody([]byte(tt.body))
			if msg != tt.wantMsg {
				t.Errorf("message = %q, want %q", msg, tt.wantMsg)
			}
			if !reflect.DeepEqual(fields, tt.wantFields) {
				t.Errorf("fields = %v, want %v", fields, tt.wantFields)
			}
			if len(msg) > maxMessageLen || !utf8.ValidString(msg) {
				t.Errorf("message is %d bytes or invalid UTF-8", len(msg))
			}
		})
	}
}

func TestTruncate_CutsAtARuneBoundary(t *testing.T) {
	s := strings.Repeat("é", 400) // 800 bytes
	got := truncate(s)
	if len(got) > maxMessageLen || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("truncate: %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
}

func TestAPIError_ErrorNamesOperationStatusMessageAndSortedFields(t *testing.T) {
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{Operation: "create server", StatusCode: 400, Message: "Invalid parameters.",
			Fields: map[string][]string{"plan_id": {"unknown plan"}, "name": {"must be alphanumeric", "too long"}}},
			"create server: HTTP 400 Bad Request: Invalid parameters. (name: must be alphanumeric, too long; plan_id: unknown plan)"},
		{&APIError{Operation: "get server 12345", StatusCode: 404}, "get server 12345: HTTP 404 Not Found"},
		{&APIError{Operation: "create server", StatusCode: 402, Message: "Insufficient credits"}, "create server: HTTP 402 Payment Required: Insufficient credits"},
		{&APIError{Operation: "list servers", StatusCode: 599, Message: "weird"}, "list servers: HTTP 599: weird"},
		{&APIError{Operation: "list servers", Err: errors.New("dial tcp: connection refused")}, "list servers: dial tcp: connection refused"},
		{&APIError{Operation: "get server 1", StatusCode: 503, Message: "busy", Err: context.Canceled}, "get server 1: HTTP 503 Service Unavailable: busy; context canceled"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestAPIError_404MatchesErrNotFound(t *testing.T) {
	for _, status := range []int{404, 400, 410, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			rec := &recorder{replies: []reply{{status: status, body: `{"detail": "Not found."}`}}}
			c, _ := newTestClient(t, rec)
			err := c.DeleteServer(context.Background(), 12345)
			if got, want := errors.Is(err, ErrNotFound), status == 404; got != want {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, got, want)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.Message != "Not found." || apiErr.Operation != "delete server 12345" {
				t.Errorf("error = %#v", err)
			}
		})
	}
}

func TestAPIError_CarriesRetryAfter(t *testing.T) {
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"detail": "Request was throttled."}`)
	}))
	// A 429 is retried until the deadline; this one asks for a pause that
	// ends after it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.GetServer(ctx, 1)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != "120" || apiErr.StatusCode != 429 || apiErr.Message != "Request was throttled." {
		t.Errorf("error = %#v", err)
	}
}

func TestMayHaveActed_TellsAFailureThatMayHaveActedFromOneThatDidNot(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now: connections are refused
		return "http://" + addr + "/api/v1/"
	}
	// replying answers every request with the replies in turn.
	replying := func(replies ...reply) func(*testing.T) string {
		return func(t *testing.T) string {
			_, srv := newTestClient(t, &recorder{replies: replies})
			return srv.URL + "/api/v1/"
		}
	}
	create := func(ctx context.Context, c *Client) error {
		_, err := c.CreateServer(ctx, CreateServerRequest{Name: "a"})
		return err
	}
	deleteServer := func(ctx context.Context, c *Client) error { return c.DeleteServer(ctx, 1) }

	tests := []struct {
		name     string
		endpoint func(*testing.T) string
		ctx      func(*testing.T) context.Context // default: 10s
		call     func(context.Context, *Client) error
		want     bool
	}{
		{"no answer: the connection dropped after sending", replying(reply{hangUp: true}), nil, create, true},
		{"500", replying(reply{status: 500}), nil, create, true},
		{"502", replying(reply{status: 502}), nil, create, true},
		{"503", replying(reply{status: 503}), nil, create, true},
		{"504", replying(reply{status: 504}), nil, create, true},
		{"408", replying(reply{status: 408}), nil, create, true},
		{"a 2xx whose body is not a server", replying(reply{status: 201, body: `{"oops": true}`}), nil, create, true},
		{"a 2xx whose server lacks plan, os and location", replying(reply{status: 201, body: `{"id": 12347, "name": "a", "status": "provisioning"}`}), nil, create, true},
		{"a redirect, not followed", replying(reply{status: 307, header: map[string]string{"Location": "http://127.0.0.1:9/api/v1/servers/"}}), nil, create, false},
		{"303 See Other: the request was carried out (RFC 9110)", replying(reply{status: 303, header: map[string]string{"Location": "http://127.0.0.1:9/api/v1/servers/12347/"}}), nil, create, true},
		{"a 2xx whose body could not be read", func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(201)
				_, _ = io.WriteString(w, `{"id": 1,`) // and hang up before the rest
			}))
			t.Cleanup(srv.Close)
			return srv.URL + "/api/v1/"
		}, nil, create, true},
		{"the context ended while the request was in flight", func(t *testing.T) string {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })
			return srv.URL + "/api/v1/"
		}, func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, create, true},
		{"a DELETE that dropped, then 404 on its retry: the first try may have deleted",
			replying(reply{hangUp: true}, reply{status: 404}), nil, deleteServer, true},

		{"connection refused", refused, nil, create, false},
		{"DNS failure", func(*testing.T) string { return "http://vpsorg-test.invalid/api/v1/" }, nil, create, false},
		{"a TLS certificate the client does not trust", func(t *testing.T) string {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				t.Error("the request reached the API")
			}))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
			t.Cleanup(srv.Close)
			return srv.URL + "/api/v1/"
		}, nil, create, false},
		{"400", replying(reply{status: 400, body: `{"detail": "Invalid parameters."}`}), nil, create, false},
		{"401", replying(reply{status: 401}), nil, create, false},
		{"402", replying(reply{status: 402}), nil, create, false},
		{"404", replying(reply{status: 404}), nil, create, false},
		{"409", replying(reply{status: 409}), nil, create, false},
		{"429 asking for a pause that ends after the deadline", replying(reply{status: 429, header: map[string]string{"Retry-After": "5"}}),
			func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				t.Cleanup(cancel)
				return ctx
			}, create, false},
		{"the context ended before sending", replying(reply{status: 201, body: createdJSON}), func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, create, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Endpoint: tt.endpoint(t), Token: testToken, RetryMax: 2,
				RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			err = tt.call(ctx, c)
			if err == nil {
				t.Fatal("the call succeeded; the case proves nothing")
			}
			if got := MayHaveActed(err); got != tt.want {
				t.Errorf("MayHaveActed(%v) = %v, want %v", err, got, tt.want)
			}
			// Wrapping does not change the answer.
			if got := MayHaveActed(fmt.Errorf("creating: %w", err)); got != tt.want {
				t.Errorf("MayHaveActed of the wrapped error = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMayHaveActed_OfErrorsNotFromARequest(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, true},
		{context.DeadlineExceeded, true},
		{&APIError{Operation: "create server", StatusCode: 202}, true},
		{&APIError{Operation: "create server", StatusCode: 422}, false},
		{&APIError{Operation: "create server", Err: syscall.ECONNREFUSED}, false},
		{&APIError{Operation: "create server", Err: io.ErrUnexpectedEOF}, true},
	}
	for _, tt := range tests {
		if got := MayHaveActed(tt.err); got != tt.want {
			t.Errorf("MayHaveActed(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
