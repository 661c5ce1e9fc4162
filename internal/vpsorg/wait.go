package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultChangeGrace is how long after an action a wait with
// WaitSpec.Since (and no Grace of its own) looks for evidence that the
// action took effect before it trusts a target status without any.
const DefaultChangeGrace = 10 * time.Second

// WaitSpec says what WaitForStatus waits for.
type WaitSpec struct {
	// Target lists the statuses that end the wait successfully.
	Target []string
	// Pending lists the statuses that mean "keep waiting". Any status in
	// neither list fails the wait at once with *UnexpectedStatusError.
	Pending []string
	// NotFoundFor is how long from the wait's start a 404 counts as
	// pending: an eventually consistent API may not show a server for
	// seconds after its create (EC2's InvalidInstanceID.NotFound). A 404
	// after that fails the wait with an error matching ErrNotFound. It is
	// a time, not a count of 404s, so that fast polling cannot use it up;
	// the context's deadline bounds it as it bounds the whole wait.
	NotFoundFor time.Duration

	// Since, when set, is when the action this wait follows was sent. It
	// is for a Target that includes the status the server was in before
	// the action (a reboot: active, rebooting, active): the API is
	// eventually consistent, and a GET may show the old status for a while
	// after the action was accepted. A target status then ends the wait
	// only with evidence that the action took effect: the wait saw a status
	// outside Target, or the server's updated_at differs from UpdatedBefore
	// and is not earlier than Since's whole second. Failing both, it ends
	// the wait once Grace has passed since Since, with a warning (Config.Warn).
	// Until then the target status means "not yet". (A status before the
	// action that is not in Target belongs in Pending, so that, shown late,
	// it means "not yet" too.)
	Since time.Time
	// UpdatedBefore is the server's updated_at as seen before the action.
	UpdatedBefore string
	// Grace bounds the look for evidence; zero means DefaultChangeGrace.
	Grace time.Duration

	// ListMayEnd lets a shared list's view end the wait, so that it costs
	// no GET of its own: the server returned may then lack what a list
	// omits (ipv6_address, backups_enabled, ...). It is for a wait whose
	// caller reads the server again anyway, as a create does when a stop
	// follows, whose own wait ends on a GET.
	ListMayEnd bool

	// FromCreate says the wait began with the server's create (its
	// provisioning). Its created_at, and the updated_at the end of the
	// provisioning set, then say on the API's clock by when it ended, to
	// the second: later waits of the kind look then, not when this one's
	// backed-off looks happened to see it (endedBy).
	FromCreate bool
}

// tookEffect reports whether s is evidence that the action at Since took
// effect: a status outside Target, or an updated_at set since.
//
// updated_at has whole seconds by the API's clock; Since is ours. A change
// made at Since shows as Since's second or later when the clocks agree. A
// server clock behind ours shows it earlier, so the wait falls back to its
// grace period: skew can delay the end, never bring it forward. Comparing
// with UpdatedBefore as well keeps a change from before the action that
// shows late (a PATCH the GET before the action did not yet reflect) from
// passing for the action, unless it fell in Since's own second.
//
// since is Since on the API's clock (Client.APITime), so that a server
// clock minutes behind ours still shows the action's updated_at as
// "since". APITime errs late, never early: skew left over can delay the
// end, never bring it forward.
func (spec WaitSpec) tookEffect(s *Server, since time.Time) bool {
	if !slices.Contains(spec.Target, s.Status) {
		return true
	}
	if s.UpdatedAt == "" || s.UpdatedAt == spec.UpdatedBefore {
		return false
	}
	updated, err := time.Parse(time.RFC3339, s.UpdatedAt)
	return err == nil && !updated.Before(since.Truncate(time.Second))
}

