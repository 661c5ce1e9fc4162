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
// Every answer carries a Date header, the API's clock at some moment
// between our sending the request and our receiving the answer, cut to the
// second. So each answer bounds the offset (API time less ours):
//
//	Date − received  ≤  offset  <  Date + 1s − sent
//
// The client keeps the intersection of these bounds over its answers,
// which narrows towards the round trip as answers fall at different
// fractions of a second. A comparison uses the high end: the latest the
// API's clock can be. Moved that way, "since" can only come out later than
// the truth, so a change can be missed (and waited for) but never invented.
// When the bounds include zero the clocks agree as far as the answers can
// tell, and the offset is zero.

// apiClock is what the answers have shown of the API's clock.
type apiClock struct {
	mu     sync.Mutex
	lo, hi time.Duration // the offset's bounds
	known  bool
}

// observe learns from one answer sent at sent and received at received.
// An answer without a parseable Date teaches nothing. Bounds that no
// longer meet (the API's clock was set) start again from this answer.
func (k *apiClock) observe(sent, received time.Time, h http.Header) {
	if h == nil {
		return
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	lo, hi := date.Sub(received), date.Add(time.Second).Sub(sent)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.known && max(k.lo, lo) <= min(k.hi, hi) {
		lo, hi = max(k.lo, lo), min(k.hi, hi)
	}
	k.lo, k.hi, k.known = lo, hi, true
}

// offset is the offset a comparison uses: zero when the bounds include it,
// else their high end.
func (k *apiClock) offset() (time.Duration, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.known || k.lo <= 0 && 0 <= k.hi {
		return 0, k.known
	}
	return k.hi, true
}

// ClockOffset is how far the API's clock is ahead of ours (negative when it
// is behind), as the Date headers of its answers show it: the latest the
// API's clock can be, or zero when the answers cannot tell the clocks
// apart. ok is false until an answer with a Date has come.
func (c *Client) ClockOffset() (offset time.Duration, ok bool) {
	return c.clock.offset()
}

// APITime is our moment t on the API's clock: t plus ClockOffset. Compare
// it, not t, with created_at and updated_at.
func (c *Client) APITime(t time.Time) time.Time {
	offset, _ := c.clock.offset()
	return t.Add(offset)
}
