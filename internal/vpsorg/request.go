package vpsorg

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// maxResponseBody bounds how much of a response the client reads.
const maxResponseBody = 16 << 20

var errBodyTooLarge = fmt.Errorf("response body larger than %d bytes", maxResponseBody)

// response is one HTTP answer, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one API request, trying again as the retry policy allows, and
// returns the final answer when it is 2xx. Anything else comes back as an
// *APIError naming op. in, when not nil, is sent as a JSON body.
func (c *Client) do(ctx context.Context, op, method string, u *url.URL, in any) (*response, error) {
	return c.doChecked(ctx, op, method, u, in, nil, nil)
}

// doChecked is do for an answer whose 2xx body must pass check to be
// believed. A 2xx that fails it (a server object lacking a field the
// provider maps, as APIs send during maintenance or from a degraded cache)
// is a failed try: retried like a 5xx where the method allows (GET, PUT,
// PATCH, DELETE), and, for a POST, a request that may have acted.
func (c *Client) doChecked(ctx context.Context, op, method string, u *url.URL, in any, header http.Header, check func([]byte) error) (*response, error) {
	red := redactor(c.token)

	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, &APIError{Operation: op, Err: fmt.Errorf("encoding request: %w", err)}
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, &APIError{Operation: op, Err: &unsendableError{reason: red.text(err.Error())}}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := checkHeader(req.Header); err != nil {
		return nil, &APIError{Operation: op, Method: method, Path: u.EscapedPath(), Err: err}
	}

	x := &exchange{c: c, req: req, body: body, check: check}
	if deadline, ok := ctx.Deadline(); ok {
		x.waitUntil, x.waitLimit = deadline, "the context deadline"
	} else {
		x.waitUntil, x.waitLimit = time.Now().Add(c.maxRateLimitWait), fmt.Sprintf("MaxRateLimitWait (%v)", c.maxRateLimitWait)
	}
	stop := x.run(ctx)

	if stop == nil && x.lastErr == nil && x.last != nil && x.last.status >= 200 && x.last.status <= 299 {
		return x.last, nil
	}
	// The last try's own failure, and what stopped the tries after it (a
	// context that ended, a deadline too near for another try).
	err = x.lastErr
	switch {
	case err == nil:
		err = stop
	case stop != nil:
		err = fmt.Errorf("%w (last attempt: %w)", stop, err)
	}
	if x.last == nil {
		return nil, &APIError{Operation: op, Method: method, Path: u.EscapedPath(), Err: red.err(err), acted: x.acted}
	}
	if x.last.status >= 200 && x.last.status <= 299 {
		// A 2xx that failed its check: its body is no error message.
		return nil, &APIError{Operation: op, StatusCode: x.last.status, Message: "unexpected response body", Err: red.err(err), acted: x.acted}
	}
	apiErr := newAPIError(op, x.last, red.err(err), red)
	apiErr.Method, apiErr.Path = method, u.EscapedPath()
	apiErr.acted = x.acted
	return nil, apiErr
}

// exchange is one do call across its tries.
type exchange struct {
	c    *Client
	req  *http.Request // the request without its body, cloned for each try
	body []byte
	// check, when set, must accept a 2xx body for the answer to count.
	check func([]byte) error

	// waitUntil bounds the waiting for rate limits: the context's
	// deadline, else MaxRateLimitWait from the start. waitLimit names it.
	waitUntil time.Time
	waitLimit string

	attempt   int       // 1-based number of the current try
	retries   int       // retries so far that count against RetryMax
	throttled int       // 429s so far without a Retry-After to hold for
	last      *response // the last try's answer; nil when it had none
	lastErr   error     // why the last try had no usable answer
	acted     bool      // whether some try may have been carried out
}

