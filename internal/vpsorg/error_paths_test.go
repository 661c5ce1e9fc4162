package vpsorg

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// A 429 without Retry-After is retried after a backoff; when that backoff
// would end after the request's deadline, the retry is refused at once: the
// client returns the 429 instead of sleeping into a certain timeout.
func TestRateLimit_ARetryThatWouldStartAfterTheDeadlineIsRefused(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 429, body: `{"detail": "slow down"}`}, {status: 200, body: detailJSON}}}
	// The shortest backoff (a minute) outlasts the deadline (three seconds).
	c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.RetryWaitMin, cfg.RetryWaitMax = time.Minute, time.Minute })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()

	_, err := c.GetServer(ctx, 12345)

	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests sent, want only the refused one", n)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Fatalf("error = %v, want the 429", err)
	}
	if !strings.Contains(err.Error(), "would start after the context deadline") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want it to say the retry would start after the deadline, matching context.DeadlineExceeded", err)
	}
	// Refused, not slept through: the deadline has not come.
	if ctx.Err() != nil {
		t.Errorf("the client waited until the deadline; want the refusal at once")
	}
}

// hangUpFirst hangs up on the first n requests, then answers as active.
type hangUpFirst struct {
	mu   sync.Mutex
	n    int
	seen int
}

func (h *hangUpFirst) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	h.seen++
	hang := h.seen <= h.n
	h.mu.Unlock()
	if hang {
		hangUp(w)
		return
	}
	statusReply(StatusActive).write(w)
}

// A poll whose every try gets no answer (the connection drops each time)
// is a transient failure: the wait polls again and ends on the answer that
// comes, bounded only by its context.
func TestWaitForStatus_PollsOnAfterAPollThatGotNoAnswerAtAll(t *testing.T) {
	// RetryMax is 2: a poll makes three tries, and Go's transport may
	// retry a try on a reused connection once more. Eight dropped
	// connections outlast any one poll.
	h := &hangUpFirst{n: 8}
	c, _ := newTestClient(t, h)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	s, err := c.WaitForStatus(ctx, 12345, WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusProvisioning}})
	if err != nil {
		t.Fatalf("the wait failed: %v", err)
	}
	if s.Status != StatusActive {
		t.Errorf("status %q, want active", s.Status)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen <= h.n {
		t.Errorf("the server saw %d requests; the test needs more than the %d it dropped", h.seen, h.n)
	}
}
