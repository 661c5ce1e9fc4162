package vpsorg

import (
	"context"
	"sync"
	"time"
)

// The waiters of one client share their polls. Terraform applies many
// resources at once (-parallelism, 10 by default) and each waits for its own
// server; polled one by one, a fleet spends its rate limit on status polls
// alone. The poller gathers the waiters that are due at about the same time
// into one tick and serves the tick the cheaper way: one GET per waiter, or
// one list filtered by the status they are all in, which shows them all at
// once in as many pages as it takes. A lone waiter still costs one GET.
//
// It also learns how long a kind of wait takes (provisioning, say): a later
// wait of the same kind does not poll before nine tenths of the shortest
// one seen, instead of polling from the start.

// listTimeout bounds a shared list, which no single waiter's context owns.
const listTimeout = time.Minute

// pollRequest is one waiter's request for one observation.
type pollRequest struct {
	ctx context.Context
	id  int64
	// filter is the status the server was last seen in, when that status
	// is pending: a list filtered by it shows the server while it is still
	// there. "" when only a GET will do.
	filter string
	early  time.Time // may be served from here on (to share a tick)
	due    time.Time // must be served by then
	done   chan pollResult
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
	pages   map[string]int           // pages the last list with this filter took
	learned map[string]time.Duration // the shortest wait seen, by kind
}

func newPoller(c *Client) *poller {
	return &poller{
		c:       c,
		wake:    make(chan struct{}, 1),
		pages:   map[string]int{},
		learned: map[string]time.Duration{},
	}
}

// observe queues a request and blocks until a tick serves it or ctx ends.
func (p *poller) observe(ctx context.Context, id int64, filter string, early, due time.Time) (observation, error) {
	r := &pollRequest{ctx: ctx, id: id, filter: filter, early: early, due: due, done: make(chan pollResult, 1)}
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

// serve answers one tick's requests, grouped by filter, each group the
// cheaper way.
func (p *poller) serve(batch []*pollRequest) {
	groups := map[string][]*pollRequest{}
	for _, r := range batch {
		groups[r.filter] = append(groups[r.filter], r)
	}
	for filter, rs := range groups {
		if filter != "" && len(rs) > p.pageEstimate(filter) {
			go p.byList(filter, rs)
			continue
		}
		for _, r := range rs {
			go p.byGet(r)
		}
	}
}

func (p *poller) byGet(r *pollRequest) {
	o, err := p.c.observe(r.ctx, r.id)
	r.done <- pollResult{o: o, err: err}
}

// byList serves a group with one filtered list. A server the list shows in
// the filter's status is still pending; any other (gone from the list, or an
// API that ignored the filter) gets a GET of its own, so a wait only ever
// ends on a GET's full view.
func (p *poller) byList(filter string, rs []*pollRequest) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rs[0].ctx), listTimeout)
	defer cancel()
	servers, pages, err := p.c.listServers(ctx, ListServersOptions{Status: filter})
	if err != nil {
		for _, r := range rs {
			go p.byGet(r)
		}
		return
	}
	p.mu.Lock()
	p.pages[filter] = pages
	p.mu.Unlock()

	byID := make(map[int64]*Server, len(servers))
	for i := range servers {
		byID[servers[i].ID] = &servers[i]
	}
	for _, r := range rs {
		if s, ok := byID[r.id]; ok && s.Status == filter {
			r.done <- pollResult{o: observation{server: s}}
			continue
		}
		go p.byGet(r)
	}
}

// pageEstimate is how many requests a list with this filter costs, as last
// seen; one until seen.
func (p *poller) pageEstimate(filter string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.pages[filter]; n > 0 {
		return n
	}
	return 1
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
