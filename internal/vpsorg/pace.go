package vpsorg

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A 429 is the API asking the client to slow down, and Terraform runs many
// operations at once through one client: left to themselves, each would
// find the limit on its own and be refused again and again. So the client
// keeps one pace for all its requests (DESIGN.md, "Rate limits"):
//
//   - a hold: a 429 with Retry-After stops every request of the client
//     until then;
//   - an adaptive pace: after a 429 the client sends no faster than the
//     rate the API had been accepting, cut on each further 429 and raised
//     slowly while requests pass, until it no longer paces itself at all;
//   - an optional fixed pace, Config.MaxRequestsPerSecond;
//   - a budget, when answers say how much of the limit is left
//     (pace_budget.go): a request that would exhaust it waits instead;
//   - a probe: until the first answer, one request at a time, so that the
//     first answer's word on the limit comes before a burst.
//
// No wait goes past the request's deadline: a request whose turn would come
// later fails at once, unsent.

const (
	// defaultMaxRateLimitWait bounds the waiting for rate limits of a
	// request whose context has no deadline.
	defaultMaxRateLimitWait = 15 * time.Minute

	// acceptWindow is how far back the client counts the requests the API
	// accepted, to learn the rate it allows.
	acceptWindow = time.Second
	// paceCut is the factor by which each further 429 cuts the pace.
	paceCut = 0.75
	// paceRecovery is how long, at full pace, the pace takes to grow by
	// the rate the API last refused: back from a cut in a quarter of it,
	// and at twice the refused rate the client stops pacing itself. Slow
	// on purpose: each probe past the API's limit costs a 429 and a hold;
	// at this speed, about one every 30s (BenchmarkRateLimited).
	paceRecovery = 120 * time.Second
	// probeWait bounds how long the other requests wait for the first
	// answer.
	probeWait = 2 * time.Second
	// minEvidence is how many answers accepted within acceptWindow a
	// first pace is counted from (see pacer.cut).
	minEvidence = 3
	// unknownScale is the scale of the recovery (pacer.refused) of a pace
	// counted from fewer than minEvidence answers: it grows by a quarter
	// of a request a second each second.
	unknownScale = 30.0
)

// pacer holds the pace shared by every request of one client.
type pacer struct {
	log           func(ctx context.Context, msg string, fields map[string]any)
	maxRetryAfter time.Duration
	floor         float64       // the slowest adaptive pace, requests/s
	fixed         *rate.Limiter // MaxRequestsPerSecond; nil when unset
	adaptive      *rate.Limiter // rate.Inf until the API refuses a request

	mu        sync.Mutex
	holdUntil time.Time
	// holdFrom names the pace file when the hold is one an earlier
	// process kept there, not the API's answer to this one.
	holdFrom string
	// limit is the adaptive pace in requests/s, 0 while there is none.
	limit float64
	// refused is the pace the API last refused (or, when there was none,
	// the rate it had been accepting): the scale of the recovery.
	refused float64
	// cutAt is when the pace was last cut: an answer to a request sent
	// before it was sent at the old pace. A 429 then was already cut for.
	cutAt time.Time
	// counting is set while the pace is the rate the API had been
	// accepting: answers still on their way at the cut count too.
	counting bool
	logged   float64     // the pace last logged
	accepted []time.Time // answers other than 429 within acceptWindow

	// file, when set, keeps the pace for the next process (pace_file.go);
	// save is set when the pace or the hold changed since the last save.
	file     string
	endpoint string
	account  string // accountFingerprint of the token
	save     bool
	fileMu   sync.Mutex
	// warm is set while the pace is the file's and this process has met
	// no 429: it grows by warmStep an answer.
	warm bool
	// kept are the accepted answers within keepWindow, since firstAnswer.
	kept        []time.Time
	firstAnswer time.Time

	budget budget // from the answers' rate-limit headers
	// start is the slow start of a process that knows nothing of the
	// limit yet (pace_start.go).
	start     slowStart
	inFlight  int           // requests sent and not yet answered
	probing   bool          // no answer yet: one request at a time
	gotAnswer bool          // answered is closed
	answered  chan struct{} // closed at the first answer
}

func newPacer(c *Client, maxPerSecond float64, file string) *pacer {
	p := &pacer{
		file:          file,
		log:           c.log,
		maxRetryAfter: c.maxRetryAfter,
		// The slowest pace is one request per shortest backoff.
		floor:    float64(time.Second) / float64(c.retryWaitMin),
		adaptive: rate.NewLimiter(rate.Inf, 1),
		answered: make(chan struct{}),
		probing:  true,
	}
	if maxPerSecond > 0 && !math.IsInf(maxPerSecond, 1) {
		p.fixed = rate.NewLimiter(rate.Limit(maxPerSecond), 1)
	}
	if file != "" {
		p.endpoint = c.base.String()
		p.account = accountFingerprint(c.token)
		p.loadPace(time.Now())
	}
	p.startSlowly()
	return p
}

