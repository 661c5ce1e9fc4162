package vpsorg

// The list of servers: every page, read until two reads agree, with only
// the documented filter values sent.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

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
