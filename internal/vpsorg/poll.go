package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// The waiters of one client share their polls. Terraform applies many
// resources at once (-parallelism, 10 by default) and each waits for its own
// server; polled one by one, a fleet spends its rate limit on status polls
// alone. The poller gathers the waiters that are due at about the same time
// into one tick and serves the tick the cheaper way: one GET per waiter, or
// one list of the account, which shows them all at once in as many pages as
// it takes. A lone waiter still costs one GET.
//
// A tick served by a list serves every waiter the list can serve, due or
// not: the list costs the same, and a waiter whose server has changed early
// learns it then (and gets its GET) instead of at its own next poll. A
// waiter served early keeps its schedule until its first look has come; after
// it, the list counts as its poll.
//
// The list is never filtered by a pending status: the API documents only
// active, stopped and suspended as filter values, and an API that checks
// them refuses "status=provisioning" with a 400. A list serves a waiter when
// it shows its server in a status that cannot end the wait (the waiter's
// listed), or, for a delete, when it shows the server at all ("not yet") or
// not at all: a server absent from a whole list, read after the DELETE was
// answered, whose count did not move between its pages, is gone. A list
// the API refused as invalid is not sent again: the poller falls back to
// GETs for good.
//
// It also learns how long a kind of wait takes (provisioning, say): a later
// wait of the same kind first polls when the shortest one seen ended,
// instead of polling from the start.

// listTimeout bounds a shared list, which no single waiter's context owns.
const listTimeout = time.Minute

// gatherFor is how long at most a delete's first look waits for
// other deletes to share a list with, when enough waiters share the poller
// for a list to be the cheaper look (see poller.gathering): it looks as
// soon as it has all the company it can expect (poller.companyLocked). A
// lone delete looks at once.
const gatherFor = 200 * time.Millisecond

// quietFor is how long after the last DELETE went the deletes gathering
// for a list, all those under way, count on no more company.
const quietFor = 20 * time.Millisecond

// pollRequest is one waiter's request for one observation.
type pollRequest struct {
	ctx context.Context
	id  int64
	// listed says whether a list that shows the server as s may serve
	// this request: s cannot end the wait. nil when only a GET will do.
	listed func(s *Server) bool
	// deleting: a list that shows the server says "not yet"; a whole list
	// that does not, "gone".
	deleting bool
	// likely: the wait likely ended by now (the first look of a kind
	// seen before), so its GET would be the read-back too; it takes part
	// in a list only when the list is sent anyway.
	likely bool
	// gather: a delete's first look, waiting for company; ready as soon
	// as it has all it can expect (poller.companyLocked).
	gather bool
	early  time.Time // may be served from here on (to share a tick)
	due    time.Time // must be served by then
	done   chan pollResult
}

// byList reports whether a list may serve r.
func (r *pollRequest) byList() bool { return r.listed != nil || r.deleting }

type pollResult struct {
	o   observation
	err error
}

type poller struct {
	c       *Client
	wake    chan struct{}
	mu      sync.Mutex
	queue   []*pollRequest
	running bool
	pages   int // pages the last list took; 0 until one was read
	listed  int // servers the last list showed
	deleted int // waits for a delete begun since the last list
	waiters int // waits under way that a list may serve
	// underWay: the deletes from their DELETE to their wait's end, by
	// server id; peak: the most at once.
	underWay map[int64]struct{}
	peak     int
	// companied counts the ticks that took deletes before their time
	// because their company was complete.
	companied int
	lastSent  time.Time // when the last DELETE went
	// deleteEnded is when the last wait for a delete ended: a delete that
	// follows another closely (a destroy) counts on the next for company.
	deleteEnded time.Time
	refused     bool                  // the API refused the list as invalid (400)
	learned     map[string]waitLength // what the waits taught, by kind
}

func newPoller(c *Client) *poller {
	return &poller{
		c:        c,
		wake:     make(chan struct{}, 1),
		learned:  map[string]waitLength{},
		underWay: map[int64]struct{}{},
	}
}

