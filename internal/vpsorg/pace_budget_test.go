package vpsorg

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

func TestParseBudget_ReadsEachHeaderFamily(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name   string
		header map[string]string
		want   budgetInfo
	}{
		{"RateLimit-* fields", map[string]string{"RateLimit-Limit": "8", "RateLimit-Remaining": "3", "RateLimit-Reset": "2"},
			budgetInfo{limit: 8, remaining: 3, reset: 2 * time.Second}},
		{"RateLimit-* with the older draft's policy", map[string]string{"RateLimit-Limit": "10, 10;w=1", "RateLimit-Remaining": "4", "RateLimit-Reset": "1", "RateLimit-Policy": "10;w=1"},
			budgetInfo{limit: 10, remaining: 4, reset: time.Second, window: time.Second}},
		{"IETF draft structured fields", map[string]string{"RateLimit": `"default";r=5;t=3`, "RateLimit-Policy": `"default";q=100;w=60`},
			budgetInfo{limit: 100, remaining: 5, reset: 3 * time.Second, window: time.Minute}},
		{"X-RateLimit-* with a Unix reset time (GitHub)", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "1700000090"},
			budgetInfo{limit: 5000, remaining: 4999, reset: 90 * time.Second}},
		{"X-RateLimit-* with seconds", map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"},
			budgetInfo{limit: 60, remaining: 0, reset: 7 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range c.header {
				h.Set(k, v)
			}
			got, ok := parseBudget(h, now)
			if !ok || got != c.want {
				t.Errorf("parseBudget = %+v, %t; want %+v", got, ok, c.want)
			}
		})
	}
	for _, bad := range []map[string]string{
		{},
		{"RateLimit-Remaining": "3"}, // no limit, no reset
		{"RateLimit-Limit": "8", "RateLimit-Remaining": "-1", "RateLimit-Reset": "2"},
		{"X-RateLimit-Limit": "x", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "2"},
		{"RateLimit": `"default";t=3`},
	} {
		h := http.Header{}
		for k, v := range bad {
			h.Set(k, v)
		}
		if got, ok := parseBudget(h, now); ok {
			t.Errorf("parseBudget(%v) = %+v; want nothing", bad, got)
		}
	}
}

func TestBudget_AnAnswerThatOvertookALaterOneDoesNotRaiseIt(t *testing.T) {
	now := time.Unix(0, 0)
	var b budget
	b.learn(budgetInfo{limit: 10, remaining: 4, reset: time.Second, window: time.Second}, now, 0)
	b.learn(budgetInfo{limit: 10, remaining: 6, reset: time.Second, window: time.Second}, now, 0)
	if b.level != 4 {
		t.Errorf("the budget is %v after answers saying 4, then (an older one) 6; want 4", b.level)
	}
	b.learn(budgetInfo{limit: 10, remaining: 5, reset: time.Second, window: time.Second}, now, 2)
	if b.level != 3 {
		t.Errorf("the budget is %v after an answer saying 5 with 2 requests on their way; want 3", b.level)
	}
}

func TestBudget_AloneItIsSpentDownToTheLastButOne(t *testing.T) {
	// 4 requests a second with bursts of 8, whole, and no other client
	// seen: seven go at once, and the eighth waits for the refill to
	// bring the one kept to two (a quarter of a second).
	now := time.Unix(0, 0)
	var b budget
	b.learn(budgetInfo{limit: 8, remaining: 8, reset: 0, window: 2 * time.Second}, now, 0)
	for i := range 7 {
		if wake, ok := b.take(now, 0); !ok {
			t.Fatalf("request %d of a whole budget of 8, alone: %s; want it at once", i+1, taken(wake, ok, now))
		}
	}
	wake, ok := b.take(now, 0)
	if want := now.Add(250 * time.Millisecond); ok || !wake.Equal(want) {
		t.Errorf("the eighth request: %s; want to wait %v", taken(wake, ok, now), want.Sub(now))
	}
	// An answer that says what this client's own requests explain (one
	// left, less the rounding) is no sign of another client.
	b.learn(budgetInfo{limit: 8, remaining: 0, reset: 2 * time.Second, window: 2 * time.Second}, now, 0)
	if b.shared {
		t.Error("an answer within the rounding of the client's own count was taken for another client's spending")
	}
}