// wait blocks until the request may be sent: after any hold, in its turn
// at the adaptive and the fixed pace. It fails at once, with a
// *notSentError matching context.DeadlineExceeded, when that would come
// after until (what names it), and with one wrapping ctx's error when ctx
// ends first.
func (p *pacer) wait(ctx context.Context, until time.Time, what string) error {
	for {
		if err := p.waitHold(ctx, until, what); err != nil {
			return err
		}
		for _, l := range []*rate.Limiter{p.adaptive, p.fixed} {
			if err := waitTurn(ctx, l, until, what); err != nil {
				return err
			}
		}
		// A hold that began while this request waited its turn holds it
		// too.
		if p.holding(time.Now()) {
			continue
		}
		wake, ok := p.send(time.Now())
		if ok {
			return nil
		}
		if err := p.waitUntil(ctx, wake, until, what); err != nil {
			return err
		}
	}
}

// send counts a request as sent when the probe and the budget allow it;
// otherwise it says when to look again (the zero time: at the first
// answer).
func (p *pacer) send(now time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probing && p.inFlight > 0 {
		return time.Time{}, false
	}
	if next := p.start.next(); now.Before(next) {
		return next, false
	}
	wake, ok := p.budget.take(now, p.inFlight)
	if !ok {
		return wake, false
	}
	p.inFlight++
	p.start.sent(now)
	return time.Time{}, true
}

// waitUntil sleeps until wake (the zero time: the first answer), failing
// like waitHold when that would pass until.
func (p *pacer) waitUntil(ctx context.Context, wake, until time.Time, what string) error {
	if wake.IsZero() {
		t := time.NewTimer(probeWait)
		defer t.Stop()
		select {
		case <-p.answered:
			return nil
		case <-t.C:
			// A first answer this slow says nothing about a burst; do
			// not let one slow request hold up the process.
			p.mu.Lock()
			p.probing = false
			p.mu.Unlock()
			return nil
		case <-ctx.Done():
			return &notSentError{reason: "the context ended while the first request was on its way", err: ctx.Err()}
		}
	}
	if wake.After(until) {
		return &notSentError{reason: fmt.Sprintf("rate-limited: the API's budget has room for it in %v, after %s",
			time.Until(wake).Round(time.Millisecond), what)}
	}
	if err := sleep(ctx, time.Until(wake)); err != nil {
		return &notSentError{reason: "rate-limited: the context ended while waiting for the API's budget", err: err}
	}
	return nil
}

func (p *pacer) holding(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holdUntil.After(now)
}

func (p *pacer) waitHold(ctx context.Context, until time.Time, what string) error {
	for {
		p.mu.Lock()
		end, from := p.holdUntil, p.holdFrom
		p.mu.Unlock()
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		if end.After(until) {
			asked := "the API asked for a pause"
			if from != "" {
				asked = "an earlier provider process kept a pause in " + from
			}
			return &notSentError{reason: fmt.Sprintf("rate-limited: %s of %v more, which ends after %s",
				asked, left.Round(time.Millisecond), what)}
		}
		if err := sleep(ctx, left); err != nil {
			return &notSentError{reason: "rate-limited: the context ended during the API's pause", err: err}
		}
	}
}

func waitTurn(ctx context.Context, l *rate.Limiter, until time.Time, what string) error {
	if l == nil || l.Limit() == rate.Inf {
		return nil
	}
	bounded, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	if err := l.Wait(bounded); err != nil {
		if ctx.Err() != nil {
			return &notSentError{reason: "rate-limited: the context ended while waiting for its turn", err: ctx.Err()}
		}
		return &notSentError{reason: fmt.Sprintf("rate-limited: its turn at %.3g requests/s comes after %s", float64(l.Limit()), what)}
	}
	return nil
}

// observe learns from an answer, now, to a request sent at sent: a 429
// holds every request for its Retry-After and cuts the pace; any other
// answer counts as accepted and raises the pace. status 0 (no answer)
// teaches nothing.
func (p *pacer) observe(ctx context.Context, sent, now time.Time, status int, h http.Header) {
	p.savePace(ctx, p.learn(ctx, sent, now, status, h))
}

