package emulator

import "time"

// Eventual consistency. Under a lag L every change an action (start, stop,
// reboot) or a DELETE makes is true at once, and every decision is taken on
// the true state, but readers (GET, the list) see it only L later: until
// then they see the server as it was just before the request. Creates and
// settings (PUT, PATCH, RenameServer) show at once.
//
// A hidden change is kept as the phase the server had before it, so that
// no goroutine or copy of the whole server is needed and the clock alone
// decides what shows.

// hidden is a change readers do not see before visibleAt; until then they
// see the phase before it.
type hidden struct {
	visibleAt time.Time
	before    phase
}

// SetConsistencyLag sets how long the effect of actions and deletes sent
// from now on stays invisible to GET and the list; 0 (or less) makes them
// visible at once.
func (e *Emulator) SetConsistencyLag(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lag = max(d, 0)
}

// hide keeps the server's current phase visible for the lag, before a
// change at now. e.mu must be held and s settled to now.
func (e *Emulator) hide(s *server, now time.Time) {
	if e.lag > 0 {
		s.lagged = append(s.lagged, hidden{visibleAt: now.Add(e.lag), before: s.phase})
	}
}

// view is the server as readers see it at now: its phase is that before
// the oldest change still hidden, or its true one when none is. A true
// server must be settled to now first. Settings changed since still show.
func (s *server) view(now time.Time) server {
	i := 0
	for i < len(s.lagged) && !now.Before(s.lagged[i].visibleAt) {
		i++
	}
	s.lagged = s.lagged[i:]
	v := *s
	if len(s.lagged) > 0 {
		v.phase = s.lagged[0].before
		if s.editedAt.After(v.updatedAt) {
			v.updatedAt = s.editedAt
		}
	}
	return v
}

// visible finds the account's server with that id as readers see it at
// now: a live one, or one deleted less than the lag ago. e.mu must be held.
func (e *Emulator) visible(account string, id int64, now time.Time) (server, bool) {
	if s, ok := e.lookup(account, id, now); ok {
		if e.manners.creating(s, now) {
			return server{}, false
		}
		return s.view(now), true
	}
	if s, ok := e.gone[id]; ok && s.account == account {
		return e.ghostView(s, now)
	}
	return server{}, false
}

// ghostView is a deleted server as readers see it at now: as it was until
// its deletion shows, then not at all. Its phase is frozen at the delete.
func (e *Emulator) ghostView(s *server, now time.Time) (server, bool) {
	v := s.view(now)
	if len(s.lagged) == 0 {
		delete(e.gone, s.id)
		return server{}, false
	}
	return v, true
}

// readable returns the account's servers as readers see them at now, live
// and recently deleted, in no order. e.mu must be held.
func (e *Emulator) readable(account string, now time.Time) []server {
	var out []server
	for _, s := range e.servers {
		if s.account == account && !e.manners.creating(s, now) {
			s.settle(now)
			out = append(out, s.view(now))
		}
	}
	for _, s := range e.gone {
		if s.account == account {
			if v, ok := e.ghostView(s, now); ok {
				out = append(out, v)
			}
		}
	}
	return out
}
