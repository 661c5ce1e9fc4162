package vpsorg

import (
	"time"

	"golang.org/x/time/rate"
)

// A client with a pace file (Config.PaceFile: one of a series of provider
// processes) that knows nothing of the API's limit yet (no pace kept from
// an earlier process, no rate-limit headers yet) starts slowly: Terraform
// sends about ten requests at once, and an account whose bucket another
// command just emptied refuses all that are on their way when the first
// 429 comes back. Paced from startRate, growing by startStep with each
// answer (doubling in about a third of a second of requests at the pace),
// at most one or two are. The slow start ends at startCeiling, at the
// first 429 (the adaptive pace takes over) or when the answers state the
// budget; against an API with no limit it costs a process well under a
// second.
const (
	startRate    = 10.0
	startStep    = 2.0
	startCeiling = 200.0
)

// startSlowly begins the slow start, for a client with a pace file that
// kept no pace.
func (p *pacer) startSlowly() {
	if p.file == "" || p.limit > 0 {
		p.start = rate.NewLimiter(rate.Inf, 1)
		return
	}
	p.start = rate.NewLimiter(startRate, 1)
}

// growStart raises the slow start's pace with an accepted answer.
func (p *pacer) growStart(now time.Time) {
	l := p.start.Limit()
	if l == rate.Inf {
		return
	}
	if next := float64(l) + startStep; next < startCeiling {
		p.start.SetLimitAt(now, rate.Limit(next))
		return
	}
	p.start.SetLimitAt(now, rate.Inf)
}

// endStart ends the slow start.
func (p *pacer) endStart(now time.Time) {
	if p.start.Limit() != rate.Inf {
		p.start.SetLimitAt(now, rate.Inf)
	}
}
