package vpsorg

import (
	"context"
	"net/http"
	"time"
)

// Endpoint is the base URL the client sends its requests under, as
// configured (a trailing slash added). It holds no credentials: an
// endpoint with a user or password is refused by New.
func (c *Client) Endpoint() string {
	return c.base.String()
}

// CheckAccess reads the first page of the server list and nothing more: the
// cheapest request that needs both a token the API accepts and an endpoint
// that is the API's base URL. A provider checks its settings with it once,
// before any operation, so that a refused token or a wrong endpoint is
// reported once rather than by every operation. The error is that of the
// request (an *APIError), and nil when the API answered the list.
//
// A first page that is the whole list (no next page) is the account's
// servers as SharedServerList would read them: it is kept for it, so that
// a plan's look for servers under its planned names costs no list of its
// own on an account of one page.
func (c *Client) CheckAccess(ctx context.Context) error {
	began := time.Now()
	resp, err := c.do(ctx, "list servers (checking the endpoint and API token)", http.MethodGet, c.resolve("servers/"), nil)
	if err != nil {
		return err
	}
	if page, err := decodeList(resp.body); err == nil && page.next == "" {
		c.shared.seed(began, page.results)
	}
	return nil
}
