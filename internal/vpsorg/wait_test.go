package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// statusReply is the GET answer for a server in the given status; "404"
// means not found, "500" a server error.
func statusReply(status string) reply {
	switch status {
	case "404":
		return reply{status: 404, body: `{"detail": "Not found."}`}
	case "500":
		return reply{status: 500, body: `{"detail": "Internal error."}`}
	case "503":
		return reply{status: 503, body: `{"detail": "Service unavailable."}`}
	case "hangup":
		return reply{hangUp: true}
	case "401":
		return reply{status: 401, body: `{"detail": "Invalid token."}`}
	}
	return reply{status: 200, body: serverJSON(12345, status)}
}

func sequence(statuses ...string) *recorder {
	rec := &recorder{}
	for _, s := range statuses {
		rec.replies = append(rec.replies, statusReply(s))
	}
	return rec
}

func TestWaitForStatus(t *testing.T) {
	toActive := WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusProvisioning, StatusStarting}}
	tests := []struct {
		name      string
		statuses  []string // answers in order; the last repeats
		spec      WaitSpec
		wantGETs  int
		wantErr   string // substring; "" means success
		check     func(t *testing.T, err error)
		wantFinal string
	}{
		{name: "returns at once on a target status", statuses: []string{"active"}, spec: toActive, wantGETs: 1, wantFinal: "active"},
		{name: "waits through pending statuses", statuses: []string{"provisioning", "provisioning", "starting", "active"}, spec: toActive, wantGETs: 4, wantFinal: "active"},
		{name: "any of several targets ends the wait", statuses: []string{"stopping", "stopped"},
			spec: WaitSpec{Target: []string{StatusStopped, StatusSuspended}, Pending: []string{StatusStopping}}, wantGETs: 2, wantFinal: "stopped"},
		{name: "a failure status fails at once, named", statuses: []string{"provisioning", "error", "active"}, spec: toActive, wantGETs: 2,
			wantErr: `server 12345 entered status "error" while waiting for active`,
			check: func(t *testing.T, err error) {
				var use *UnexpectedStatusError
				if !errors.As(err, &use) || use.Status != "error" || use.ID != 12345 {
					t.Errorf("error = %#v, want *UnexpectedStatusError", err)
				}
			}},
		{name: "an unknown status fails at once", statuses: []string{"migrating"}, spec: toActive, wantGETs: 1, wantErr: `entered status "migrating"`},
		{name: "a documented status that is not pending fails", statuses: []string{"suspended"}, spec: toActive, wantGETs: 1, wantErr: `entered status "suspended"`},
		{name: "tolerates 404s right after create", statuses: []string{"404", "404", "provisioning", "active"},
			spec: WaitSpec{Target: toActive.Target, Pending: toActive.Pending, NotFoundFor: time.Minute}, wantGETs: 4, wantFinal: "active"},
		{name: "tolerates 404s for a time, not a count: eight in a row", statuses: []string{"404", "404", "404", "404", "404", "404", "404", "404", "active"},
			spec: WaitSpec{Target: toActive.Target, Pending: toActive.Pending, NotFoundFor: time.Minute}, wantGETs: 9, wantFinal: "active"},
		{name: "a 404 after a status is tolerated within the time too", statuses: []string{"404", "404", "provisioning", "404", "404", "active"},
			spec: WaitSpec{Target: toActive.Target, Pending: toActive.Pending, NotFoundFor: time.Minute}, wantGETs: 6, wantFinal: "active"},
		{name: "a 404 once the time has passed fails with ErrNotFound", statuses: []string{"404"},
			spec: WaitSpec{Target: toActive.Target, Pending: toActive.Pending, NotFoundFor: time.Nanosecond}, wantGETs: 1, wantErr: "server 12345 not found",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
				}
			}},
		{name: "a 404 without tolerance fails at once", statuses: []string{"404"}, spec: toActive, wantGETs: 1, wantErr: "not found"},
		{name: "one 500 while provisioning is ridden", statuses: []string{"provisioning", "500", "active"}, spec: toActive, wantGETs: 3, wantFinal: "active"},
		{name: "a 500 that outlasts the client's retries fails the wait", statuses: []string{"provisioning", "500", "500", "500"}, spec: toActive, wantGETs: 4,
			wantErr: "get server 12345: HTTP 500 Internal Server Error: Internal error.",
			check: func(t *testing.T, err error) {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
					t.Errorf("error = %v, want the *APIError", err)
				}
			}},
		{name: "polls on through an outage that outlasts the client's retries", statuses: []string{"provisioning", "503", "503", "503", "hangup", "active"},
			spec: toActive, wantGETs: 6, wantFinal: "active"},
		{name: "an auth error fails the wait", statuses: []string{"401"}, spec: toActive, wantGETs: 1, wantErr: "HTTP 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sequence(tt.statuses...)
			sink := &logSink{}
			c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.Log = sink.log })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := c.WaitForStatus(ctx, 12345, tt.spec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if s == nil || s.Status != tt.wantFinal {
					t.Errorf("server = %+v, want status %s", s, tt.wantFinal)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if s != nil {
					t.Errorf("server = %+v, want nil on error", s)
				}
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			if got := len(rec.requests()); got != tt.wantGETs {
				t.Errorf("%d GETs, want %d", got, tt.wantGETs)
			}
			if got := sink.count("vpsorg: observed server status"); got != tt.wantGETs-countErrors(tt.statuses[:min(tt.wantGETs, len(tt.statuses))]) {
				t.Errorf("%d status observations logged for %d GETs", got, tt.wantGETs)
			}
		})
	}
}

