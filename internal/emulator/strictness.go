package emulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Two behaviours of real APIs that the documented one does not promise,
// for tests and pipelines that want to see a client cope with them: answers
// that say how much of the rate limit is left, and a list that refuses
// filter values the documentation does not name.

// Rate-limit header families for Options.RateLimitHeaders.
const (
	// RateLimitHeadersNone sends no rate-limit headers (the documented API).
	RateLimitHeadersNone = ""
	// RateLimitHeadersFields sends RateLimit-Limit, RateLimit-Remaining and
	// RateLimit-Reset (seconds until the budget is whole again).
	RateLimitHeadersFields = "ratelimit"
	// RateLimitHeadersDraft sends the IETF httpapi draft's structured
	// fields: RateLimit-Policy: "default";q=LIMIT;w=WINDOW and
	// RateLimit: "default";r=REMAINING;t=RESET.
	RateLimitHeadersDraft = "draft"
	// RateLimitHeadersX sends X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (the Unix time, in seconds, when the budget is
	// whole again), as GitHub does.
	RateLimitHeadersX = "x-ratelimit"
)

// RateLimitHeaderFamilies lists the values Options.RateLimitHeaders takes.
var RateLimitHeaderFamilies = []string{RateLimitHeadersNone, RateLimitHeadersFields, RateLimitHeadersDraft, RateLimitHeadersX}

// documentedFilters are the status filter values the API documents.
var documentedFilters = map[string]bool{StatusActive: true, StatusStopped: true, StatusSuspended: true}

// SetStrictness sets Options.RateLimitHeaders (one of
// RateLimitHeaderFamilies; anything else is none) and Options.StrictFilters
// from now on.
func (e *Emulator) SetStrictness(rateLimitHeaders string, strictFilters bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rateLimitHeaders, e.strictFilters = rateLimitHeaders, strictFilters
}

// refuseFilter reports the 400 a strict emulator answers a list with an
// undocumented status filter value; nil when the list may go on.
func (e *Emulator) refuseFilter(status string) *apiError {
	e.mu.Lock()
	strict := e.strictFilters
	e.mu.Unlock()
	if !strict || status == "" || documentedFilters[status] {
		return nil
	}
	return invalid(fieldErrors{"status": {fmt.Sprintf("Select a valid choice. %s is not one of the available choices.", status)}})
}

// budget is what is left of an account's rate limit after its request: the
// bucket's size, whole tokens left, and when it will be full again.
type budget struct {
	limit     int
	remaining int
	full      time.Duration // until the bucket is full again
	window    time.Duration // the time the whole bucket takes to refill
}

// writeRateLimitHeaders sets the chosen family's headers on an answer.
func (e *Emulator) writeRateLimitHeaders(h http.Header, b budget, now time.Time) {
	secs := func(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }
	limit, remaining := strconv.Itoa(b.limit), strconv.Itoa(b.remaining)
	e.mu.Lock()
	family := e.rateLimitHeaders
	e.mu.Unlock()
	switch family {
	case RateLimitHeadersFields:
		h.Set("RateLimit-Limit", limit)
		h.Set("RateLimit-Remaining", remaining)
		h.Set("RateLimit-Reset", strconv.FormatInt(secs(b.full), 10))
	case RateLimitHeadersDraft:
		h.Set("RateLimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, b.limit, max(secs(b.window), 1)))
		h.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, b.remaining, secs(b.full)))
	case RateLimitHeadersX:
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(now.Add(b.full).UnixNano())/1e9)), 10))
	}
}