// begin counts a wait that a list may serve until the returned func is
// called; deleting counts it as a server leaving the list.
func (p *poller) begin(id int64, deleting bool) (end func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiters++
	if deleting {
		p.deleted++
	}
	return func() {
		p.mu.Lock()
		p.waiters--
		if deleting {
			p.deleteEnded = time.Now()
			delete(p.underWay, id)
		}
		p.mu.Unlock()
		if deleting {
			p.poke() // the deletes still gathering may have all their company now
		}
	}
}

// sendingDelete counts the delete of server id as under way, from its
// DELETE until its wait ends (or, when the DELETE is not accepted, until
// the returned func says so). The most deletes under way at once is the
// company a delete's first look can expect (Terraform's parallelism): once
// that many wait for a look, the list goes without waiting out gatherFor.
func (p *poller) sendingDelete(id int64) (answered func(accepted bool)) {
	p.mu.Lock()
	p.underWay[id] = struct{}{}
	p.peak = max(p.peak, len(p.underWay))
	p.lastSent = time.Now()
	p.mu.Unlock()
	return func(accepted bool) {
		if accepted {
			return
		}
		p.mu.Lock()
		delete(p.underWay, id)
		p.mu.Unlock()
		p.poke()
	}
}

// companyLocked says when the deletes gathering for a list have all the
// company they can expect: now, when as many wait as were ever under way
// at once, or when every delete under way waits and quietFor has passed
// since the last DELETE went (the last of a destroy); the zero time when
// none gathers. p.mu must be held.
func (p *poller) companyLocked(now time.Time) time.Time {
	gathering := 0
	for _, r := range p.queue {
		if r.gather {
			gathering++
		}
	}
	switch {
	case gathering == 0:
		return time.Time{}
	case gathering >= p.peak:
		return now
	case gathering >= len(p.underWay):
		return p.lastSent.Add(quietFor)
	}
	return time.Time{}
}

// poke wakes the poller's loop to look at its queue again.
func (p *poller) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// companyArrived reports whether r is a delete gathering for company and
// its company (companyLocked's time) has come by now.
func companyArrived(r *pollRequest, now, company time.Time) bool {
	return r.gather && !company.IsZero() && !company.After(now)
}

// gathering reports whether enough waits are under way for one list to
// cost fewer requests than their GETs. A delete that follows another's
// wait within gatherFor counts on one more to come.
func (p *poller) gathering(deleting bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pages, ok := p.listCostLocked()
	company := p.waiters
	if deleting && time.Since(p.deleteEnded) < gatherFor {
		company++
	}
	return ok && company > pages
}

// observe queues a request and blocks until a tick serves it or ctx ends.
func (p *poller) observe(ctx context.Context, r *pollRequest) (observation, error) {
	r.ctx, r.done = ctx, make(chan pollResult, 1)
	p.mu.Lock()
	p.queue = append(p.queue, r)
	if !p.running {
		p.running = true
		go p.run()
	}
	p.mu.Unlock()
	p.poke()
	select {
	case res := <-r.done:
		return res.o, res.err
	case <-ctx.Done():
		p.drop(r)
		return observation{}, ctx.Err()
	}
}

func (p *poller) drop(r *pollRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, q := range p.queue {
		if q == r {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			return
		}
	}
}

// run ticks while there are requests: a tick comes when the earliest due
// time has come and takes every request whose early time has come, and,
// when it lists, every other request a list can serve.
func (p *poller) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		now := time.Now()
		company := p.companyLocked(now)
		earliest := p.queue[0].due
		for _, r := range p.queue[1:] {
			if r.due.Before(earliest) {
				earliest = r.due
			}
		}
		if !company.IsZero() && company.Before(earliest) {
			earliest = company
		}
		var gets, listed []*pollRequest
		if !earliest.After(now) {
			gets, listed = p.takeLocked(now, company)
		}
		p.mu.Unlock()

		if len(gets) > 0 || len(listed) > 0 {
			for _, r := range gets {
				go p.byGet(r)
			}
			if len(listed) > 0 {
				go p.byList(listed)
			}
			continue
		}
		timer.Reset(earliest.Sub(now))
		select {
		case <-timer.C:
		case <-p.wake:
		}
	}
}

