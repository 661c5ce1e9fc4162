package vpsorg

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Server statuses. The API documents these; any other status (e.g. "error"
// after a failed provisioning) is a failure state.
const (
	StatusProvisioning = "provisioning"
	StatusActive       = "active"
	StatusStopped      = "stopped"
	StatusSuspended    = "suspended"
	StatusStarting     = "starting"
	StatusStopping     = "stopping"
	StatusRebooting    = "rebooting"
)

// Statuses are every status the API documents, in the order it lists them.
var Statuses = []string{
	StatusProvisioning, StatusActive, StatusStopped, StatusSuspended,
	StatusStarting, StatusStopping, StatusRebooting,
}

// FilterStatuses are the status values the API documents as list filters.
// An API that checks them answers any other with 400, so ListServers
// filters by any other status itself.
var FilterStatuses = []string{StatusActive, StatusStopped, StatusSuspended}

// Plan is a server's plan. Memory is in MB, Storage and Bandwidth in GB.
type Plan struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	VCPUs   int64  `json:"vcpus"`
	Memory  int64  `json:"memory"`
	Storage int64  `json:"storage"`
	// Bandwidth is only in the detail view.
	Bandwidth *int64 `json:"bandwidth,omitempty"`
}

// OS is a server's operating system.
type OS struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ResourceUsage is a server's current usage (detail view only). MemoryUsed
// is in MB, DiskUsed and BandwidthUsed in GB, CPUPercent 0–100.
type ResourceUsage struct {
	CPUPercent    float64 `json:"cpu_percent"`
	MemoryUsed    int64   `json:"memory_used"`
	DiskUsed      int64   `json:"disk_used"`
	BandwidthUsed int64   `json:"bandwidth_used"`
}

// Server is a VPS as the API shows it. Which fields are present depends on
// the view: the list omits IPv6Address, Plan.Bandwidth, BackupsEnabled and
// ResourceUsage; the create answer omits IPv6Address and ResourceUsage.
type Server struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	Hostname       *string        `json:"hostname"`
	Status         string         `json:"status"`
	IPAddress      *string        `json:"ip_address"`
	IPv6Address    *string        `json:"ipv6_address"`
	Location       string         `json:"location"`
	Plan           Plan           `json:"plan"`
	OS             OS             `json:"os"`
	BackupsEnabled *bool          `json:"backups_enabled"`
	ResourceUsage  *ResourceUsage `json:"resource_usage"`
	// CreatedAt and UpdatedAt are RFC 3339 text exactly as the API sent it.
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// CreateServerRequest is the body of a create. Nil optional fields are not
// sent.
type CreateServerRequest struct {
	Name           string  `json:"name"`
	PlanID         int64   `json:"plan_id"`
	OSID           int64   `json:"os_id"`
	Location       string  `json:"location"`
	Hostname       *string `json:"hostname,omitempty"`
	SSHKeyID       *int64  `json:"ssh_key_id,omitempty"`
	BackupsEnabled *bool   `json:"backups_enabled,omitempty"`
}

// ReplaceServerRequest is the body of a PUT: every field is always sent.
type ReplaceServerRequest struct {
	Name           string `json:"name"`
	Hostname       string `json:"hostname"`
	BackupsEnabled bool   `json:"backups_enabled"`
}

// UpdateServerRequest is the body of a PATCH: only non-nil fields are sent.
type UpdateServerRequest struct {
	Name           *string `json:"name,omitempty"`
	Hostname       *string `json:"hostname,omitempty"`
	BackupsEnabled *bool   `json:"backups_enabled,omitempty"`
}

// IsEmpty reports whether the update would change nothing.
func (r UpdateServerRequest) IsEmpty() bool {
	return r.Name == nil && r.Hostname == nil && r.BackupsEnabled == nil
}

// ListServersOptions filters a list; empty fields are not sent.
type ListServersOptions struct {
	Status   string
	Location string
}