// run tries until an answer is final. It returns nil when the last try's
// outcome is the whole story, or why no further try was sent.
func (x *exchange) run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return &notSentError{reason: "the context ended before it was sent", err: err}
		}
		if err := x.c.pace.wait(ctx, x.waitUntil, x.waitLimit); err != nil {
			return err
		}
		x.attempt++
		started := time.Now()
		x.send(ctx)
		status := x.status()
		var h http.Header
		if x.last != nil {
			h = x.last.header
		}
		x.c.pace.observe(ctx, started, time.Now(), status, h)
		x.acted = x.acted || mayHaveActed(status, x.lastErr)

		fields := map[string]any{
			"method":      x.req.Method,
			"path":        redactor(x.c.token).text(x.req.URL.Path),
			"attempt":     x.attempt,
			"duration_ms": time.Since(started).Milliseconds(),
		}
		if status != 0 {
			fields["status"] = status
		}
		if x.lastErr != nil {
			fields["error"] = redactor(x.c.token).text(x.lastErr.Error())
		}
		wait, retry, stop := x.next(ctx)
		if retry {
			fields["retry_in_ms"] = wait.Milliseconds()
		}
		if stop != nil {
			fields["no_retry"] = stop.Error()
		}
		x.c.log(ctx, "vpsorg: HTTP request", fields)
		if !retry {
			return stop
		}
		if err := sleep(ctx, wait); err != nil {
			return &notSentError{reason: "the context ended while waiting to retry", err: err}
		}
	}
}

// send makes one try and records its outcome. An answer whose body could
// not be read counts as none.
func (x *exchange) send(ctx context.Context) {
	x.last, x.lastErr = nil, nil
	req := x.req.Clone(ctx)
	if x.body != nil {
		req.Body = io.NopCloser(bytes.NewReader(x.body))
		req.ContentLength = int64(len(x.body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(x.body)), nil }
	}
	sent := time.Now()
	resp, err := x.c.httpClient.Do(req)
	if err != nil {
		x.lastErr = err
		return
	}
	x.c.clock.observe(sent, time.Now(), resp.Header)
	body, err := readBody(resp)
	if err != nil {
		x.lastErr = fmt.Errorf("reading response body: %w", err)
		return
	}
	x.last = &response{status: resp.StatusCode, header: resp.Header, body: body}
	if x.check != nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if err := x.check(body); err != nil {
			x.lastErr = err
		}
	}
}

// status is the last try's HTTP status; 0 when no answer came.
func (x *exchange) status() int {
	if x.last == nil {
		return 0
	}
	return x.last.status
}

// next decides, after a try that was not a usable 2xx, whether to try
// again and after how long. It refuses a retry that could not start before
// the context's deadline: better to return the last answer now than to
// sleep into a certain timeout; stop then says so.
func (x *exchange) next(ctx context.Context) (wait time.Duration, retry bool, stop error) {
	status := x.status()
	if ctx.Err() != nil {
		return 0, false, nil //nolint:nilerr // no retry; the caller reports the context's end with the last try
	}
	if status >= 200 && status <= 299 && x.lastErr == nil {
		return 0, false, nil
	}
	if status == http.StatusTooManyRequests {
		return x.afterRefusal()
	}
	if x.retries >= x.c.retryMax || !retryable(x.req.Method, status, x.lastErr) {
		return 0, false, nil
	}
	x.retries++
	var h http.Header
	if x.last != nil {
		h = x.last.header
	}
	wait = x.c.retryDelay(x.retries, h, time.Now())
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return 0, false, &notSentError{reason: fmt.Sprintf("not retrying: the next try (in %v) would start after the context deadline", wait)}
	}
	return wait, true, nil
}

// afterRefusal decides the retry after a 429. It does not count against
// RetryMax: the API asked the client to slow down, and the pacer does; only
// the deadline (or MaxRateLimitWait) ends the tries. With a Retry-After the
// pacer's hold is the wait; without one, the backoff grows with each 429.
func (x *exchange) afterRefusal() (time.Duration, bool, error) {
	now := time.Now()
	wait := time.Duration(0)
	if d, ok := parseRetryAfter(x.last.header.Get("Retry-After"), now); !ok || d <= 0 {
		x.throttled++
		wait = x.c.retryDelay(x.throttled, nil, now)
	}
	if now.Add(wait).After(x.waitUntil) {
		return 0, false, &notSentError{reason: fmt.Sprintf("rate-limited: the next try (in %v) would start after %s", wait, x.waitLimit)}
	}
	return wait, true, nil
}

