package vpsorg

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// timeline is a handler that answers the nth request (from 0) with
// answer(n) and records when each arrived.
type timeline struct {
	answer func(n int) reply

	mu       sync.Mutex
	arrivals []time.Time
}

func (tl *timeline) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	tl.mu.Lock()
	n := len(tl.arrivals)
	tl.arrivals = append(tl.arrivals, time.Now())
	tl.mu.Unlock()
	tl.answer(n).write(w)
}

func (tl *timeline) times() []time.Time {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]time.Time(nil), tl.arrivals...)
}

var (
	ok200     = reply{status: 200, body: detailJSON}
	throttled = func(retryAfter string) reply {
		return reply{status: 429, body: `{"detail": "Request was throttled."}`, header: map[string]string{"Retry-After": retryAfter}}
	}
)

// eventually waits up to 5s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
	}
}

func TestRateLimit_ARetryAfterHoldsEveryRequestOfTheClient(t *testing.T) {
	tl := &timeline{answer: func(n int) reply {
		if n == 0 {
			return throttled("2")
		}
		return ok200
	}}
	sink := &logSink{}
	c, _ := newTestClient(t, tl, func(cfg *Config) { cfg.Log = sink.log })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make([]error, 11)
	wg.Go(func() { _, errs[0] = c.GetServer(ctx, 1) })
	eventually(t, "the 429 started a hold", func() bool { return sink.count("vpsorg: rate-limited: holding every request") == 1 })
	for i := 1; i <= 10; i++ {
		wg.Go(func() { _, errs[i] = c.GetServer(ctx, 1) })
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	arrivals := tl.times()
	if len(arrivals) != 12 {
		t.Fatalf("%d requests reached the API, want 12: one 429, its retry and ten more", len(arrivals))
	}
	// The hold began when the 429 came back, after it arrived.
	holdEnds := arrivals[0].Add(2 * time.Second)
	for i, at := range arrivals[1:] {
		if at.Before(holdEnds) {
			t.Errorf("request %d arrived %v after the 429, during the 2s hold", i+1, at.Sub(arrivals[0]))
		}
	}
	if n := sink.count("vpsorg: rate-limited: holding every request"); n != 1 {
		t.Errorf("%d holds logged, want 1", n)
	}
}

func TestRateLimit_AHoldNeverOutlivesTheDeadline(t *testing.T) {
	tl := &timeline{answer: func(int) reply { return throttled("5") }}
	c, _ := newTestClient(t, tl)

	// The first request learns of a 5s hold that ends after its 1s deadline:
	// it returns the 429 at once.
	first, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := c.GetServer(first, 1)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first request: error = %v, want the 429 matching context.DeadlineExceeded", err)
	}

	// A request with 300ms left, during the hold, fails before its
	// deadline and is never sent.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = c.GetServer(ctx, 1)
	if ctx.Err() != nil {
		t.Errorf("it returned only at its deadline; want at once")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "rate-limited") {
		t.Errorf("error = %v, want one matching context.DeadlineExceeded that says it was rate-limited", err)
	}
	if MayHaveActed(err) {
		t.Errorf("MayHaveActed(%v) = true; the request was never sent", err)
	}
	if n := len(tl.times()); n != 1 {
		t.Errorf("%d requests reached the API, want only the first", n)
	}
}