// countErrors counts the answers that are API errors other than 404 (not
// observations).
func countErrors(statuses []string) int {
	n := 0
	for _, s := range statuses {
		if s == "500" || s == "401" || s == "503" || s == "hangup" {
			n++
		}
	}
	return n
}

func TestWaitForStatus_AfterAnActionEndsOnlyOnEvidenceThatItTookEffect(t *testing.T) {
	// A reboot: active, rebooting, active. The API is eventually
	// consistent: right after the POST a GET may still show active.
	// Answers are "status@updated_at", the updated_at one of: before (as
	// seen before the action), later (the second after Since's), same
	// (Since's second), earlier (the second before Since's).
	const grace = 300 * time.Millisecond
	tests := []struct {
		name     string
		answers  []string // in order; the last repeats
		noSince  bool
		wantGETs int // 0: at least two, until the grace period ended it (its warning says so)
		wantWarn bool
	}{
		{"the old status, then the transient one, then the target: ends after the transient",
			[]string{"active@before", "active@before", "rebooting@before", "active@before"}, false, 4, false},
		{"the old status with a new updated_at: ends on it",
			[]string{"active@before", "active@later"}, false, 2, false},
		{"an updated_at in Since's own second counts",
			[]string{"active@same"}, false, 1, false},
		{"only the old status, updated_at unchanged: ends after the grace period, warned",
			[]string{"active@before"}, false, 0, true},
		{"an updated_at changed but earlier than Since's second does not count",
			[]string{"active@before", "active@earlier"}, false, 0, true},
		{"without Since, the target ends the wait at once",
			[]string{"active@before"}, true, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			since := time.Now()
			second := since.UTC().Truncate(time.Second)
			updated := map[string]string{
				"before":  "2025-01-16T15:45:00Z",
				"later":   second.Add(time.Second).Format(time.RFC3339),
				"same":    second.Format(time.RFC3339),
				"earlier": second.Add(-time.Second).Format(time.RFC3339),
			}
			rec := &recorder{}
			for _, a := range tt.answers {
				status, at, _ := strings.Cut(a, "@")
				rec.replies = append(rec.replies, reply{status: 200,
					body: whole(fmt.Sprintf(`{"id": 12345, "name": "web-server-01", "status": %q, "updated_at": %q}`, status, updated[at]))})
			}
			spec := WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusActive, StatusRebooting},
				Since: since, UpdatedBefore: updated["before"], Grace: grace}
			if tt.noSince {
				spec.Since = time.Time{}
			}
			var warnings []string
			c, _ := newTestClient(t, rec, func(cfg *Config) {
				cfg.Warn = func(_ context.Context, msg string, _ map[string]any) { warnings = append(warnings, msg) }
			})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := c.WaitForStatus(ctx, 12345, spec)
			if err != nil {
				t.Fatal(err)
			}
			if s.Status != StatusActive {
				t.Errorf("ended on %q, want active", s.Status)
			}
			gets := len(rec.requests())
			switch {
			case tt.wantGETs > 0 && gets != tt.wantGETs:
				t.Errorf("%d GETs, want %d", gets, tt.wantGETs)
			case tt.wantGETs == 0 && gets < 2:
				t.Errorf("ended after %d GETs; want it to keep looking until the grace period, %v, ends it", gets, grace)
			}
			if got := len(warnings) > 0; got != tt.wantWarn {
				t.Errorf("warnings %q, want a warning: %v", warnings, tt.wantWarn)
			}
		})
	}
}

func TestWaitForStatus_AWarningWithoutAWarnHookGoesToLog(t *testing.T) {
	sink := &logSink{}
	c, _ := newTestClient(t, sequence("active"), func(cfg *Config) { cfg.Log = sink.log })
	_, err := c.WaitForStatus(t.Context(), 12345, WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusRebooting},
		Since: time.Now(), Grace: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, e := range sink.entries {
		if strings.Contains(e.msg, "grace period") {
			if e.fields["level"] != "warn" {
				t.Errorf("warning logged with fields %v, want level warn", e.fields)
			}
			return
		}
	}
	t.Errorf("no warning in the log:\n%v", sink.entries)
}

func TestWaitForStatus_NeedsATarget(t *testing.T) {
	c, _ := newTestClient(t, sequence("active"))
	if _, err := c.WaitForStatus(context.Background(), 1, WaitSpec{}); err == nil {
		t.Error("want an error for an empty target")
	}
}

