package vpsorg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Answers are validated before they are believed. A server object that
// lacks a field the provider maps would otherwise become plan 0, OS 0 or
// location "" in state, and the next plan would destroy and re-create a
// healthy server; a proxy's or a wrong path's 404 would otherwise remove
// every server from state.

// defaultMaxListPages bounds a list read: at the emulator's page size of 50
// that is 50 000 servers, far past any account, and a list longer than that
// is a next link gone wrong.
const defaultMaxListPages = 1000

// IncompleteServerError is a 2xx answer whose server object lacks fields
// that the provider maps (id, name, status, plan.id, os.id, location,
// created_at). It is a failed try, never a server.
type IncompleteServerError struct {
	// ID is the object's id, 0 when it has none.
	ID int64
	// Missing names the absent (or empty) fields.
	Missing []string
}

func (e *IncompleteServerError) Error() string {
	return "the answer is not a whole server object: it lacks " + strings.Join(e.Missing, ", ")
}

// missingFields names the mapped fields s lacks. A zero or empty value
// counts as missing: no server has id 0, plan 0 or an empty name.
func (s *Server) missingFields() []string {
	var missing []string
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"id", s.ID == 0},
		{"name", s.Name == ""},
		{"status", s.Status == ""},
		{"plan.id", s.Plan.ID == 0},
		{"os.id", s.OS.ID == 0},
		{"location", s.Location == ""},
		{"created_at", s.CreatedAt == ""},
	} {
		if f.missing {
			missing = append(missing, f.name)
		}
	}
	return missing
}

// checkItems fails a page with an item that is not a whole server: an item
// without id would otherwise become server 0, one without plan a server on
// plan 0.
func checkItems(servers []Server) error {
	for i := range servers {
		if missing := servers[i].missingFields(); len(missing) > 0 {
			return fmt.Errorf("list item %d: %w", i, &IncompleteServerError{ID: servers[i].ID, Missing: missing})
		}
	}
	return nil
}

// decodeServer reads one server object; an object lacking a field the
// provider maps is not a server (*IncompleteServerError).
func decodeServer(body []byte) (*Server, error) {
	var s Server
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	if missing := s.missingFields(); len(missing) > 0 {
		return nil, &IncompleteServerError{ID: s.ID, Missing: missing}
	}
	return &s, nil
}

// checkServer is decodeServer as a check on an answer (doChecked).
func checkServer(body []byte) error {
	_, err := decodeServer(body)
	return err
}

// checkList is decodeList as a check on an answer (doChecked).
func checkList(body []byte) error {
	_, err := decodeList(body)
	return err
}

// isIncomplete reports whether err is, or wraps, an answer that was not a
// whole server: a failure that asking again may cure.
func isIncomplete(err error) bool {
	var inc *IncompleteServerError
	return errors.As(err, &inc)
}

// UnprovenNotFoundError is a 404 for a server that does not prove the
// server gone: the endpoint does not answer like the API (a wrong base
// path, a proxy's HTML page).
type UnprovenNotFoundError struct {
	ID int64
	// Endpoint is the base URL the client talks to.
	Endpoint string
	// Reason says what did not answer like the API.
	Reason string
}

func (e *UnprovenNotFoundError) Error() string {
	return fmt.Sprintf("server %d: the API answered 404, but %s, so the 404 does not prove the server gone. "+
		"Check that the provider's endpoint (%s) is the VPS.org API's base URL, e.g. %s", e.ID, e.Reason, e.Endpoint, DefaultEndpoint)
}

// ConfirmGone tells whether a 404 for server id proves it gone. It returns
// nil when it does: the 404's body was the API's JSON (an error matching
// ErrNotFound says so) and the servers list of the same endpoint answers
// as the API does. Otherwise it returns an *UnprovenNotFoundError naming
// the endpoint, or the error that kept it from asking. notFound is the 404.
func (c *Client) ConfirmGone(ctx context.Context, id int64, notFound error) error {
	endpoint := redactor(c.token).text(c.base.Redacted())
	if !errors.Is(notFound, ErrNotFound) {
		return &UnprovenNotFoundError{ID: id, Endpoint: endpoint, Reason: "its body is not the API's JSON"}
	}
	u := c.resolve("servers/")
	_, err := c.doChecked(ctx, "list servers (to confirm a 404)", http.MethodGet, u, nil, nil, checkList)
	var apiErr *APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.StatusCode != 0 && !transient(err):
		return &UnprovenNotFoundError{ID: id, Endpoint: endpoint,
			Reason: fmt.Sprintf("the servers list of the same endpoint does not answer like the API either (%s)", apiErr.Error())}
	}
	return fmt.Errorf("server %d: the API answered 404; confirming it with the servers list failed: %w", id, err)
}

// Answered404 reports whether err is an answer 404, whatever its body: one
// that may mean the server is gone, to be confirmed with ConfirmGone before
// anything is dropped. errors.Is(err, ErrNotFound) is narrower: the body
// was the API's JSON.
func Answered404(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}

// apiShaped reports whether an error body is the API's: a JSON object.
// Proxies and load balancers answer HTML or text.
func apiShaped(body []byte) bool {
	body = bytes.TrimSpace(body)
	return len(body) > 0 && body[0] == '{' && json.Valid(body)
}