func TestRateLimit_APOSTRefusedIsSentAgainOnlyAfterTheHold(t *testing.T) {
	tl := &timeline{answer: func(n int) reply {
		if n == 0 {
			return throttled("1")
		}
		return reply{status: 201, body: createdJSON}
	}}
	c, _ := newTestClient(t, tl)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.CreateServer(ctx, CreateServerRequest{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	arrivals := tl.times()
	if len(arrivals) != 2 {
		t.Fatalf("the POST was sent %d times, want exactly 2", len(arrivals))
	}
	if gap := arrivals[1].Sub(arrivals[0]); gap < time.Second {
		t.Errorf("the POST was sent again %v after the 429, before the 1s hold ended", gap)
	}
}

func TestRateLimit_MaxRequestsPerSecondPacesEveryRequest(t *testing.T) {
	const perSecond, n = 20, 20
	tl := &timeline{answer: func(int) reply { return ok200 }}
	c, _ := newTestClient(t, tl, func(cfg *Config) { cfg.MaxRequestsPerSecond = perSecond })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range n / 10 {
				if _, err := c.GetServer(ctx, 1); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	if got := len(tl.times()); got != n {
		t.Fatalf("%d requests arrived, want %d", got, n)
	}
	// That each waited its turn at the fixed pace, the pacer's own test
	// shows (TestPacer_AFixedPaceMakesEveryRequestWaitItsTurn), without
	// timing the arrivals.
	if l := c.pace.fixed; l == nil || l.Limit() != perSecond || l.Burst() != 1 {
		t.Errorf("fixed pace %v, want %d/s one at a time", l, perSecond)
	}
}

// With MaxRequestsPerSecond the requests go one at a time: after one, the
// next waits its turn, and a request whose turn comes after its limit is
// refused unsent at once. At one request per 1000s the next turn is far
// past the minute allowed, so nothing here depends on the machine's speed.
func TestPacer_AFixedPaceMakesEveryRequestWaitItsTurn(t *testing.T) {
	c := &Client{retryWaitMin: time.Second, maxRetryAfter: time.Minute, logf: func(context.Context, string, map[string]any) {}}
	p := newPacer(c, 0.001, "")
	ctx := t.Context()
	if err := p.wait(ctx, time.Now().Add(time.Hour), "the deadline"); err != nil {
		t.Fatalf("the first request waited: %v", err)
	}
	err := p.wait(ctx, time.Now().Add(time.Minute), "the deadline")
	var notSent *notSentError
	if !errors.As(err, &notSent) || !strings.Contains(err.Error(), "its turn at 0.001 requests/s comes after the deadline") {
		t.Errorf("the second request: %v, want it refused: its turn comes after the deadline", err)
	}
}

func TestRateLimit_AStormLongerThanRetryMaxStillSucceedsBeforeTheDeadline(t *testing.T) {
	const refusals = 6 // RetryMax is 2
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			answer := ok200
			if call.name == "ListServers" {
				answer = reply{status: 200, body: listJSON}
			}
			tl := &timeline{answer: func(n int) reply {
				if n < refusals {
					return reply{status: 429, body: `{"detail": "slow down"}`}
				}
				return answer
			}}
			c, _ := newTestClient(t, tl)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := call.call(ctx, c); err != nil {
				t.Fatalf("%v after %d tries", err, len(tl.times()))
			}
			if n := len(tl.times()); n != refusals+1 {
				t.Errorf("%d tries, want %d", n, refusals+1)
			}
		})
	}
}

func TestPacer_CutsThePaceOnA429AndRaisesItSlowlyUntilItEnds(t *testing.T) {
	sink := &logSink{}
	c := &Client{retryWaitMin: time.Second, maxRetryAfter: time.Minute, logf: sink.log}
	p := newPacer(c, 0, "")
	ctx := t.Context()
	t0 := time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pace := func() float64 { return float64(p.adaptive.Limit()) }

	// Ten requests pass within 100ms: no pace yet.
	for i := range 10 {
		p.observe(ctx, at(10*i), at(10*i+1), 200, nil)
	}
	if pace() != float64(rate.Inf) {
		t.Fatalf("pace %v before any 429, want none", pace())
	}

	// The first 429: the pace becomes the rate accepted over the last
	// second, ten a second.
	p.observe(ctx, at(100), at(101), 429, nil)
	if pace() != 10 {
		t.Fatalf("pace after the first 429 = %v, want 10/s", pace())
	}
	// A 429 for a request sent before the cut was answered to the old pace.
	p.observe(ctx, at(100), at(102), 429, nil)
	if pace() != 10 {
		t.Errorf("pace = %v after a 429 sent before the cut, want it unchanged at 10/s", pace())
	}
	// A 429 at the new pace cuts it by a quarter.
	p.observe(ctx, at(200), at(201), 429, nil)
	if pace() != 7.5 {
		t.Errorf("pace after a further 429 = %v, want 7.5/s", pace())
	}

	// Requests passing at the pace raise it slowly, back to the refused
	// 10/s in 30s of requests, and end it at twice that.
	now := at(300)
	for pace() < 10 {
		now = now.Add(time.Duration(float64(time.Second) / pace()))
		p.observe(ctx, now, now, 200, nil)
	}
	if took := now.Sub(at(300)); took < 29*time.Second || took > 31*time.Second {
		t.Errorf("the pace grew from 7.5/s back to 10/s in %v of requests, want about 30s", took)
	}
	for pace() != float64(rate.Inf) && now.Sub(t0) < time.Hour {
		now = now.Add(time.Duration(float64(time.Second) / pace()))
		p.observe(ctx, now, now, 200, nil)
	}
	if pace() != float64(rate.Inf) {
		t.Fatalf("the pace never ended: %v after an hour of successes", pace())
	}
	if n := sink.count("vpsorg: rate limit lifted: no longer pacing requests"); n != 1 {
		t.Errorf("the end of the pace was logged %d times, want 1", n)
	}
	if n := sink.count("vpsorg: rate-limited: pacing requests"); n != 2 {
		t.Errorf("%d cuts logged, want 2", n)
	}
	if n := sink.count("vpsorg: raising the request pace"); n == 0 || n > 20 {
		t.Errorf("%d raises logged, want a few (one per tenth)", n)
	}
}