func TestBudget_AnotherClientsSpendingShowsInTheAnswersAndHalfIsKeptFromThen(t *testing.T) {
	// 10 a second with bursts of 10: two requests of this client, then
	// an answer that says 3 are left where its own count says 8. From then
	// half is kept: nothing goes until the refill brings it to 5.25.
	now := time.Unix(0, 0)
	var b budget
	b.learn(budgetInfo{limit: 10, remaining: 10, reset: 0, window: time.Second}, now, 0)
	sendAll(&b, now, 2)
	b.learn(budgetInfo{limit: 10, remaining: 8, reset: 200 * time.Millisecond, window: time.Second}, now, 0)
	if wake, ok := b.take(now, 0); !ok || b.shared {
		t.Fatalf("alone, with 8 left: %s (shared %t); want it at once", taken(wake, ok, now), b.shared)
	}
	b.learn(budgetInfo{limit: 10, remaining: 3, reset: 700 * time.Millisecond, window: time.Second}, now, 0)
	if !b.shared {
		t.Fatal("an answer 4 below the client's own count was not taken for another client's spending")
	}
	wake, ok := b.take(now, 0)
	if want := now.Add(225 * time.Millisecond); ok || !wake.Equal(want) {
		t.Errorf("shared, with 3 of 10 left: %s; want to wait %v", taken(wake, ok, now), want.Sub(now))
	}
}

func TestBudget_SharedHalfIsKeptAndBelowThreeQuartersRequestsAreSpread(t *testing.T) {
	// 10 requests a second with bursts of 10, spent by other clients too
	// (shared): half (5) is kept, and between it and three quarters (7.5)
	// the pace runs from none to the refill rate. With 7 left the next
	// request goes at once, the one after it at 10/s × (7 − 5) / (7.5 −
	// 5) = 8/s, an eighth of a second on.
	now := time.Unix(0, 0)
	b := budget{shared: true}
	b.learn(budgetInfo{limit: 10, remaining: 7, reset: 300 * time.Millisecond, window: time.Second}, now, 0)
	if _, ok := b.take(now, 0); !ok {
		t.Fatal("the first request waited with 7 left")
	}
	wake, ok := b.take(now, 0)
	if want := now.Add(time.Second / 8); ok || !wake.Equal(want) {
		t.Errorf("the second request with 6 left: %s; want to wait %v", taken(wake, ok, now), want.Sub(now))
	}
	// An answer says 4 are left: inside the half kept, nothing goes until
	// the refill brings it to 5.25.
	b.learn(budgetInfo{limit: 10, remaining: 4, reset: 600 * time.Millisecond, window: time.Second}, now, 0)
	wake, ok = b.take(now, 0)
	if want := now.Add(125 * time.Millisecond); ok || !wake.Equal(want) {
		t.Errorf("with 4 of 10 left: %s; want to wait %v", taken(wake, ok, now), want.Sub(now))
	}
	// Refilled: above three quarters, the pace is the refill rate plus
	// what is above them (2.5) over spendTime (1s): 12.5/s. The first goes
	// at once, the next 80ms on, not in the same instant.
	full := now.Add(10 * time.Second)
	if _, ok := b.take(full, 0); !ok {
		t.Fatal("after the bucket refilled, the first request waited")
	}
	wake, ok = b.take(full, 0)
	if want := full.Add(80 * time.Millisecond); ok || !wake.Equal(want) {
		t.Errorf("with 9 of 10 left: %s; want to wait %v", taken(wake, ok, full), want.Sub(full))
	}
}

func TestBudget_ALargeBudgetIsSpentQuicklyASmallOneOverAFewAnswers(t *testing.T) {
	// GitHub's 5,000 an hour: with 4,000 left, five hundred requests go
	// within half a second (what is above half, 1,500, is spent at 1,500/s
	// and less as it shrinks: a third of it in 0.4s).
	now := time.Unix(0, 0)
	var large budget
	large.learn(budgetInfo{limit: 5000, remaining: 4000, reset: 10 * time.Minute}, now, 0)
	if last := sendAll(&large, now, 500); last.Sub(now) > 500*time.Millisecond {
		t.Errorf("five hundred requests of a budget of 4,000 took %v to go; want at most 500ms", last.Sub(now))
	}
	// Six a second with bursts of six, full, shared with other clients:
	// the 1.5 above three quarters go 1/(6 + 1.5) s apart, never two in
	// the same instant, so that the answers show the other clients' share
	// before it is gone.
	small := budget{shared: true}
	small.learn(budgetInfo{limit: 6, remaining: 6, reset: 0, window: time.Second}, now, 0)
	if _, ok := small.take(now, 0); !ok {
		t.Fatal("the first request of a full budget waited")
	}
	wake, ok := small.take(now, 0)
	if want := now.Add(2 * time.Second / 15); ok || !wake.Equal(want) {
		t.Errorf("the second request of a full budget of 6: %s; want to wait %v", taken(wake, ok, now), want.Sub(now))
	}
}

