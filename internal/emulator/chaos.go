package emulator

import "math/rand/v2"

// Random faults ("chaos"). Each request that no injected fault hits draws
// from one seeded source, in arrival order, so the same seed gives the same
// faults to the same sequence of requests: a red pipeline run can be
// replayed exactly by passing its seed again.

// ChaosFaults are the faults chaos picks from, with equal chances: the
// failures a client of a real cloud API meets, including one that acts
// first and then fails.
var ChaosFaults = []Fault{
	{Status: 503},
	{Status: 502},
	{Status: 429, RetryAfter: "1"},
	{Status: 500, AfterAction: true},
}

// chaos is the random fault mode; e.mu guards it.
type chaos struct {
	rate float64
	seed uint64
	rng  *rand.Rand
}

// SetChaos makes each request fail with probability rate (0 turns it off,
// 1 fails every request) with one of ChaosFaults, drawn from a source
// seeded with seed. Setting it restarts the sequence.
func (e *Emulator) SetChaos(rate float64, seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.chaos = chaos{rate: min(max(rate, 0), 1), seed: seed}
	if e.chaos.rate > 0 {
		e.chaos.rng = newChaosSource(seed)
	}
}

// Chaos returns the rate and seed set by SetChaos.
func (e *Emulator) Chaos() (rate float64, seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chaos.rate, e.chaos.seed
}

func newChaosSource(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// drawChaos takes the request's draw; e.mu must be held.
func (e *Emulator) drawChaos() (Fault, bool) {
	c := &e.chaos
	if c.rng == nil || c.rng.Float64() >= c.rate {
		return Fault{}, false
	}
	return ChaosFaults[c.rng.IntN(len(ChaosFaults))], true
}
