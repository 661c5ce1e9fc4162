package vpsorg

import (
	"context"
	"sync"
	"time"
)

// SharedServerList is the account's servers in every location, read as one
// list that every caller of the client shares: a call while a list is on
// its way waits for it, and a call within maxAge of the last list's start
// takes that list's answer without a request. A list that failed is not
// shared after it ended: the next call reads again. Terraform plans
// up to ten resources at a time in one provider process, and a check made
// for each planned server would otherwise cost a list each: through
// SharedServerList a plan of N servers costs one list (in as many pages as
// the account takes). The servers returned are shared: callers must not
// change them.
//
// The list is read under its own timeout (listTimeout), not the caller's
// context: a caller that gives up does not fail the others' list.
func (c *Client) SharedServerList(ctx context.Context, maxAge time.Duration) ([]Server, error) {
	r := c.shared.round(func() *listRound {
		r := &listRound{started: time.Now(), done: make(chan struct{})}
		go func() {
			defer close(r.done)
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listTimeout)
			defer cancel()
			r.servers, _, r.err = c.listServers(lctx, ListServersOptions{})
		}()
		return r
	}, maxAge)
	select {
	case <-r.done:
		return r.servers, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sharedList is the last shared list of a client.
type sharedList struct {
	mu   sync.Mutex
	last *listRound
}

// listRound is one shared list: done is closed when servers and err are set.
type listRound struct {
	started time.Time
	done    chan struct{}
	servers []Server
	err     error
}

// round returns the last list if it started within maxAge and has not
// failed, else a new one from start.
func (s *sharedList) round(start func() *listRound, maxAge time.Duration) *listRound {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil || time.Since(s.last.started) > maxAge || s.last.failed() {
		s.last = start()
	}
	return s.last
}

// seed keeps servers, a whole list read from started, as the last list,
// unless a list started later is already kept.
func (s *sharedList) seed(started time.Time, servers []Server) {
	r := &listRound{started: started, done: make(chan struct{}), servers: servers}
	close(r.done)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil || s.last.started.Before(started) {
		s.last = r
	}
}

// failed reports whether the list has ended in an error.
func (r *listRound) failed() bool {
	select {
	case <-r.done:
		return r.err != nil
	default:
		return false
	}
}

// CreatedHere reports whether a CreateServer of this client was answered
// with server id: that server belongs to the caller whose create made it,
// never to another create whose answer was lost, nor to a server found
// under a planned name.
func (c *Client) CreatedHere(id int64) bool {
	_, ok := c.created.Load(id)
	return ok
}
