package vpsorg

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

// ErrNotFound matches (errors.Is) an *APIError for an HTTP 404.
var ErrNotFound = errors.New("not found")

// maxMessageLen caps every message taken from a response body.
const maxMessageLen = 512

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
	return b.String()
}

// Is reports whether target is ErrNotFound and this is a 404.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
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
// sending, a 5xx, a 408, a 2xx whose body could not be read or used, a
// context that ended while the request was in flight. It is false when the
// request provably did not act: it never reached the API (connection
// refused, DNS failure, a TLS certificate the client does not trust), it
// was never sent (the context had ended, or waiting out a rate limit would
// have passed its deadline), or the API refused it with a 4xx other than
// 408 (429 included). A request tried several times may have acted when any
// of its tries may have. A nil err is no failure: false.
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
	}
	return true // a 2xx the client could not use, or an unexpected 1xx or 3xx
}

// neverSent reports whether err says the request never reached the API.
func neverSent(err error) bool {
	var notSent *notSentError
	var dnsErr *net.DNSError
	return errors.As(err, &notSent) || errors.As(err, &dnsErr) ||
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

// newAPIError builds the error for a non-2xx answer.
func newAPIError(op string, r *response, err error, red redactor) *APIError {
	msg, fields := parseErrorBody(r.body)
	e := &APIError{
		Operation:  op,
		StatusCode: r.status,
		Message:    red.text(msg),
		Err:        err,
	}
	if r.header != nil {
		e.RetryAfter = r.header.Get("Retry-After")
	}
	if len(fields) > 0 {
		e.Fields = make(map[string][]string, len(fields))
		for k, vs := range fields {
			for _, v := range vs {
				e.Fields[red.text(k)] = append(e.Fields[red.text(k)], red.text(v))
			}
		}
	}
	return e
}

// Keys whose values are messages, in order of preference.
var messageKeys = []string{"detail", "message", "error", "error_description", "title"}

// parseErrorBody extracts a message and per-field messages from an error
// body of unknown shape: {"detail"|"message"|"error": "..."}, DRF's
// {"field": ["..."], "non_field_errors": [...]}, {"errors": {"field": [...]}},
// {"errors": [{"field": ..., "message": ...}]}, or anything else as raw text.
func parseErrorBody(body []byte) (string, map[string][]string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", nil
	}
	p := errorParts{fields: map[string][]string{}}

	var obj map[string]json.RawMessage
	var list []json.RawMessage
	switch {
	case json.Unmarshal(body, &obj) == nil && obj != nil:
		p.fromObject(obj)
	case json.Unmarshal(body, &list) == nil:
		p.fromList("", list)
	}

	msg := strings.Join(p.messages, "; ")
	if msg == "" && len(p.fields) == 0 {
		msg = string(body)
	}
	if len(p.fields) == 0 {
		p.fields = nil
	}
	return truncate(msg), p.fields
}

type errorParts struct {
	messages []string
	fields   map[string][]string
}

func (p *errorParts) fromObject(obj map[string]json.RawMessage) {
	for _, k := range messageKeys {
		if s := textOf(obj[k]); s != "" {
			p.messages = append(p.messages, s)
			break
		}
	}
	// FastAPI-style {"detail": [{"loc": [...], "msg": "..."}]}.
	var detailList []json.RawMessage
	if json.Unmarshal(obj["detail"], &detailList) == nil && textOf(obj["detail"]) == "" {
		p.fromList("", detailList)
	}
	if s := textOf(obj["non_field_errors"]); s != "" {
		p.messages = append(p.messages, s)
	}

	if raw, ok := obj["errors"]; ok {
		var m map[string]json.RawMessage
		var l []json.RawMessage
		switch {
		case json.Unmarshal(raw, &m) == nil && m != nil:
			p.fromFieldMap("", m, true)
		case json.Unmarshal(raw, &l) == nil:
			p.fromList("", l)
		default:
			if s := textOf(raw); s != "" && len(p.messages) == 0 {
				p.messages = append(p.messages, s)
			}
		}
	}

	// DRF puts field errors at the top level: {"name": ["..."]}.
	rest := make(map[string]json.RawMessage, len(obj))
	for k, v := range obj {
		if slices.Contains(messageKeys, k) || k == "errors" || k == "non_field_errors" {
			continue
		}
		rest[k] = v
	}
	p.fromFieldMap("", rest, false)
}

