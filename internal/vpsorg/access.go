package vpsorg

import (
	"context"
	"net/http"
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
func (c *Client) CheckAccess(ctx context.Context) error {
	_, err := c.do(ctx, "list servers (checking the endpoint and API token)", http.MethodGet, c.resolve("servers/"), nil)
	return err
}
