package vpsorg

import (
	"errors"
	"time"
)

// When a wait looks again: its first quick look, the interval that grows
// with the time waited, and which failures it polls on through.

// quickPoll is the first pause of a wait that starts looking at once: the
// API may already be there (a delete, an instant transition), and the
// pauses double from it up to the usual interval, so an end that comes
// soon is seen soon without polling a long wait more than a few times
// more. After the first poll of a known kind of wait too: the end is
// expected about then.
const quickPoll = 25 * time.Millisecond

// transient reports whether err is an API failure that the retry policy
// would have retried for a GET (429, 502, 503, 504, or no answer at all),
// as opposed to one that polling again cannot cure (401, a 500 that
// outlasted the retries, a body that is not a server, ...).
func transient(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	if isIncomplete(err) {
		return true // a partial server object, as in maintenance: look again
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
