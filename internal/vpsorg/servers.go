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
	"strconv"
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
	answered := c.poller.sendingDelete(id)
	_, err := c.do(ctx, fmt.Sprintf("delete server %d", id), http.MethodDelete, c.resolve(serverPath(id, "")), nil)
	answered(err == nil)
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