// ActionResult is the answer to start, stop and reboot.
type ActionResult struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Server  struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"server"`
}

func serverPath(id int64, action string) string {
	p := "servers/" + strconv.FormatInt(id, 10) + "/"
	if action != "" {
		p += action + "/"
	}
	return p
}

// ListServers returns every server matching opts, following "next" links
// through all pages, and has every server that existed throughout the read
// or fails with ErrListChanged (listSettled). It never trusts "count", and
// returns an empty, non-nil slice when nothing matches. A status that is not among FilterStatuses is
// not sent: the whole list is read and filtered here.
func (c *Client) ListServers(ctx context.Context, opts ListServersOptions) ([]Server, error) {
	status := opts.Status
	if !slices.Contains(FilterStatuses, status) {
		opts.Status = ""
	}
	servers, err := c.listSettled(ctx, opts)
	if err != nil || opts.Status == status {
		return servers, err
	}
	return slices.DeleteFunc(servers, func(s Server) bool { return s.Status != status }), nil
}

// ErrListChanged is the error of a list read while the account kept
// changing: no two reads in a row agreed, so any of them could lack a
// server that existed throughout.
var ErrListChanged = errors.New("the server list changed while it was read")

// listReads bounds how often ListServers reads a list that spans pages
// before it gives up on two reads that agree.
const listReads = 5

// listSettled is the list as ListServers returns it: with every server
// that existed throughout the read. One page is one answer, a snapshot. A
// list of several pages is not: a server created or deleted between two
// page requests shifts the later pages, and a read skips a server or shows
// one twice, with the count unchanged when one server came as another
// went. So such a list is read until two reads in a row show the same
// servers (twice, when the account is quiet): a server a read skipped
// shows in the next, and a server deleted during a read is gone from the
// next, so two that agree missed nothing that stayed. A read whose later
// page was gone (404) starts over; that 404 stands when the last read
// meets it too. After listReads reads without two that
// agree, the list fails with ErrListChanged: any read could lack a live
// server, and a consumer (DNS, a load balancer) is better told than handed
// a list that silently lacks one.
func (c *Client) listSettled(ctx context.Context, opts ListServersOptions) ([]Server, error) {
	var last []Server
	var err error
	for read := 1; read <= listReads; read++ {
		var servers []Server
		var pages int
		var changed bool
		servers, pages, changed, err = c.listOnce(ctx, opts)
		switch {
		case err != nil && !changed: // not a later page gone
			return nil, err
		case err == nil && pages == 1:
			return servers, nil
		case err == nil && last != nil && sameServers(last, servers):
			return servers, nil
		}
		last = servers
		if err == nil && read > 1 {
			c.log(ctx, "vpsorg: the server list changed while it was read; reading it again", map[string]any{"read": read})
		}
	}
	if err != nil { // a later page gone on the last read too
		return nil, err
	}
	return nil, fmt.Errorf("list servers: %w: no two of %d reads in a row showed the same servers (servers created or deleted "+
		"between the reads of its pages), so any of them could lack a server that exists; try again when the account changes less",
		ErrListChanged, listReads)
}

// sameServers reports whether two reads of the list show the same servers.
func sameServers(a, b []Server) bool {
	if len(a) != len(b) {
		return false
	}
	ids := make(map[int64]bool, len(a))
	for _, s := range a {
		ids[s.ID] = true
	}
	for _, s := range b {
		if !ids[s.ID] {
			return false
		}
	}
	return true
}

// listAttempts bounds how often a list read starts over because the list
// changed while it was being read.
const listAttempts = 4

// listServers is the poller's read of the list (poll.go), which also says
// how many pages it read. The poller needs no guarantee: a server its list
// lacks gets a GET of its own. So it reads once, or again as below, never
// twice to confirm as ListServers does.
//
// The API pages its list with no snapshot: a server created or deleted
// between two page requests shifts the rest, so a read can skip a server or
// ask for a page that no longer exists (404). When a later page is gone or
// the list's count changes between pages, the read starts over from the
// first page, up to listAttempts times; the last read stands.
func (c *Client) listServers(ctx context.Context, opts ListServersOptions) ([]Server, int, error) {
	for attempt := 1; ; attempt++ {
		servers, pages, changed, err := c.listOnce(ctx, opts)
		if !changed || attempt == listAttempts {
			return servers, pages, err
		}
		c.log(ctx, "vpsorg: the server list changed while it was read; reading it again", map[string]any{"attempt": attempt})
	}
}

// listOnce reads every page once, from the first. changed says the list
// changed under the read: its count moved, or a later page was gone.
func (c *Client) listOnce(ctx context.Context, opts ListServersOptions) (servers []Server, pages int, changed bool, err error) {
	const op = "list servers"
	u := c.resolve("servers/")
	q := url.Values{}
	if opts.Status != "" {
		q.Set("status", opts.Status)
	}
	if opts.Location != "" {
		q.Set("location", opts.Location)
	}
	u.RawQuery = q.Encode()

	servers = []Server{}
	seen := map[string]bool{}
	ids := map[int64]bool{}
	count := -1
	for {
		// The fragment is never sent: two links that differ only there
		// are the same request.
		u.Fragment, u.RawFragment = "", ""
		key := u.String()
		if seen[key] {
			return nil, 0, false, &APIError{Operation: op, Err: fmt.Errorf("pagination loop: next page %s was already fetched", redactor(c.token).text(key))}
		}
		if len(seen) >= c.maxListPages {
			return nil, 0, false, &APIError{Operation: op, Err: fmt.Errorf("the list has more than %d pages; a list that long is taken for a broken next link, not read further", c.maxListPages)}
		}
		seen[key] = true

		resp, err := c.doChecked(ctx, op, http.MethodGet, u, nil, nil, checkList)
		if err != nil {
			return nil, 0, errors.Is(err, ErrNotFound) && len(seen) > 1, err
		}
		page, err := decodeList(resp.body)
		if err != nil {
			return nil, 0, false, undecodable(op, resp, err)
		}
		if page.count != nil {
			changed = changed || count >= 0 && *page.count != count
			count = *page.count
		}
		for _, s := range page.results {
			if !ids[s.ID] { // a server shifted onto the next page shows twice
				ids[s.ID] = true
				servers = append(servers, s)
			}
		}
		if page.next == "" {
			return servers, len(seen), changed, nil
		}
		next, err := c.nextPage(u, page.next)
		if err != nil {
			return nil, 0, false, &APIError{Operation: op, StatusCode: resp.status, Message: "bad next page link", Err: redactor(c.token).err(err)}
		}
		u = next
	}
}

// nextPage resolves a "next" link (absolute or relative to the current page)
// and refuses one that leaves the endpoint's scheme and host: the client
// would send the token there.
func (c *Client) nextPage(current *url.URL, next string) (*url.URL, error) {
	ref, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("invalid next link: %w", err)
	}
	u := current.ResolveReference(ref)
	if !sameOrigin(u, c.base) {
		return nil, fmt.Errorf("next link %q leaves the endpoint %s://%s", u.Redacted(), c.base.Scheme, c.base.Host)
	}
	return u, nil
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b) &&
		a.User == nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

type listPage struct {
	results []Server
	next    string
	count   *int // the API's count of the whole list, if it gave one
}

// decodeList reads a list page: {"count": n, "next": url|null, "results":
// [...]}, or a bare array of servers.
func decodeList(body []byte) (listPage, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var servers []Server
		if err := json.Unmarshal(body, &servers); err != nil {
			return listPage{}, err
		}
		return listPage{results: servers}, checkItems(servers)
	}
	var page struct {
		Count   *int            `json:"count"`
		Results json.RawMessage `json:"results"`
		Next    *string         `json:"next"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return listPage{}, err
	}
	if page.Results == nil {
		return listPage{}, errors.New(`the response has no "results"`)
	}
	var out listPage
	if err := json.Unmarshal(page.Results, &out.results); err != nil {
		return listPage{}, err
	}
	if page.Next != nil {
		out.next = strings.TrimSpace(*page.Next)
	}
	out.count = page.Count
	return out, checkItems(out.results)
}

