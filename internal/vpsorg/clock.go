package vpsorg

import (
	"net/http"
	"sync"
	"time"
)

// The API's clock. Whatever compares the API's timestamps (created_at,
// updated_at) with a moment of ours must first move that moment onto the
// API's clock: a CI runner drifting by tens of seconds is common, and a
// comparison across clocks then hides the server a lost create made, or
// takes an old updated_at for a reboot's.
//
// Every answer carries a Date header, the API's clock when it answered, in
// whole seconds. The client reads it off each answer and keeps the latest
// estimate of the offset: the API's time at the middle of the exchange
// (Date plus half a second, as Date is cut to the second) less ours. The
// estimate is within half a second plus half the round trip of the truth,
// which is why callers compare with a tolerance of a second or more.

// clockTolerance is the slack a comparison across the clocks allows for
// the estimate's error.
const clockTolerance = 600 * time.Millisecond

// apiClock is the learned offset between the API's clock and ours.
type apiClock struct {
	mu     sync.Mutex
	offset time.Duration
	known  bool
}

// observe learns from one answer sent at sent and received at received.
// An answer without a parseable Date teaches nothing.
func (k *apiClock) observe(sent, received time.Time, h http.Header) {
	if h == nil {
		return
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	mid := sent.Add(received.Sub(sent) / 2)
	offset := date.Add(500 * time.Millisecond).Sub(mid)
	k.mu.Lock()
	k.offset, k.known = offset, true
	k.mu.Unlock()
}

func (k *apiClock) get() (time.Duration, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.offset, k.known
}

// ClockOffset is how far the API's clock is ahead of ours (negative when it
// is behind), as learned from the Date header of its latest answer. ok is
// false until an answer with a Date has come.
func (c *Client) ClockOffset() (offset time.Duration, ok bool) {
	return c.clock.get()
}

// APITime is our moment t on the API's clock: t plus ClockOffset, or t
// itself while no offset is known. Compare it, not t, with created_at and
// updated_at.
func (c *Client) APITime(t time.Time) time.Time {
	offset, _ := c.clock.get()
	return t.Add(offset)
}
