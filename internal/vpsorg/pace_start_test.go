package vpsorg

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// TestSlowStart_ANewProcessMeetsADrainedBucketWithOneOrTwoRefusals: an
// account whose bucket (4 requests/s, bursts of 4) another command has
// nearly emptied; a new process with a pace file but no pace in it (the
// first of its working directory) sends ten requests at once. Started
// slowly, at most two are refused before the first 429 holds the rest; a
// client without slow start has every request on its way refused once the
// first answer lets them go.
func TestSlowStart_ANewProcessMeetsADrainedBucketWithOneOrTwoRefusals(t *testing.T) {
	emu, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	refusedOf := func(file string) int {
		emu.SetRateLimit(4, 4)
		for range 2 { // the command before leaves two
			emu.ServeHTTP(discard{}, mustRequest(t, emu.URL()+"servers/"))
		}
		emu.ResetRequests()
		c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken, PaceFile: file})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := c.ListServers(t.Context(), ListServersOptions{}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		refused := 0
		for _, r := range emu.Requests() {
			if r.Status == http.StatusTooManyRequests {
				refused++
			}
		}
		return refused
	}
	slow := refusedOf(filepath.Join(t.TempDir(), "pace.json"))
	// The control: on a loaded machine the requests after the first may
	// leave one by one, late enough for the first 429 to hold them; what
	// it proves needs them on their way at once, so it may take a few tries.
	fast := 0
	for try := 0; try < 3 && fast <= 2; try++ {
		fast = refusedOf("")
	}
	t.Logf("refused: %d started slowly, %d without", slow, fast)
	if slow > 2 {
		t.Errorf("started slowly: %d refused, want at most 2", slow)
	}
	if fast <= 2 {
		t.Errorf("without slow start: %d refused; the test cannot tell the two apart", fast)
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	return r
}

// TestSlowStart_RequestsWaitingGoAtThePaceTheAnswersRaisedItTo: ten
// requests queue at once in a new process. Each accepted answer raises the
// pace by half, and a request still waiting goes at the raised pace, not at
// a turn booked when it queued: the tenth goes about 0.2 s after the first,
// not 0.9 s (nine turns at the first pace), and the slow start is over after
// eight answers.
func TestSlowStart_RequestsWaitingGoAtThePaceTheAnswersRaisedItTo(t *testing.T) {
	c := &Client{base: &url.URL{Scheme: "https", Host: "api.example"}, retryWaitMin: time.Second, maxRetryAfter: time.Minute, logf: func(context.Context, string, map[string]any) {}}
	p := newPacer(c, 0, filepath.Join(t.TempDir(), "pace.json"))
	ctx := t.Context()
	t0 := time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)

	now := t0
	var sent []time.Duration
	for range 10 {
		wake, ok := p.send(now)
		for !ok {
			if wake.IsZero() || !wake.After(now) {
				t.Fatalf("at %v: not sent, and no later time to try (wake %v)", now.Sub(t0), wake)
			}
			now = wake
			wake, ok = p.send(now)
		}
		sent = append(sent, now.Sub(t0))
		// The API answers within a millisecond.
		p.observe(ctx, now, now.Add(time.Millisecond), http.StatusOK, nil)
		now = now.Add(time.Millisecond)
	}
	t.Logf("sent at %v", sent)
	for i := 2; i < len(sent); i++ {
		gap, before := sent[i]-sent[i-1], sent[i-1]-sent[i-2]
		if before > 2*time.Millisecond && gap >= before {
			t.Errorf("request %d went %v after the one before, which went %v after its own: the answers between did not raise the pace", i+1, gap, before)
		}
	}
	if last := sent[len(sent)-1]; last > 250*time.Millisecond || last < 150*time.Millisecond {
		t.Errorf("the tenth request went %v after the first; want about 0.2 s (slow, but raised by each answer)", last)
	}
	if wake, ok := p.send(now); !ok {
		t.Errorf("after ten accepted answers a request still waits until %v; the slow start should be over", wake.Sub(t0))
	}
}