// takeLocked takes a tick's requests out of the queue: those whose early
// time has come, split into GETs and one list when a list costs fewer
// requests than the looks it serves; a list also takes every other
// request it can serve. A tick whose listable requests are all likely
// done sends their GETs, the read-backs. p.mu must be held.
func (p *poller) takeLocked(now, company time.Time) (gets, listed []*pollRequest) {
	var ready, riders, keep []*pollRequest
	early := false
	for _, r := range p.queue {
		switch {
		case !r.early.After(now) || companyArrived(r, now, company):
			ready = append(ready, r)
			early = early || r.early.After(now)
		case r.byList():
			riders = append(riders, r)
		default:
			keep = append(keep, r)
		}
	}
	// A GET is one server's look whenever it is sent: sent before its
	// due time only to share a tick, it may look too soon and cost
	// another. Only a list is worth taking early requests for.
	byGet := func(r *pollRequest) {
		if !r.due.After(now) || companyArrived(r, now, company) {
			gets = append(gets, r)
		} else {
			keep = append(keep, r)
		}
	}
	for _, r := range ready {
		if r.byList() {
			listed = append(listed, r)
		} else {
			byGet(r)
		}
	}
	if early {
		p.companied++
	}
	pages, ok := p.listCostLocked()
	unsure := slices.ContainsFunc(listed, func(r *pollRequest) bool { return !r.likely })
	switch {
	case unsure && ok && len(listed)+len(riders) > pages:
		listed = append(listed, riders...)
	default:
		for _, r := range listed {
			byGet(r)
		}
		listed = nil
		keep = append(keep, riders...)
	}
	clear(p.queue[len(keep):])
	p.queue = append(p.queue[:0], keep...)
	return gets, listed
}

func (p *poller) byGet(r *pollRequest) {
	o, err := p.c.observe(r.ctx, r.id)
	r.done <- pollResult{o: o, err: err}
}

// byList serves a group with one list of the account, read once. A server
// the list shows in a status that cannot end its wait (for a delete: at
// all) is still pending; a deleted server the whole list does not show is
// gone, when the list's count did not move between its pages (a server
// deleted meanwhile shifts the others, and one can fall between two
// pages). Any other gets a GET of its own, so a status wait only ever ends
// on a GET's view.
func (p *poller) byList(rs []*pollRequest) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rs[0].ctx), listTimeout)
	defer cancel()
	servers, pages, changed, err := p.c.listOnce(ctx, ListServersOptions{})
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest {
			// Invalid as sent: the same list would be refused again.
			p.mu.Lock()
			p.refused = true
			p.mu.Unlock()
		}
		for _, r := range rs {
			go p.byGet(r)
		}
		return
	}
	p.mu.Lock()
	p.pages, p.listed, p.deleted = pages, len(servers), 0
	p.mu.Unlock()

	byID := make(map[int64]*Server, len(servers))
	for i := range servers {
		byID[servers[i].ID] = &servers[i]
	}
	for _, r := range rs {
		s, shown := byID[r.id]
		switch {
		case shown && (r.deleting || r.listed(s)):
			r.done <- pollResult{o: observation{server: s, listed: true}}
		case !shown && r.deleting && !changed:
			r.done <- pollResult{o: observation{notFound: errGoneFromList}}
		default:
			go p.byGet(r)
		}
	}
}

// errGoneFromList is what a delete's wait sees when a whole list, read
// after the DELETE was answered, does not show the server.
var errGoneFromList = fmt.Errorf("the servers list no longer shows the server: %w", ErrNotFound)

// listCostLocked is how many requests a list costs, as last seen, less the
// pages the deletes since have emptied (one until seen); false once the
// API refused it as invalid. p.mu must be held.
func (p *poller) listCostLocked() (int, bool) {
	if p.refused {
		return 0, false
	}
	pages := max(p.pages, 1)
	if pages > 1 && p.listed > 0 {
		perPage := (p.listed + pages - 1) / pages
		pages = max(1, (max(p.listed-p.deleted, 0)+perPage-1)/perPage)
	}
	return pages, true
}
