package vpsorg

import (
	"errors"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrNotFound matches (errors.Is) an *APIError for an HTTP 404.
var ErrNotFound = errors.New("not found")

// maxMessageLen caps every message taken from a response body, and
// maxErrorLen a whole error message.
const (
	maxMessageLen = 512
	maxErrorLen   = 4 << 10
)

// APIError is a failed API call: either the API answered with a non-2xx
// status (or a 2xx body the client cannot use), or no answer arrived.
type APIError struct {
	// Operation names the call, e.g. "create server" or "get server 12345".
	Operation string
	// Method and Path are the request's HTTP method and URL path, e.g.
	// "GET" and "/api/v1/servers/12345/": with them a message shows which
	// URL answered, so that an endpoint with a wrong base path is seen as
	// such. Empty when the error arose before a request was built.
	Method, Path string
	// StatusCode is the HTTP status of the last answer; 0 when none came
	// (then Err says why).
	StatusCode int
	// Message is the API's own message ("detail", "message" or "error",
	// or non_field_errors joined), else the raw body cut to 512 bytes.
	Message string
	// Fields holds per-field messages, keyed by field name.
	Fields map[string][]string
	// RetryAfter is the Retry-After header of the last answer, if any.
	RetryAfter string
	// Err is the underlying error: a transport or decoding failure, or the
	// context's error when it ended between retries. Never contains the
	// token.
	Err error

	// acted is set by the client when some try of the request may have
	// been carried out, even if the last one provably was not.
	acted bool
	// notAPI marks a 404 whose body is not the API's JSON (a proxy's
	// page): it does not match ErrNotFound.
	notAPI bool
}

// Error reads like "create server: HTTP 400 Bad Request: Invalid parameters.
// (name: must be ...)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		if text := http.StatusText(e.StatusCode); text != "" {
			b.WriteString(" ")
			b.WriteString(text)
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		if len(e.Fields) > 0 {
			b.WriteString(" (")
			b.WriteString(formatFields(e.Fields))
			b.WriteString(")")
		}
		if e.Err != nil {
			b.WriteString("; ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return cut(b.String(), maxErrorLen)
}

// Is reports whether target is ErrNotFound and this is a 404 whose body is
// the API's JSON: a proxy's HTML 404 says nothing about the server.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound && !e.notAPI
}

// Unwrap returns the underlying error.
func (e *APIError) Unwrap() error { return e.Err }

// MayHaveActed reports whether a request that failed with err may still
// have been carried out by the API: a server created, started, deleted. It
// is the client's one answer to "did the request act?", used by its own
// retry policy (a POST is repeated only when it did not) and by callers
// deciding whether to look for the effect of a failed request.
//
// It is true when the request reached the API, or may have, and no answer
// says it was refused: no answer at all or a connection dropped after
// sending, a 5xx, a 408, a 303 See Other (by RFC 9110 the request was
// carried out, its result elsewhere), a 2xx whose body could not be read
// or used, a context that ended while the request was in flight. It is false when the
// request provably did not act: it never reached the API (connection
// refused, DNS failure, a TLS certificate the client does not trust), it
// was never sent (the context had ended, or waiting out a rate limit would
// have passed its deadline, or HTTP forbids it as built), the API refused
// it with a 4xx other than 408 (429 included), or answered it with another
// redirect (3xx), which the client does not follow. A request tried
// several times may have acted when any of its tries may have. A nil err
// is no failure: false.
func MayHaveActed(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.acted || mayHaveActed(apiErr.StatusCode, apiErr.Err)
	}
	return mayHaveActed(0, err)
}

// mayHaveActed is MayHaveActed for one try: its answer's status (0 when
// none came) and err, why it had no usable answer.
func mayHaveActed(status int, err error) bool {
	switch {
	case status == 0:
		return !neverSent(err)
	case status == http.StatusRequestTimeout, status >= 500:
		return true
	case status >= 400:
		return false
	case status == http.StatusSeeOther:
		return true // the request was carried out; its result is elsewhere
	case status >= 300:
		return false // a redirect: the API did not carry the request out here, and the client follows none
	}
	return true // a 2xx the client could not use, or an unexpected 1xx
}

// neverSent reports whether err says the request never reached the API.
func neverSent(err error) bool {
	var notSent *notSentError
	var unsendable *unsendableError
	var dnsErr *net.DNSError
	return errors.As(err, &notSent) || errors.As(err, &unsendable) || errors.As(err, &dnsErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || isCertError(err)
}

func formatFields(fields map[string][]string) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, name+": "+strings.Join(fields[name], ", "))
	}
	return strings.Join(parts, "; ")
}

// newAPIError builds the error for a non-2xx answer. The body is parsed
// once, and the token masked in every text before any is cut.
func newAPIError(op string, r *response, err error, red redactor) *APIError {
	msg, fields := parseErrorBodyMasked(r.body, red)
	e := &APIError{
		Operation:  op,
		StatusCode: r.status,
		Message:    msg,
		Fields:     fields,
		Err:        err,
	}
	if r.header != nil {
		e.RetryAfter = r.header.Get("Retry-After")
	}
	if r.status == http.StatusNotFound && !apiShaped(r.body) {
		e.notAPI = true
	}
	if r.status >= 300 && r.status <= 399 {
		loc := "(none)"
		if r.header != nil && r.header.Get("Location") != "" {
			loc = truncate(red.text(r.header.Get("Location")))
		}
		e.Message = "the API answered with a redirect to " + loc + ", which is not followed: " +
			"the token would go with it, and the API documents no redirects. Check the provider's endpoint"
		if r.status == http.StatusSeeOther {
			e.Message = "the API carried the request out and pointed to its result at " + loc + ", which is not followed: " +
				"the token would go with it, and the API documents no redirects. Check the provider's endpoint"
		}
		e.Fields = nil
	}
	return e
}