// fromFieldMap reads {"field": ["msg", ...]}, nesting with dotted names.
// Plain string values ({"field": "msg"}) count only when plain is set: inside
// an "errors" map nothing else is expected, while at the top level a string
// is more likely "code" or "status" than a field error. Numbers and booleans
// are never field errors.
func (p *errorParts) fromFieldMap(prefix string, m map[string]json.RawMessage, plain bool) {
	for k, raw := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if k == "non_field_errors" {
			if s := textOf(raw); s != "" {
				p.messages = append(p.messages, s)
			}
			continue
		}
		var str string
		var strs []string
		var sub map[string]json.RawMessage
		var l []json.RawMessage
		switch {
		case plain && json.Unmarshal(raw, &str) == nil:
			p.add(name, str)
		case json.Unmarshal(raw, &strs) == nil && len(strs) > 0:
			for _, s := range strs {
				if s = strings.TrimSpace(s); s != "" {
					p.fields[name] = append(p.fields[name], truncate(s))
				}
			}
		case json.Unmarshal(raw, &sub) == nil && sub != nil:
			p.fromFieldMap(name, sub, plain)
		case json.Unmarshal(raw, &l) == nil:
			p.fromList(name, l)
		}
	}
}

// fromList reads a list of messages: strings, or objects naming a field
// ("field", "param", "attr", "loc" or "path") and a message ("message",
// "msg" or "detail"). field is the name to use for items that name none.
func (p *errorParts) fromList(field string, l []json.RawMessage) {
	for _, raw := range l {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p.add(field, s)
			continue
		}
		var item map[string]json.RawMessage
		if json.Unmarshal(raw, &item) != nil || item == nil {
			continue
		}
		msg := ""
		for _, k := range []string{"message", "msg", "detail", "error"} {
			if msg = textOf(item[k]); msg != "" {
				break
			}
		}
		name := field
		for _, k := range []string{"field", "param", "attr", "loc", "path"} {
			if n := nameOf(item[k]); n != "" {
				name = n
				break
			}
		}
		p.add(name, msg)
	}
}

func (p *errorParts) add(field, msg string) {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return
	}
	if field == "" {
		p.messages = append(p.messages, msg)
		return
	}
	p.fields[field] = append(p.fields[field], truncate(msg))
}

// textOf returns a JSON string, a list of strings joined with "; ", or the
// "message"/"detail" string of an object (e.g. {"error": {"message": ...}}).
func textOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strings.TrimSpace(strings.Join(strs, "; "))
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"message", "detail"} {
			if json.Unmarshal(obj[k], &s) == nil && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

// nameOf returns a field name given as a string or as a path list
// (["body", "name"] → "name"; ["plan", "id"] → "plan.id").
func nameOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimPrefix(strings.TrimSpace(s), "/")
	}
	var parts []any
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var names []string
	for i, part := range parts {
		switch v := part.(type) {
		case string:
			if i == 0 && (v == "body" || v == "query" || v == "path") && len(parts) > 1 {
				continue // FastAPI's location prefix
			}
			names = append(names, v)
		case float64:
			names = append(names, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	return strings.Join(names, ".")
}

// truncate cuts s to at most maxMessageLen bytes at a rune boundary, marking
// the cut with "…", and replaces invalid UTF-8.
func truncate(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if len(s) <= maxMessageLen {
		return s
	}
	const mark = "…"
	cut := maxMessageLen - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
