package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// WaitSpec says what WaitForStatus waits for.
type WaitSpec struct {
	// Target lists the statuses that end the wait successfully.
	Target []string
	// Pending lists the statuses that mean "keep waiting". Any status in
	// neither list fails the wait at once with *UnexpectedStatusError.
	Pending []string
	// NotFoundTolerance is how many 404s in a row count as pending (the API
	// may not show a server right after create). One more fails the wait
	// with an error matching ErrNotFound.
	NotFoundTolerance int
}

// UnexpectedStatusError is a wait that met a status that is neither target
// nor pending, e.g. "error" after a failed provisioning.
type UnexpectedStatusError struct {
	ID     int64
	Status string
	Target []string
}

func (e *UnexpectedStatusError) Error() string {
	return fmt.Sprintf("server %d entered status %q while waiting for %s", e.ID, e.Status, targetText(e.Target))
}

// WaitTimeoutError is a wait ended by its context. An empty Target means
// the wait was for deletion. Err is the context's error, so
// errors.Is(err, context.DeadlineExceeded) works.
type WaitTimeoutError struct {
	ID         int64
	LastStatus string
	Target     []string
	Err        error
}

func (e *WaitTimeoutError) Error() string {
	verb := "timed out"
	if errors.Is(e.Err, context.Canceled) {
		verb = "cancelled"
	}
	goal := "to become " + targetText(e.Target)
	if len(e.Target) == 0 {
		goal = "to be deleted"
	}
	last := "last seen status: " + e.LastStatus
	if e.LastStatus == "" {
		last = "no status seen"
	}
	return fmt.Sprintf("%s waiting for server %d %s (%s)", verb, e.ID, goal, last)
}

func (e *WaitTimeoutError) Unwrap() error { return e.Err }

func targetText(target []string) string {
	switch len(target) {
	case 0:
		return "deleted"
	case 1:
		return target[0]
	}
	return strings.Join(target[:len(target)-1], ", ") + " or " + target[len(target)-1]
}

