package emulator

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"time"
)

// Fault makes the emulator answer matching requests with a failure, to test
// how a client copes with an unreliable API or network.
type Fault struct {
	// Method and Route select the requests hit; Route is one of the Route*
	// templates. An empty Method or Route matches any.
	Method string `json:"method,omitempty"`
	Route  string `json:"route,omitempty"`
	// Count is how many matching requests the fault hits; less than 1
	// counts as 1.
	Count int `json:"count,omitempty"`
	// Status is the status to answer, e.g. 429, 500, 502 or 503.
	Status int `json:"status,omitempty"`
	// RetryAfter, if non-empty, is sent as the Retry-After header.
	RetryAfter string `json:"retry_after,omitempty"`
	// Body is the answer's body; default a JSON error in the emulator's
	// format. It is sent as application/json if it is valid JSON, else as
	// text/plain.
	Body string `json:"body,omitempty"`
	// AfterAction processes the request normally first (a create does
	// create the server), then answers Status instead of the real answer:
	// an ambiguous failure.
	AfterAction bool `json:"after_action,omitempty"`
	// DropConnection closes the connection instead of answering (after
	// acting, with AfterAction). It needs a real connection, as with Start
	// or httptest.NewServer; without one the handler aborts with
	// http.ErrAbortHandler.
	DropConnection bool `json:"drop_connection,omitempty"`
}

type activeFault struct {
	Fault
	remaining int
}

// InjectFault adds a fault. Faults are tried in the order injected; each
// request consumes at most one.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &activeFault{Fault: f, remaining: max(f.Count, 1)})
}

// ClearFaults removes every fault hook: pending injected faults, latency and
// the rate limit.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
	e.latency = 0
	e.rate, e.burst = 0, 0
	e.buckets = map[string]*bucket{}
}

func (e *Emulator) takeFault(method, route string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if (f.Method == "" || f.Method == method) && (f.Route == "" || f.Route == route) {
			f.remaining--
			if f.remaining <= 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
			return f.Fault, true
		}
	}
	return e.drawChaos()
}

// markFault records in the request log that a fault answered the request.
func (e *Emulator) markFault(entry *Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	entry.Fault = true
}

func writeFault(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body == "" {
		text := http.StatusText(status)
		if text == "" {
			text = "Injected fault"
		}
		writeJSON(w, status, errorBody{Detail: text + "."})
		return
	}
	if json.Valid([]byte(f.Body)) {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(f.Body))
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// SetLatency adds d to every request from now on (0 removes it). A request
// whose client gives up while waiting is not processed.
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = max(d, 0)
}

// Latency is the delay SetLatency added to every request.
func (e *Emulator) Latency() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.latency
}

// sleep waits out the latency, reporting false if the client went away.
func (e *Emulator) sleep(ctx context.Context) bool {
	e.mu.Lock()
	d := e.latency
	e.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// bucket is one account's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// SetRateLimit limits each account to perSecond requests on average, with
// bursts of up to burst (at least 1). Requests over it answer 429 with
// Retry-After in whole seconds, at least 1. perSecond <= 0 disables it.
// Buckets refill by the emulator's clock (Options.Now); they start full.
func (e *Emulator) SetRateLimit(perSecond float64, burst int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rate, e.burst = perSecond, max(burst, 1)
	if perSecond <= 0 || math.IsNaN(perSecond) {
		e.rate, e.burst = 0, 0
	}
	e.buckets = map[string]*bucket{}
}

// throttle takes a token from the account's bucket, or reports how many
// seconds to wait. It also says what is left of the bucket, for the
// rate-limit headers (valid when the limit is on).
func (e *Emulator) throttle(account string) (int, bool, budget, bool) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rate <= 0 {
		return 0, false, budget{}, false
	}
	b, ok := e.buckets[account]
	if !ok {
		b = &bucket{tokens: float64(e.burst), last: now}
		e.buckets[account] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(e.burst), b.tokens+elapsed*e.rate)
		b.last = now
	}
	limited := b.tokens < 1
	if !limited {
		b.tokens--
	}
	left := budget{
		limit:     e.burst,
		remaining: int(math.Floor(b.tokens)),
		full:      seconds((float64(e.burst) - b.tokens) / e.rate),
		window:    seconds(float64(e.burst) / e.rate),
	}
	if !limited {
		return 0, false, left, true
	}
	wait := math.Ceil((1 - b.tokens) / e.rate)
	if wait < 1 || math.IsNaN(wait) {
		wait = 1
	}
	if wait > 1<<20 {
		wait = 1 << 20
	}
	return int(wait), true, left, true
}

// seconds turns a float of seconds into a Duration, bounded.
func seconds(s float64) time.Duration {
	return time.Duration(math.Min(math.Max(s, 0), 1<<30) * float64(time.Second))
}
