package vpsorg

import "time"

// What waits teach the ones after them: how long a kind of wait takes
// (the poller keeps it, so that a later wait of the kind first looks when
// the shortest one ended), and, for a provisioning, by when the server's
// own timestamps say it ended.

// waitLength is what the waits of one kind taught: when the shortest seen
// was seen done (ended), and the longest that a wait was seen not yet done
// before that (below). The shortest wait's true length lies between.
type waitLength struct{ below, ended time.Duration }

// learn records a wait of this kind last seen not done at notYet (0: never)
// and seen done at took.
func (p *poller) learn(kind string, notYet, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.learned[kind]
	switch {
	case !ok && notYet == 0:
		// Done when first seen: no sign that it was seen late, nothing
		// to narrow down.
		p.learned[kind] = waitLength{below: took, ended: took}
	case !ok || took < w.ended:
		if ok && w.below < took {
			notYet = max(notYet, w.below)
		}
		p.learned[kind] = waitLength{below: notYet, ended: took}
	case notYet < w.ended:
		w.below = max(w.below, notYet)
		p.learned[kind] = w
	}
}

// expected is when the shortest wait of this kind seen so far was seen done.
func (p *poller) expected(kind string) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.learned[kind]
	return w.ended, ok
}

// firstLook is when a wait of a kind seen before first looks, and whether
// it likely ended by then: when the shortest one was seen done, once a
// wait was seen not done shortly before (within a tenth of it, or
// narrowTo); else halfway between, so that a first wave's late look
// (its looks back off) is not carried into every later wave.
func (p *poller) firstLook(kind string) (at time.Duration, likely, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.learned[kind]
	switch {
	case !ok:
		return 0, false, false
	case w.ended-w.below <= max(w.ended/10, narrowTo):
		return w.ended, true, true
	}
	return (w.below + w.ended) / 2, false, true
}

// narrowTo is how close a kind's length must be known for its waits' first
// look to come when the shortest one was seen done.
const narrowTo = 4 * quickPoll

// endedBy is by when, after its create, a wait that began with it ended,
// from s's created_at and updated_at (whole seconds on the API's clock: the
// end came before updated_at's next second, the create after created_at's
// second). false when they say nothing: unreadable, or an updated_at no
// later than the create (an API that does not move it).
func endedBy(s *Server) (time.Duration, bool) {
	created, err := time.Parse(time.RFC3339, s.CreatedAt)
	if err != nil {
		return 0, false
	}
	updated, err := time.Parse(time.RFC3339, s.UpdatedAt)
	if err != nil || !updated.After(created) {
		return 0, false
	}
	return updated.Sub(created) + time.Second, true
}

// took is when a wait last seen not done at notYet, and seen done at seen,
// ended at the latest: seen, or sooner where the view that ended it says so
// and agrees with the looks (an end before a look that saw it not done
// would be an updated_at set by something else).
func (l waitLooks) took(o observation, notYet, seen time.Duration) time.Duration {
	if l.endedBy == nil || o.server == nil {
		return seen
	}
	if by, ok := l.endedBy(o.server); ok && by > notYet && by < seen {
		return by
	}
	return seen
}