func TestBudget_AFixedWindowIsWholeAgainAtItsReset(t *testing.T) {
	now := time.Unix(0, 0)
	var b budget
	b.learn(budgetInfo{limit: 3, remaining: 1, reset: 5 * time.Second}, now, 0)
	if _, ok := b.take(now, 0); !ok {
		t.Fatal("the last request of the window was refused")
	}
	wake, ok := b.take(now.Add(time.Second), 0)
	if ok || !wake.Equal(now.Add(5*time.Second)) {
		t.Fatalf("take after the budget ran out = %v, %t; want to wait for the reset at 5s", wake, ok)
	}
	// Whole again: the three go, spread over the second after the reset
	// (the part above half over spendTime), none before it.
	if last := sendAll(&b, now.Add(5*time.Second), 3); last.After(now.Add(6 * time.Second)) {
		t.Errorf("the window's 3 requests after the reset at 5s took until %v; want them by 6s", last.Sub(now))
	}
}

// taken says what take answered, for a failure message.
func taken(wake time.Time, ok bool, now time.Time) string {
	if ok {
		return "it went at once"
	}
	return fmt.Sprintf("it waits %v", wake.Sub(now))
}

// sendAll takes n requests from b, each at the first moment it allows from
// at on, and returns when the last went.
func sendAll(b *budget, at time.Time, n int) time.Time {
	for sent := 0; sent < n; {
		wake, ok := b.take(at, 0)
		if ok {
			sent++
			continue
		}
		at = wake
	}
	return at
}

// TestRateLimit_HeadersPaceTheClientWithoutA429 sends bursts of GETs from
// ten goroutines through one client at an emulator whose limit (10/s,
// bursts of 5) is far below what they ask for: with the limit in the
// answers, not one request is refused, in any header family.
func TestRateLimit_HeadersPaceTheClientWithoutA429(t *testing.T) {
	for _, family := range []string{emulator.RateLimitHeadersFields, emulator.RateLimitHeadersDraft, emulator.RateLimitHeadersX} {
		t.Run(family, func(t *testing.T) {
			emu, err := emulator.Start(emulator.Options{RateLimitHeaders: family})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { emu.Close() })
			emu.SetRateLimit(10, 5)
			c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					for range 2 {
						if _, err := c.ListServers(t.Context(), ListServersOptions{}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			counts := map[int]int{}
			for _, r := range emu.Requests() {
				counts[r.Status]++
			}
			if counts[http.StatusOK] != 20 || counts[http.StatusTooManyRequests] != 0 {
				t.Errorf("answers by status %v; want 20 200s and no 429", counts)
			}
		})
	}
}

func TestRateLimit_TheFirstRequestGoesAloneSoItsAnswerCanSayTheLimit(t *testing.T) {
	// Five requests at once from a new client: the first answer (slow on
	// purpose) comes before any other request is sent, so a limit it
	// states governs them all.
	var mu sync.Mutex
	arrived, seenByFirst := 0, 0
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		arrived++
		first := arrived == 1
		mu.Unlock()
		if first {
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			seenByFirst = arrived
			mu.Unlock()
		}
		_, _ = w.Write([]byte(detailJSON))
	}))
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := c.GetServer(t.Context(), 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if seenByFirst != 1 {
		t.Errorf("%d requests had arrived when the first was answered; want it alone", seenByFirst)
	}
	if arrived != 5 {
		t.Errorf("%d requests arrived, want 5", arrived)
	}
}

func TestRateLimit_ASlowFirstAnswerDoesNotHoldUpTheOthersForLong(t *testing.T) {
	// The first request hangs far longer than probeWait; the others go
	// once probeWait has passed, and are answered before it.
	release := make(chan struct{})
	var mu sync.Mutex
	answered := 0
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/servers/1/" {
			<-release
		}
		mu.Lock()
		answered++
		mu.Unlock()
		_, _ = w.Write([]byte(detailJSON))
	}))
	defer close(release)
	go func() { _, _ = c.GetServer(t.Context(), 1) }()
	eventually(t, "the first request is on its way", func() bool {
		c.pace.mu.Lock()
		defer c.pace.mu.Unlock()
		return c.pace.inFlight == 1
	})
	for range 3 {
		if _, err := c.GetServer(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if answered != 3 {
		t.Errorf("%d answered before the first; want the other 3", answered)
	}
}
