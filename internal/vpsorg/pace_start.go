package vpsorg

import (
	"time"
)

// A client with a pace file (Config.PaceFile: one of a series of provider
// processes) that knows nothing of the API's limit yet (no pace kept from
// an earlier process, no rate-limit headers yet) starts slowly: Terraform
// sends about ten requests at once, and an account whose bucket another
// command just emptied refuses all that are on their way when the first
// 429 comes back. Paced from startRate, and faster by startGrowth with each
// accepted answer, at most one or two are. The pace is checked when a
// request is about to go (pacer.send), not booked ahead: requests that
// queued at the start go at the pace the answers have raised it to since,
// so ten requests at once cost the process about 0.3 s against an API with
// no limit, not ten turns at the first pace. The slow start ends at
// startCeiling, at the first 429 (the adaptive pace takes over) or when the
// answers state the budget.
const (
	startRate    = 10.0 // requests/s, for the request after the probe
	startGrowth  = 1.5  // the pace's factor for each accepted answer
	startCeiling = 200.0
)

// slowStart is the pace of a new process: the rate of the next request and
// when the last one went. rate 0: no slow start (or it is over).
type slowStart struct {
	rate float64
	last time.Time
}

// startSlowly begins the slow start, for a client with a pace file that
// kept no pace.
func (p *pacer) startSlowly() {
	if p.file == "" || p.limit > 0 {
		return
	}
	p.start.rate = startRate
}

// next is when a request may go at the slow start's pace (the zero time:
// at once). p.mu must be held.
func (s *slowStart) next() time.Time {
	if s.rate == 0 || s.last.IsZero() {
		return time.Time{}
	}
	return s.last.Add(time.Duration(float64(time.Second) / s.rate))
}

// sent records a request sent at now. p.mu must be held.
func (s *slowStart) sent(now time.Time) {
	if s.rate > 0 {
		s.last = now
	}
}

// grow raises the pace with an accepted answer; past startCeiling the slow
// start is over. p.mu must be held.
func (s *slowStart) grow() {
	if s.rate == 0 {
		return
	}
	if s.rate *= startGrowth; s.rate >= startCeiling {
		s.end()
	}
}

// end ends the slow start. p.mu must be held.
func (s *slowStart) end() { s.rate = 0 }