// learn is observe under the mutex; it returns what to save, if anything.
func (p *pacer) learn(ctx context.Context, sent, now time.Time, status int, h http.Header) *paceRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	if !p.gotAnswer {
		p.probing, p.gotAnswer = false, true
		close(p.answered)
	}
	if status == 0 {
		return nil
	}
	if info, ok := parseBudget(h, now); ok {
		if !p.budget.known {
			p.log(ctx, "vpsorg: the API says how much of its rate limit is left: pacing by it", map[string]any{
				"limit": info.limit, "remaining": info.remaining, "window_s": info.window.Seconds(), "reset_s": info.reset.Seconds(),
			})
		}
		p.budget.learn(info, now, p.inFlight)
		p.start.end() // the budget paces from here
	}
	if status == http.StatusTooManyRequests {
		p.start.end()
		p.save = true // each refusal is news for the next process
		p.hold(ctx, now, h)
		if sent.After(p.cutAt) {
			p.cut(ctx, now)
		}
	} else {
		p.accept(ctx, sent, now)
	}
	if !p.save {
		return nil
	}
	p.save = false
	return p.paceSnapshot(now)
}

// hold makes every request wait for the answer's Retry-After, capped at
// MaxRetryAfter. A later hold extends it.
func (p *pacer) hold(ctx context.Context, now time.Time, h http.Header) {
	d, ok := parseRetryAfter(h.Get("Retry-After"), now)
	if !ok || d <= 0 {
		return
	}
	until := now.Add(min(d, p.maxRetryAfter))
	if !until.After(p.holdUntil) {
		return
	}
	if !p.holdUntil.After(now) {
		p.log(ctx, "vpsorg: rate-limited: holding every request", map[string]any{
			"retry_after": h.Get("Retry-After"),
			"hold_ms":     until.Sub(now).Milliseconds(),
		})
	}
	p.holdUntil, p.holdFrom = until, ""
	p.save = true
}

// cut sets the pace after a 429: the rate the API had been accepting when
// there was no pace yet, else the pace cut by paceCut; never below floor.
// A pace counted from fewer than minEvidence answers (a process's first
// requests refused, on an account others are spending) says little of the
// rate: it recovers on unknownScale, in seconds, not on its own scale of
// one request a second, which took minutes and left most of the account's
// budget unused.
func (p *pacer) cut(ctx context.Context, now time.Time) {
	old := p.limit
	p.warm = false
	p.counting = old == 0
	if p.counting {
		p.trim(now)
		p.limit = float64(len(p.accepted)) / acceptWindow.Seconds()
	} else {
		p.limit *= paceCut
	}
	p.limit = max(p.limit, p.floor)
	p.refused = max(old, p.limit)
	if p.counting && len(p.accepted) < minEvidence {
		p.refused = max(p.refused, unknownScale)
	}
	p.cutAt = now
	p.set(ctx, now, "vpsorg: rate-limited: pacing requests")
}

// accept counts an accepted answer and, while there is a pace, raises it
// by refused/paceRecovery per second of requests at that pace (so by less
// when fewer requests are made); at twice the refused rate the pace ends.
// An answer to a request sent before the last cut raises nothing, unless
// the pace is the count of accepted answers, which it joins.
func (p *pacer) accept(ctx context.Context, sent, now time.Time) {
	p.accepted = append(p.accepted, now)
	p.trim(now)
	p.keep(now)
	p.start.grow()
	switch {
	case p.limit == 0:
		return
	case !sent.After(p.cutAt):
		if p.counting {
			p.limit += 1 / acceptWindow.Seconds()
			p.refused = p.limit
			p.adaptive.SetLimitAt(now, rate.Limit(p.limit))
		}
		return
	}
	if p.warm {
		// A pace from the file: the room it was learned in may have
		// grown (another workspace finished). Probe quickly, short of
		// lifting it, until this process meets a 429 of its own.
		p.limit = min(p.limit+warmStep, 2*p.refused*0.99)
	} else {
		p.limit += p.refused / paceRecovery.Seconds() / p.limit
	}
	if p.limit >= 2*p.refused {
		p.limit = 0
		p.save = true
		p.adaptive.SetLimitAt(now, rate.Inf)
		p.log(ctx, "vpsorg: rate limit lifted: no longer pacing requests", map[string]any{"refused_per_second": round2(p.refused)})
		return
	}
	if p.limit >= p.logged*1.1 {
		p.set(ctx, now, "vpsorg: raising the request pace")
		return
	}
	p.adaptive.SetLimitAt(now, rate.Limit(p.limit))
}

func (p *pacer) set(ctx context.Context, now time.Time, msg string) {
	p.adaptive.SetLimitAt(now, rate.Limit(p.limit))
	p.save = true
	p.logged = p.limit
	p.log(ctx, msg, map[string]any{"requests_per_second": round2(p.limit)})
}

// trim forgets accepted answers older than acceptWindow.
func (p *pacer) trim(now time.Time) {
	i := 0
	for i < len(p.accepted) && now.Sub(p.accepted[i]) > acceptWindow {
		i++
	}
	p.accepted = p.accepted[i:]
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
