package vpsorg

import (
	"context"
	"errors"
	"net/http"
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
// The list is never filtered by a pending status: the API documents only
// active, stopped and suspended as filter values, and an API that checks
// them refuses "status=provisioning" with a 400. A waiter counts as pending
// when the list shows its server in the pending status it was last seen in
// (or, for a delete, shows it at all). A list the API refused as invalid is
// not sent again: the poller falls back to GETs for good.
//
// It also learns how long a kind of wait takes (provisioning, say): a later
// wait of the same kind first polls when the shortest one seen ended,
// instead of polling from the start.

// listTimeout bounds a shared list, which no single waiter's context owns.
const listTimeout = time.Minute

// pollRequest is one waiter's request for one observation.
type pollRequest struct {
	ctx context.Context
	id  int64
	// filter is the status the server was last seen in, when that status
	// is pending: a list that shows the server in it says "not yet". ""
	// when only a GET will do (unless deleting).
	filter string
	// deleting: a list that shows the server at all says "not yet".
	deleting bool
	early    time.Time // may be served from here on (to share a tick)
	due      time.Time // must be served by then
	done     chan pollResult
}

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
	pages   int                      // pages the last list took; 0 until one was read
	refused bool                     // the API refused the list as invalid (400)
	learned map[string]time.Duration // the shortest wait seen, by kind
}

func newPoller(c *Client) *poller {
	return &poller{
		c:       c,
		wake:    make(chan struct{}, 1),
		learned: map[string]time.Duration{},
	}
}

// observe queues a request and blocks until a tick serves it or ctx ends.
func (p *poller) observe(ctx context.Context, id int64, filter string, deleting bool, early, due time.Time) (observation, error) {
	r := &pollRequest{ctx: ctx, id: id, filter: filter, deleting: deleting, early: early, due: due, done: make(chan pollResult, 1)}
	p.mu.Lock()
	p.queue = append(p.queue, r)
	if !p.running {
		p.running = true
		go p.run()
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
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
// time has come and takes every request whose early time has come.
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
		earliest := p.queue[0].due
		for _, r := range p.queue[1:] {
			if r.due.Before(earliest) {
				earliest = r.due
			}
		}
		var batch []*pollRequest
		if !earliest.After(now) {
			keep := p.queue[:0]
			for _, r := range p.queue {
				if r.early.After(now) {
					keep = append(keep, r)
				} else {
					batch = append(batch, r)
				}
			}
			clear(p.queue[len(keep):])
			p.queue = keep
		}
		p.mu.Unlock()

		if len(batch) > 0 {
			go p.serve(batch)
			continue
		}
		timer.Reset(earliest.Sub(now))
		select {
		case <-timer.C:
		case <-p.wake:
		}
	}
}

// serve answers one tick's requests: those a list can serve by one list
// when that costs fewer requests than their GETs, the others by GETs.
func (p *poller) serve(batch []*pollRequest) {
	var listable []*pollRequest
	for _, r := range batch {
		if r.filter != "" || r.deleting {
			listable = append(listable, r)
			continue
		}
		go p.byGet(r)
	}
	if len(listable) == 0 {
		return
	}
	if pages, ok := p.listCost(); ok && len(listable) > pages {
		go p.byList(listable)
		return
	}
	for _, r := range listable {
		go p.byGet(r)
	}
}

func (p *poller) byGet(r *pollRequest) {
	o, err := p.c.observe(r.ctx, r.id)
	r.done <- pollResult{o: o, err: err}
}

// byList serves a group with one list of the account. A server the list
// shows in the status its waiter was last told (for a delete: at all) is
// still pending; any other (gone from the list, or in another status) gets
// a GET of its own, so a wait only ever ends on a GET's view.
func (p *poller) byList(rs []*pollRequest) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rs[0].ctx), listTimeout)
	defer cancel()
	servers, pages, err := p.c.listServers(ctx, ListServersOptions{})
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
	p.pages = pages
	p.mu.Unlock()

	byID := make(map[int64]*Server, len(servers))
	for i := range servers {
		byID[servers[i].ID] = &servers[i]
	}
	for _, r := range rs {
		if s, ok := byID[r.id]; ok && (r.deleting || s.Status == r.filter) {
			r.done <- pollResult{o: observation{server: s}}
			continue
		}
		go p.byGet(r)
	}
}

// listCost is how many requests a list costs, as last seen (one until
// seen); false once the API refused it as invalid.
func (p *poller) listCost() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused {
		return 0, false
	}
	return max(p.pages, 1), true
}

// learn records how long a wait of this kind took.
func (p *poller) learn(kind string, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.learned[kind]; !ok || took < old {
		p.learned[kind] = took
	}
}

// expected is the shortest wait of this kind seen so far.
func (p *poller) expected(kind string) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.learned[kind]
	return d, ok
}