func TestPacer_NeverPacesBelowOneRequestPerShortestBackoff(t *testing.T) {
	c := &Client{retryWaitMin: 500 * time.Millisecond, maxRetryAfter: time.Minute, logf: func(context.Context, string, map[string]any) {}}
	p := newPacer(c, 0, "")
	now := time.Now()
	for range 20 {
		now = now.Add(time.Millisecond)
		p.observe(t.Context(), now, now, 429, nil)
	}
	if got := float64(p.adaptive.Limit()); math.Abs(got-2) > 1e-9 {
		t.Errorf("pace = %v after a storm of 429s, want the floor of 2/s", got)
	}
}

// At the first 429 the pace becomes the count of answers accepted over the
// last second. Answers to requests sent before that cut, still on their way
// then, were accepted at that rate too: each joins the count, one a second
// more. After a later cut (by a quarter) an answer to a request sent before
// it raises nothing: it was sent at the pace just found too fast.
func TestPacer_AnswersOnTheirWayAtTheFirstCutJoinTheCount(t *testing.T) {
	c := &Client{retryWaitMin: time.Second, maxRetryAfter: time.Minute, logf: func(context.Context, string, map[string]any) {}}
	p := newPacer(c, 0, "")
	ctx := t.Context()
	t0 := time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pace := func() float64 { return float64(p.adaptive.Limit()) }

	for i := range 4 {
		p.observe(ctx, at(10*i), at(10*i+1), 200, nil)
	}
	p.observe(ctx, at(50), at(51), 429, nil)
	if pace() != 4 {
		t.Fatalf("pace after the first 429 = %v, want the 4/s accepted", pace())
	}
	p.observe(ctx, at(45), at(60), 200, nil)
	p.observe(ctx, at(48), at(70), 200, nil)
	if pace() != 6 {
		t.Fatalf("pace = %v after two answers sent before the cut, want 6/s: each joins the count", pace())
	}
	p.observe(ctx, at(100), at(101), 429, nil)
	if pace() != 4.5 {
		t.Fatalf("pace after a further 429 = %v, want 6/s cut by a quarter, 4.5/s", pace())
	}
	p.observe(ctx, at(90), at(110), 200, nil)
	if pace() != 4.5 {
		t.Errorf("pace = %v after an answer sent before the second cut, want it unchanged at 4.5/s", pace())
	}
}

// TestPacer_APaceCountedFromTooFewAnswersRecoversInSeconds: a process's
// first answers are refused (three workspaces begin at once on one
// account). One accepted answer says nothing of the rate: the pace counted
// from it (the floor, one request a second) grows by a quarter of a
// request a second each second, not as if one a second were all the API
// had ever refused, which took minutes and left most of the account's
// budget unused. A pace counted from a second of answers recovers as
// before.
func TestPacer_APaceCountedFromTooFewAnswersRecoversInSeconds(t *testing.T) {
	c := &Client{base: &url.URL{Scheme: "https", Host: "api.example"}, retryWaitMin: time.Second, maxRetryAfter: time.Minute, logf: func(context.Context, string, map[string]any) {}}
	t0 := time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	retry := http.Header{"Retry-After": []string{"1"}}
	// paceAfter answers requests sent at the pace for four seconds from
	// the hold's end and returns the pace then.
	paceAfter := func(p *pacer, from time.Time) float64 {
		now := from
		for now.Before(from.Add(4 * time.Second)) {
			p.observe(t.Context(), now, now.Add(time.Millisecond), http.StatusOK, nil)
			now = now.Add(time.Duration(float64(time.Second) / float64(p.adaptive.Limit())))
		}
		return float64(p.adaptive.Limit())
	}

	p := newPacer(c, 0, "")
	p.observe(t.Context(), at(0), at(5), http.StatusOK, nil)
	p.observe(t.Context(), at(70), at(75), http.StatusTooManyRequests, retry)
	if pace := float64(p.adaptive.Limit()); pace != 1 {
		t.Fatalf("after one accepted answer and a 429: paced at %v requests/s; want the floor, 1", pace)
	}
	if pace := paceAfter(p, at(1075)); pace < 1.8 {
		t.Errorf("a pace counted from one answer is %.2f requests/s four seconds on; want it grown to about 2", pace)
	}

	// Ten answers within the second before a 429: the pace is their
	// count, and it recovers slowly, on the scale of what was refused.
	q := newPacer(c, 0, "")
	for i := range 10 {
		q.observe(t.Context(), at(10*i), at(10*i+1), http.StatusOK, nil)
	}
	q.observe(t.Context(), at(100), at(101), http.StatusTooManyRequests, retry)
	if pace := float64(q.adaptive.Limit()); pace != 10 {
		t.Fatalf("after ten accepted answers and a 429: paced at %v requests/s; want 10", pace)
	}
	if pace := paceAfter(q, at(1101)); pace > 10.5 {
		t.Errorf("a pace counted from ten answers is %.2f requests/s four seconds on; want it recovering slowly, under 10.5", pace)
	}
}