// undecodable is the error for a 2xx answer the client cannot use.
func undecodable(op string, resp *response, err error) *APIError {
	return &APIError{
		Operation:  op,
		StatusCode: resp.status,
		Message:    "unexpected response body",
		Err:        err,
	}
}

// CreateServer creates a server. The answer usually has status
// "provisioning"; use WaitForStatus to wait for "active".
//
// The request carries an Idempotency-Key (the same on every retry of this
// call) and is retried only when the API provably did not act on it. An
// error with StatusCode 0 or 2xx is ambiguous: the server may exist.
func (c *Client) CreateServer(ctx context.Context, req CreateServerRequest) (*Server, error) {
	const op = "create server"
	key, err := idempotencyKey()
	if err != nil {
		return nil, &APIError{Operation: op, Err: err}
	}
	h := http.Header{}
	h.Set("Idempotency-Key", key)
	// A partial answer fails the check: the create may have acted
	// (MayHaveActed), and the caller looks for the server rather than
	// saving a partial one.
	resp, err := c.doChecked(ctx, op, http.MethodPost, c.resolve("servers/"), req, h, checkServer)
	if err != nil {
		return nil, err
	}
	s, err := decodeServer(resp.body)
	if err != nil {
		return nil, undecodable(op, resp, err)
	}
	c.created.Store(s.ID, struct{}{})
	return s, nil
}

func idempotencyKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating idempotency key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// GetServer returns the full (detail) view of a server. A missing server is
// an error matching ErrNotFound.
func (c *Client) GetServer(ctx context.Context, id int64) (*Server, error) {
	op := fmt.Sprintf("get server %d", id)
	resp, err := c.doChecked(ctx, op, http.MethodGet, c.resolve(serverPath(id, "")), nil, nil, checkServer)
	if err != nil {
		return nil, err
	}
	s, err := decodeServer(resp.body)
	if err != nil {
		return nil, undecodable(op, resp, err)
	}
	return s, nil
}

// ReplaceServer sets name, hostname and backups_enabled (PUT). The answer's
// body is undocumented: the server is returned when the body is one, else
// nil with no error — read it back with GetServer.
func (c *Client) ReplaceServer(ctx context.Context, id int64, req ReplaceServerRequest) (*Server, error) {
	return c.writeServer(ctx, fmt.Sprintf("replace server %d", id), http.MethodPut, id, req)
}

// UpdateServer changes only the non-nil fields of req (PATCH). Like
// ReplaceServer, it returns nil with no error when the answer is not a
// server.
func (c *Client) UpdateServer(ctx context.Context, id int64, req UpdateServerRequest) (*Server, error) {
	return c.writeServer(ctx, fmt.Sprintf("update server %d", id), http.MethodPatch, id, req)
}

func (c *Client) writeServer(ctx context.Context, op, method string, id int64, req any) (*Server, error) {
	resp, err := c.do(ctx, op, method, c.resolve(serverPath(id, "")), req)
	if err != nil {
		return nil, err
	}
	// The answer's body is undocumented: one that is not a whole server is
	// tolerated, and the caller reads the server back.
	if s, err := decodeServer(resp.body); err == nil {
		return s, nil
	}
	return nil, nil
}

// DeleteServer deletes a server, permanently. Any 2xx (the API sends 204) is
// success; a missing server is an error matching ErrNotFound. Either way the
// client remembers the id (RecentlyDeleted).
func (c *Client) DeleteServer(ctx context.Context, id int64) error {
	_, err := c.do(ctx, fmt.Sprintf("delete server %d", id), http.MethodDelete, c.resolve(serverPath(id, "")), nil)
	if err == nil || errors.Is(err, ErrNotFound) {
		c.deleted.Store(id, struct{}{})
	}
	return err
}

// RecentlyDeleted reports whether this client deleted server id: a
// DeleteServer that was answered 2xx or 404, since the client was made. The
// API is eventually consistent about deletes too, so a deleted server may
// still be listed for a while; a caller looking for a server to adopt (a
// create whose answer was lost) must not adopt one that is going away.
func (c *Client) RecentlyDeleted(id int64) bool {
	_, ok := c.deleted.Load(id)
	return ok
}

// StartServer powers a stopped server on. The status moves to "starting".
func (c *Client) StartServer(ctx context.Context, id int64) (*ActionResult, error) {
	return c.action(ctx, id, "start")
}

// StopServer shuts a running server down gracefully. The status moves to
// "stopping".
func (c *Client) StopServer(ctx context.Context, id int64) (*ActionResult, error) {
	return c.action(ctx, id, "stop")
}

// RebootServer restarts a running server gracefully. The status moves to
// "rebooting".
func (c *Client) RebootServer(ctx context.Context, id int64) (*ActionResult, error) {
	return c.action(ctx, id, "reboot")
}

// action posts to servers/{id}/{name}/. An empty 2xx body is accepted as a
// success with an empty result; a body that is not the documented envelope
// is an error.
func (c *Client) action(ctx context.Context, id int64, name string) (*ActionResult, error) {
	op := fmt.Sprintf("%s server %d", name, id)
	resp, err := c.do(ctx, op, http.MethodPost, c.resolve(serverPath(id, name)), nil)
	if err != nil {
		return nil, err
	}
	var res ActionResult
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return &res, nil
	}
	if err := json.Unmarshal(resp.body, &res); err != nil {
		return nil, undecodable(op, resp, err)
	}
	return &res, nil
}