// WaitForStatus polls the server until its status is one of spec.Target and
// returns the server as a GET last saw it (the full detail view). It is
// bounded only by ctx: it fails at once on a status outside Target and
// Pending, on more than NotFoundTolerance 404s in a row, or on an API error
// that polling again cannot cure (401, 500, ...); it polls on through
// transient failures (429, 502–504, no answer). When ctx ends it returns
// *WaitTimeoutError naming the last status seen. Concurrent waits of one
// client share their polls (see poller).
func (c *Client) WaitForStatus(ctx context.Context, id int64, spec WaitSpec) (*Server, error) {
	if len(spec.Target) == 0 {
		return nil, errors.New("vpsorg: WaitForStatus needs at least one target status")
	}
	var found *Server
	notFound := 0
	err := c.pollServer(ctx, id, spec.Target, spec.Pending, func(o observation) (bool, error) {
		if o.server == nil {
			notFound++
			if notFound > spec.NotFoundTolerance {
				return false, fmt.Errorf("server %d not found while waiting for %s: %w", id, targetText(spec.Target), o.notFound)
			}
			return false, nil
		}
		notFound = 0
		switch status := o.server.Status; {
		case slices.Contains(spec.Target, status):
			found = o.server
			return true, nil
		case slices.Contains(spec.Pending, status):
			return false, nil
		default:
			return false, &UnexpectedStatusError{ID: id, Status: status, Target: spec.Target}
		}
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// WaitForDeleted polls the server until GET answers 404. Any status counts
// as pending; the wait is bounded only by ctx.
func (c *Client) WaitForDeleted(ctx context.Context, id int64) error {
	return c.pollServer(ctx, id, nil, nil, func(o observation) (bool, error) {
		return o.server == nil, nil
	})
}

// observation is one look at a server: its current state, or the 404 that
// says it does not exist (server nil, notFound set).
type observation struct {
	server   *Server
	notFound error
}

// observe looks at server id once with a GET. Waiters reach it through the
// poller, which may serve them from a shared list instead.
func (c *Client) observe(ctx context.Context, id int64) (observation, error) {
	s, err := c.GetServer(ctx, id)
	switch {
	case err == nil:
		return observation{server: s}, nil
	case errors.Is(err, ErrNotFound):
		return observation{notFound: err}, nil
	default:
		return observation{}, err
	}
}

// pollServer observes server id until decide reports done or an error. The
// poller serves each observation, at the next poll's due time or a little
// earlier to share a tick with other waiters. target and pending name the
// goal (target nil: deletion); a status wait's end is always seen by a GET.
func (c *Client) pollServer(ctx context.Context, id int64, target, pending []string, decide func(observation) (bool, error)) error {
	start := time.Now()
	lastStatus := ""
	timeout := func() error {
		err := ctx.Err()
		if err == nil {
			err = context.DeadlineExceeded // the deadline is about to pass
		}
		return &WaitTimeoutError{ID: id, LastStatus: lastStatus, Target: target, Err: err}
	}

	// A wait of a kind seen before starts polling near where the shortest
	// one ended, not from the start.
	kind := strings.Join(target, ",") + "<-" + strings.Join(pending, ",")
	first := pollInterval(c.poll, 0)
	if d, ok := c.poller.expected(kind); ok && target != nil {
		first = max(first, d*9/10)
	}
	if target == nil {
		// A delete is documented as done when answered: look at once.
		first = 0
	}
	due := start.Add(first)
	filter := ""
	if len(pending) == 1 {
		filter = pending[0]
	}

	for {
		interval := pollInterval(c.poll, due.Sub(start))
		o, err := c.poller.observe(ctx, id, filter, due.Add(-interval/2), due)
		if err != nil {
			// A GET cut short by the deadline (even one that gave up
			// retrying because the deadline was near) is a timeout.
			var early *notSentError
			if ctx.Err() != nil || errors.As(err, &early) {
				return timeout()
			}
			if transient(err) {
				// The client's own retries ran out, but the wait is
				// bounded by ctx alone: an outage shorter than the
				// user's timeout must not fail it. Look again later.
				c.log(ctx, "vpsorg: status poll failed, will poll again", map[string]any{
					"server_id": id,
					"error":     err.Error(),
				})
				due = time.Now().Add(pollInterval(c.poll, time.Since(start)))
				continue
			}
			goal := "become " + targetText(target)
			if len(target) == 0 {
				goal = "be deleted"
			}
			return fmt.Errorf("waiting for server %d to %s: %w", id, goal, err)
		}

		status := "(not found)"
		filter = ""
		if o.server != nil {
			lastStatus = o.server.Status
			status = lastStatus
			if slices.Contains(pending, status) {
				filter = status
			}
		}
		waited := time.Since(start)
		c.log(ctx, "vpsorg: observed server status", map[string]any{
			"server_id": id,
			"status":    status,
			"target":    targetText(target),
			"waited_ms": waited.Milliseconds(),
		})

		done, err := decide(o)
		if err != nil {
			return err
		}
		if done {
			if target != nil {
				c.poller.learn(kind, waited)
			}
			return nil
		}
		due = time.Now().Add(pollInterval(c.poll, time.Since(start)))
	}
}

// transient reports whether err is an API failure that the retry policy
// would have retried for a GET (429, 502, 503, 504, or no answer at all),
// as opposed to one that polling again cannot cure (401, 500, a body that
// is not a server, ...).
func transient(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.StatusCode == 0 {
		return apiErr.Err != nil && transientFailure(0, apiErr.Err)
	}
	return transientFailure(apiErr.StatusCode, nil)
}

// normalized fills in defaults for zero or negative fields.
func (p PollPolicy) normalized() PollPolicy {
	if p.Min <= 0 {
		p.Min = defaultPollMin
	}
	if p.Max <= 0 {
		p.Max = defaultPollMax
	}
	if p.Max < p.Min {
		p.Max = p.Min
	}
	if p.Fraction <= 0 {
		p.Fraction = defaultPollFraction
	}
	return p
}

// pollInterval is the pause before the next poll after waiting for waited:
// Fraction × waited, clamped to [Min, Max], so the delay between the server
// reaching its target and the waiter noticing stays a small share of the
// whole wait.
func pollInterval(p PollPolicy, waited time.Duration) time.Duration {
	p = p.normalized()
	d := time.Duration(float64(waited) * p.Fraction)
	if float64(waited)*p.Fraction > float64(p.Max) { // also guards overflow
		d = p.Max
	}
	return min(max(d, p.Min), p.Max)
}