// notSentError is a try that was never sent: its context had ended, or
// waiting for it would have passed the context's deadline. Without err it
// matches context.DeadlineExceeded: the caller ran out of time, only a
// little early. Whether the request acted is up to its earlier tries, if
// any (see MayHaveActed).
type notSentError struct {
	reason string
	err    error // the context's error, when it ended
}

func (e *notSentError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

func (e *notSentError) Is(target error) bool {
	return e.err == nil && target == context.DeadlineExceeded
}

func (e *notSentError) Unwrap() error { return e.err }

// unsendableError is a request that can never be sent as built: a header
// value HTTP forbids (a token read from a file with its newline), a URL
// that does not parse. Trying again cannot help, and the API never saw it.
// Its text never holds a header's value.
type unsendableError struct {
	reason string
}

func (e *unsendableError) Error() string { return "the request cannot be sent: " + e.reason }

// checkHeader refuses what net/http would refuse on every try, before any:
// a header name or value HTTP does not allow.
func checkHeader(h http.Header) error {
	for name, values := range h {
		if !httpguts.ValidHeaderFieldName(name) {
			return &unsendableError{reason: fmt.Sprintf("the header name %q is not a valid HTTP token", name)}
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return &unsendableError{reason: fmt.Sprintf("the %s header's value holds a character HTTP forbids "+
					"(a control character, such as a newline)", name)}
			}
		}
	}
	return nil
}

// sleep waits for d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable is the method-aware retry policy (DESIGN.md): whether a try
// that failed this way is worth repeating. A failure that repeating cannot
// fix (a certificate the client does not trust, a body too large) never
// is. GET, PUT, PATCH and DELETE are idempotent (a PUT or PATCH sets the
// values it names, a DELETE of a deleted server answers 404): repeating
// them after a lost answer is harmless, so every transient failure is
// retried, and a 500 too, as often a passing failure (a worker restarted, a
// database failing over) as a 502. A POST is repeated only when the API
// provably did not act on it (MayHaveActed), which a 500 does not show.
func retryable(method string, status int, err error) bool {
	if method == http.MethodPost {
		return transientFailure(status, err) && !mayHaveActed(status, err)
	}
	return transientFailure(status, err) || status == http.StatusInternalServerError
}

// transientFailure reports whether a try's failure may pass by itself: no
// answer (but not a certificate the client does not trust), a body cut off,
// or 429, 502, 503, 504.
func transientFailure(status int, err error) bool {
	if err != nil {
		var notSent *notSentError
		return !isCertError(err) && !errors.Is(err, errBodyTooLarge) && !errors.As(err, &notSent)
	}
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func isCertError(err error) bool {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}

// retryDelay is the wait before the try after attempt (1-based): the
// server's Retry-After when it sent one, capped at MaxRetryAfter; otherwise
// exponential backoff with full jitter in [RetryWaitMin, RetryWaitMin×2^(attempt-1)]
// capped at RetryWaitMax.
func (c *Client) retryDelay(attempt int, h http.Header, now time.Time) time.Duration {
	if h != nil {
		if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
			return min(d, c.maxRetryAfter)
		}
	}
	ceiling := c.retryWaitMin
	for i := 1; i < attempt && ceiling < c.retryWaitMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.retryWaitMax)
	if ceiling <= c.retryWaitMin {
		return c.retryWaitMin
	}
	return c.retryWaitMin + rand.N(ceiling-c.retryWaitMin+1)
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
// A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		const maxSecs = uint64(1<<63-1) / uint64(time.Second)
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > maxSecs { // too many digits: as good as forever
			secs = maxSecs
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponseBody {
		return nil, errBodyTooLarge
	}
	return b, nil
}
