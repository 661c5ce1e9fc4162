package vpsorg

import (
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
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxResponseBody bounds how much of a response the client reads.
const maxResponseBody = 16 << 20

var errBodyTooLarge = fmt.Errorf("response body larger than %d bytes", maxResponseBody)

// response is a fully read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one API request with retries and returns the final answer when
// it is 2xx. Anything else comes back as an *APIError naming op. in, when not
// nil, is sent as a JSON body.
func (c *Client) do(ctx context.Context, op, method string, u *url.URL, in any, header http.Header) (*response, error) {
	red := redactor(c.token)

	var body any // untyped nil: no body at all
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, &APIError{Operation: op, Err: fmt.Errorf("encoding request: %w", err)}
		}
		body = b
	}

	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, &APIError{Operation: op, Err: red.err(err)}
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

	x := &exchange{c: c, method: method, path: u.Path}
	rc := &retryablehttp.Client{
		HTTPClient:     c.httpClient,
		Logger:         nil, // silence retryablehttp; attempts are reported through c.Log
		RetryMax:       c.retryMax,
		RetryWaitMin:   c.retryWaitMin,
		RetryWaitMax:   c.retryWaitMax,
		RequestLogHook: x.beforeAttempt,
		CheckRetry:     x.checkRetry,
		Backoff:        x.backoff,
		// Hand back the last response instead of retryablehttp's generic
		// "giving up after N attempts": the caller wants its status and
		// message. checkRetry has already read and closed every body.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, doErr := rc.Do(req)
	if resp != nil {
		resp.Body.Close()
	}

	// x holds the outcome of the last attempt. doErr adds what happened
	// after it: a context that ended while waiting to retry.
	if x.deadlineStop && doErr == nil {
		doErr = &retryPastDeadlineError{wait: x.wait}
	}
	last := x.last
	if last == nil {
		err := x.lastErr
		switch {
		case err == nil:
			err = doErr
		case doErr != nil && !errors.Is(doErr, err):
			err = fmt.Errorf("%w (last attempt: %w)", doErr, err)
		}
		if err == nil {
			err = errors.New("no response")
		}
		return nil, &APIError{Operation: op, Err: red.err(err)}
	}
	if last.status >= 200 && last.status <= 299 && doErr == nil {
		return last, nil
	}
	return nil, newAPIError(op, last, red.err(doErr), red)
}

// retryPastDeadlineError says a retry was called off because it could not
// start before the context's deadline. It matches context.DeadlineExceeded:
// the caller ran out of time, only a little early.
type retryPastDeadlineError struct {
	wait time.Duration
}

func (e *retryPastDeadlineError) Error() string {
	return fmt.Sprintf("not retrying: the next try (in %v) would start after the context deadline", e.wait)
}

func (e *retryPastDeadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// exchange is the state of one do call across its attempts. retryablehttp
// calls its methods from the goroutine running Do, one attempt at a time.
type exchange struct {
	c      *Client
	method string
	path   string

	attempt int       // 1-based number of the current attempt
	started time.Time // when the current attempt began
	last    *response // the current attempt's answer, nil when it had none
	lastErr error     // why the current attempt had no usable answer
	wait    time.Duration

	// deadlineStop is set when a retry was called off because its wait
	// would pass the context's deadline.
	deadlineStop bool
}

func (x *exchange) beforeAttempt(_ retryablehttp.Logger, _ *http.Request, i int) {
	x.attempt = i + 1
	x.started = time.Now()
}

// checkRetry reads the attempt's answer and decides, by method, whether to
// try again. It also computes the wait (handed to retryablehttp through
// backoff) so that it can refuse a retry that could not start before the
// context's deadline: better to return the last answer now than to sleep
// into a certain timeout.
func (x *exchange) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	duration := time.Since(x.started)
	x.last, x.lastErr, x.wait, x.deadlineStop = nil, nil, 0, false

	if err == nil && resp != nil {
		body, rerr := readBody(resp)
		if rerr != nil {
			err = fmt.Errorf("reading response body: %w", rerr)
		} else {
			x.last = &response{status: resp.StatusCode, header: resp.Header, body: body}
		}
	}
	if err != nil {
		x.lastErr = err
	}

	status := 0
	if x.last != nil {
		status = x.last.status
	}
	retry := ctx.Err() == nil && x.attempt <= x.c.retryMax && retryable(x.method, status, err)
	stop := ""
	if retry {
		var h http.Header
		if x.last != nil {
			h = x.last.header
		}
		x.wait = x.c.retryDelay(x.attempt, h, time.Now())
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < x.wait {
			retry, stop = false, "context deadline before next try"
			x.deadlineStop = true
		}
	}

	fields := map[string]any{
		"method":      x.method,
		"path":        redactor(x.c.token).text(x.path),
		"attempt":     x.attempt,
		"duration_ms": duration.Milliseconds(),
	}
	if status != 0 {
		fields["status"] = status
	}
	if err != nil {
		fields["error"] = redactor(x.c.token).text(err.Error())
	}
	if retry {
		fields["retry_in_ms"] = x.wait.Milliseconds()
	}
	if stop != "" {
		fields["no_retry"] = stop
	}
	x.c.log(ctx, "vpsorg: HTTP request", fields)

	return retry, nil
}

func (x *exchange) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	return x.wait
}

// retryable is the method-aware retry policy (DESIGN.md). GET, PUT, PATCH
// and DELETE are idempotent: repeating them after a lost answer is harmless.
// A POST is repeated only when the server provably did not act on it: 429,
// or a refused connection.
func retryable(method string, status int, err error) bool {
	idempotent := method != http.MethodPost
	if err != nil {
		if isCertError(err) || errors.Is(err, errBodyTooLarge) {
			return false // will not fix itself
		}
		if idempotent {
			return true
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idempotent
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