// WaitForStatus polls the server until its status is one of spec.Target
// (with spec.Since, also shown to be the action's result) and returns the
// server as a GET last saw it (the full detail view). It is
// bounded only by ctx: it fails at once on a status outside Target and
// Pending, on a 404 once NotFoundFor has passed, or on an API error
// that polling again cannot cure (401, a 500 that outlasted the client's
// retries, ...); it polls on through transient failures (429, 502–504, no
// answer). When ctx ends it returns
// *WaitTimeoutError naming the last status seen. Concurrent waits of one
// client share their polls (see poller).
func (c *Client) WaitForStatus(ctx context.Context, id int64, spec WaitSpec) (*Server, error) {
	if len(spec.Target) == 0 {
		return nil, errors.New("vpsorg: WaitForStatus needs at least one target status")
	}
	grace := spec.Grace
	if grace <= 0 {
		grace = DefaultChangeGrace
	}
	var found *Server
	began := time.Now()
	// Since as the API's clock had it, for comparing with updated_at.
	apiSince := c.APITime(spec.Since)
	changed := spec.Since.IsZero() // without Since, no evidence is needed
	// A list may serve a look that cannot end the wait: a pending status
	// outside Target, or the old status still shown before any evidence
	// while the grace period lasts (the wait then still ends on a GET).
	// With ListMayEnd it may serve the end too.
	listed := func(s *Server) bool {
		if !slices.Contains(spec.Target, s.Status) {
			return slices.Contains(spec.Pending, s.Status)
		}
		if changed || spec.tookEffect(s, apiSince) {
			return spec.ListMayEnd
		}
		return time.Since(spec.Since) < grace
	}
	looks := waitLooks{target: spec.Target, pending: spec.Pending, listed: listed, listEnds: spec.ListMayEnd}
	if spec.FromCreate {
		looks.endedBy = endedBy
	}
	err := c.pollServer(ctx, id, looks, func(o observation) (bool, error) {
		if o.server == nil {
			if waited := time.Since(began); waited >= spec.NotFoundFor {
				return false, fmt.Errorf("server %d not found while waiting for %s (404s tolerated for %v, waited %v): %w",
					id, targetText(spec.Target), spec.NotFoundFor, waited.Round(time.Millisecond), o.notFound)
			}
			return false, nil
		}
		changed = changed || spec.tookEffect(o.server, apiSince)
		switch status := o.server.Status; {
		case slices.Contains(spec.Target, status) && changed:
			found = o.server
			return true, nil
		case slices.Contains(spec.Target, status):
			// The old status, still shown: not yet, unless the grace
			// period is over.
			if time.Since(spec.Since) >= grace {
				c.warn(ctx, "vpsorg: no sign that the action took effect within its grace period; trusting the status", map[string]any{
					"server_id":      id,
					"status":         status,
					"updated_at":     o.server.UpdatedAt,
					"updated_before": spec.UpdatedBefore,
					"grace_ms":       grace.Milliseconds(),
				})
				found = o.server
				return true, nil
			}
			return false, nil
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

// WaitForDeleted polls the server until it is gone: GET answers 404, or a
// whole list read after the call does not show it (see poller). Any status
// counts as pending; the wait is bounded only by ctx. Call it once the
// DELETE has been answered.
func (c *Client) WaitForDeleted(ctx context.Context, id int64) error {
	return c.pollServer(ctx, id, waitLooks{}, func(o observation) (bool, error) {
		return o.server == nil, nil
	})
}

// observation is one look at a server: its current state, or the 404 that
// says it does not exist (server nil, notFound set).
type observation struct {
	server   *Server
	notFound error
	// listed: the server as a shared list showed it (partial view), in a
	// status its waiter's listed accepted.
	listed bool
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

// waitLooks says what a wait looks for and how it may look.
type waitLooks struct {
	// target and pending name the goal (target nil: deletion).
	target, pending []string
	// listed says which servers a shared list may serve the look with
	// (nil: a status wait's look is a GET's).
	listed func(*Server) bool
	// listEnds: a list's view may end the wait (WaitSpec.ListMayEnd);
	// otherwise a status wait's end is always seen by a GET.
	listEnds bool
	// endedBy, when set, says from the view that ended the wait by when,
	// since the wait began, it ended (WaitSpec.FromCreate).
	endedBy func(*Server) (time.Duration, bool)
}

// pollServer observes server id until decide reports done or an error. The
// poller serves each observation, at the next poll's due time or a little
// earlier to share a tick with other waiters.
func (c *Client) pollServer(ctx context.Context, id int64, looks waitLooks, decide func(observation) (bool, error)) error {
	target, pending, listed := looks.target, looks.pending, looks.listed
	start := time.Now()
	lastStatus := ""
	timeout := func() error {
		err := ctx.Err()
		if err == nil {
			err = context.DeadlineExceeded // the deadline is about to pass
		}
		return &WaitTimeoutError{ID: id, LastStatus: lastStatus, Target: target, Err: err}
	}

	deleting := target == nil
	if listed != nil || deleting {
		defer c.poller.begin(id, deleting)()
	}
	// A wait of a kind seen before starts polling near where the shortest
	// one ended (poller.firstLook); any other wait looks soon and backs
	// off from there (quickPoll). A delete (documented as done when
	// answered) looks at once, unless enough other waits are under way to
	// share a list: then it gathers with them for a moment.
	kind := strings.Join(target, ",") + "<-" + strings.Join(pending, ",")
	first, step, gather := time.Duration(0), quickPoll, false
	d, likelyDone, known := c.poller.firstLook(kind)
	known = known && !deleting
	var notYet time.Duration // when the wait was last seen not done
	switch {
	case known:
		first = d
	case listed != nil && c.poller.gathering(deleting):
		// Other waits are under way: their looks, shared lists, serve
		// this one's early on, the sooner ones included.
		first = min(gatherFor, pollInterval(c.poll, 0))
	case !deleting:
		first = quickPoll
	case c.poller.gathering(deleting):
		first = min(gatherFor, pollInterval(c.poll, 0))
		step = first // and the looks after it are shared too
		gather = true
	}
	polls := 0
	pause := first
	next := func() time.Duration {
		waited := time.Since(start)
		ended, learned := c.poller.expected(kind)
		if known && !likelyDone && polls < 2 && learned && waited < ended {
			// Looked into the span where the kind's shortest wait ended,
			// too soon: halve what is left of it once more, then look at
			// its end.
			pause = ended - waited
			if polls == 0 && pause > max(ended/10, narrowTo) {
				pause /= 2
			}
			polls++
			return pause
		}
		pause = min(pollInterval(c.poll, waited), step<<min(polls, 16))
		if listed != nil && c.poller.gathering(deleting) {
			// The looks are lists shared with other waits, as early in
			// theirs: back off by half the time the wait may have been
			// over (since its start, or since the shortest of its kind
			// ended), so that a fleet's lists grow with the log of the
			// wait, not with its length.
			over := waited
			if learned {
				over = max(waited-ended, 0)
			}
			pause = max(pause, min(over/2, c.poll.normalized().Max))
		}
		polls++
		return pause
	}
	due := start.Add(first)
	byList := listed

	for {
		// Waiters due within half an interval share a tick.
		interval := min(pause, pollInterval(c.poll, due.Sub(start)))
		// The first look of a known kind comes when the wait likely
		// ended: a GET is then the read-back too (unless a list may end
		// the wait: then a list is as good).
		likely := known && likelyDone && polls == 0 && !looks.listEnds
		early := due.Add(-interval / 2)
		o, err := c.poller.observe(ctx, &pollRequest{
			id: id, listed: byList, deleting: deleting, likely: likely,
			gather: gather && polls == 0,
			early:  early, due: due,
		})
		byList = listed
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
				// A failing API gets no quick looks.
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
		if o.server != nil {
			lastStatus = o.server.Status
			status = lastStatus
		}
		waited := time.Since(start)
		c.log(ctx, "vpsorg: observed server status", map[string]any{
			"server_id": id,
			"status":    status,
			"target":    targetText(target),
			"waited_ms": waited.Milliseconds(),
		})

		done, err := decide(o)
		if !done {
			notYet = waited
		}
		switch {
		case err != nil:
			return err
		case done && o.listed && !looks.listEnds:
			// A list's view passed listed, then ended the wait (the grace
			// period ran out in between): the end must be a GET's.
			byList, due = nil, time.Now()
			continue
		case done:
			if !deleting {
				c.poller.learn(kind, notYet, looks.took(o, notYet, waited))
			}
			return nil
		case polls == 0 && !deleting && time.Now().Before(early):
			// Served by a list before its first look's tick: the schedule
			// stands (a wait of a known kind is not hurried into polling).
			// Served within its tick, the list was its look.
			continue
		}
		due = time.Now().Add(next())
	}
}