func TestWaitForStatus_TimeoutNamesLastStatusAndTarget(t *testing.T) {
	rec := sequence("provisioning")
	c, _ := newTestClient(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := c.WaitForStatus(ctx, 12345, WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusProvisioning}})
	if got, want := fmt.Sprint(err), "timed out waiting for server 12345 to become active (last seen status: provisioning)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false")
	}
	var wte *WaitTimeoutError
	if !errors.As(err, &wte) || wte.LastStatus != StatusProvisioning || wte.ID != 12345 {
		t.Errorf("error = %#v", err)
	}
	if n := len(rec.requests()); n < 5 {
		t.Errorf("only %d polls in 150ms with a 1–5ms interval", n)
	}
}

func TestWaitForStatus_CancelMidSleepReturnsPromptly(t *testing.T) {
	// The first polls come fast, the pauses double, and after the first
	// they are an hour long at most: the cancel comes during a pause.
	rec := sequence("provisioning")
	c, _ := newTestClient(t, rec, func(cfg *Config) {
		cfg.Poll = PollPolicy{Min: time.Hour, Max: time.Hour, Fraction: 1e6}
	})
	ctx, cancel := context.WithCancel(context.Background())
	// Returning at all shows the sleep was cut short: the next poll was an
	// hour away, and the test's own deadline would end it first.
	sentBeforeCancel := -1
	time.AfterFunc(300*time.Millisecond, func() {
		sentBeforeCancel = len(rec.requests())
		cancel()
	})
	_, err := c.WaitForStatus(ctx, 12345, WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusProvisioning}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if got, want := fmt.Sprint(err), "cancelled waiting for server 12345 to become active (last seen status: provisioning)"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if n := len(rec.requests()); n != sentBeforeCancel || n == 0 {
		t.Errorf("%d GETs in all, %d before the cancel: want some, and none after it", n, sentBeforeCancel)
	}
}

func TestWaitForStatus_DeadlineDuringAGETIsATimeout(t *testing.T) {
	rec := sequence("provisioning", "503") // 503 is retried until the deadline
	rec.replies[1] = reply{status: 503, header: map[string]string{"Retry-After": "1"}}
	c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.RetryMax = 100 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.WaitForStatus(ctx, 12345, WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusProvisioning}})
	var wte *WaitTimeoutError
	if !errors.As(err, &wte) || wte.LastStatus != StatusProvisioning {
		t.Errorf("error = %v, want a *WaitTimeoutError naming provisioning", err)
	}
}

func TestWaitForDeleted(t *testing.T) {
	t.Run("returns when GET answers 404", func(t *testing.T) {
		rec := sequence("active", "deleting", "404")
		c, _ := newTestClient(t, rec)
		if err := c.WaitForDeleted(context.Background(), 12345); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.requests()); n != 3 {
			t.Errorf("%d GETs, want 3", n)
		}
	})
	t.Run("times out naming the last status", func(t *testing.T) {
		c, _ := newTestClient(t, sequence("active"))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := c.WaitForDeleted(ctx, 12345)
		if got, want := fmt.Sprint(err), "timed out waiting for server 12345 to be deleted (last seen status: active)"; got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("not a DeadlineExceeded: %v", err)
		}
	})
	t.Run("an API error fails the wait", func(t *testing.T) {
		c, _ := newTestClient(t, sequence("401"))
		err := c.WaitForDeleted(context.Background(), 12345)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
			t.Errorf("error = %v", err)
		}
	})
}

func TestPollInterval_IsAFractionOfTheWaitClamped(t *testing.T) {
	def := PollPolicy{}
	custom := PollPolicy{Min: time.Second, Max: 20 * time.Second, Fraction: 0.25}
	tests := []struct {
		policy PollPolicy
		waited time.Duration
		want   time.Duration
	}{
		{def, 0, 200 * time.Millisecond},
		{def, time.Second, 200 * time.Millisecond},
		{def, 2 * time.Second, 200 * time.Millisecond},
		{def, 3 * time.Second, 300 * time.Millisecond},
		{def, 5 * time.Second, 500 * time.Millisecond},
		{def, 20 * time.Second, 2 * time.Second},
		{def, 60 * time.Second, 6 * time.Second},
		{def, 100 * time.Second, 10 * time.Second},
		{def, 10 * time.Hour, 10 * time.Second},
		{def, time.Duration(1<<63 - 1), 10 * time.Second},
		{custom, 2 * time.Second, time.Second},
		{custom, 40 * time.Second, 10 * time.Second},
		{custom, 10 * time.Minute, 20 * time.Second},
		{PollPolicy{Min: 5 * time.Second, Max: time.Second}, time.Minute, 5 * time.Second}, // Max < Min: Min wins
		{PollPolicy{Fraction: -1}, 20 * time.Second, 2 * time.Second},                      // negative: default
	}
	for _, tt := range tests {
		if got := pollInterval(tt.policy, tt.waited); got != tt.want {
			t.Errorf("pollInterval(%+v, %v) = %v, want %v", tt.policy, tt.waited, got, tt.want)
		}
	}
}
