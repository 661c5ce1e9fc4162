package vpsorg

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// Reading an error body of unknown shape. The body is decoded once into
// generic values and walked; nothing is decoded again per level, so a body
// nested deep costs time in proportion to its size. The walk stops at
// maxErrorDepth levels and after maxErrorItems messages and field messages:
// no error message needs more, and an API that sends more is not talking
// to a person.
const (
	maxErrorDepth = 32
	maxErrorItems = 64
)

// Keys whose values are messages, in order of preference.
var messageKeys = []string{"detail", "message", "error", "error_description", "title"}

// parseErrorBody extracts a message and per-field messages from an error
// body of unknown shape: {"detail"|"message"|"error": "..."}, DRF's
// {"field": ["..."], "non_field_errors": [...]}, {"errors": {"field": [...]}},
// {"errors": [{"field": ..., "message": ...}]}, or anything else as raw text.
func parseErrorBody(body []byte) (string, map[string][]string) {
	return parseErrorBodyMasked(body, "")
}

// parseErrorBodyMasked is parseErrorBody that masks red in every text
// before cutting it, so that no part of a token echoed near a cut shows.
func parseErrorBodyMasked(body []byte, red redactor) (string, map[string][]string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", nil
	}
	p := errorParts{fields: map[string][]string{}, red: red}

	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) == nil {
		switch v := v.(type) {
		case map[string]any:
			p.fromObject(v)
		case []any:
			p.fromList("", v, 0)
		}
	}

	msg := strings.Join(p.messages, "; ")
	if msg == "" && len(p.fields) == 0 {
		msg = p.text(string(body))
	}
	if len(p.fields) == 0 {
		p.fields = nil
	}
	return cut(msg, maxMessageLen), p.fields
}

type errorParts struct {
	messages []string
	fields   map[string][]string
	items    int
	red      redactor
}

// text masks the token, then cuts: in that order, a token cut in two
// cannot escape the mask.
func (p *errorParts) text(s string) string {
	return truncate(p.red.text(strings.TrimSpace(s)))
}

func (p *errorParts) full() bool { return p.items >= maxErrorItems }

func (p *errorParts) message(s string) {
	if s = p.text(s); s != "" && !p.full() {
		p.items++
		p.messages = append(p.messages, s)
	}
}

func (p *errorParts) add(field, msg string) {
	if field == "" {
		p.message(msg)
		return
	}
	if msg = p.text(msg); msg != "" && !p.full() {
		p.items++
		name := p.text(field)
		p.fields[name] = append(p.fields[name], msg)
	}
}

func (p *errorParts) fromObject(obj map[string]any) {
	for _, k := range messageKeys {
		if s := textOf(obj[k]); s != "" {
			p.message(s)
			break
		}
	}
	// FastAPI-style {"detail": [{"loc": [...], "msg": "..."}]}.
	if l, ok := obj["detail"].([]any); ok && textOf(obj["detail"]) == "" {
		p.fromList("", l, 1)
	}
	if s := textOf(obj["non_field_errors"]); s != "" {
		p.message(s)
	}

	if raw, ok := obj["errors"]; ok {
		switch v := raw.(type) {
		case map[string]any:
			p.fromFieldMap("", v, true, 1)
		case []any:
			p.fromList("", v, 1)
		default:
			if s := textOf(raw); s != "" && len(p.messages) == 0 {
				p.message(s)
			}
		}
	}

	// DRF puts field errors at the top level: {"name": ["..."]}.
	rest := make(map[string]any, len(obj))
	for k, v := range obj {
		if slices.Contains(messageKeys, k) || k == "errors" || k == "non_field_errors" {
			continue
		}
		rest[k] = v
	}
	p.fromFieldMap("", rest, false, 1)
}

// fromFieldMap reads {"field": ["msg", ...]}, nesting with dotted names.
// Plain string values ({"field": "msg"}) count only when plain is set: inside
// an "errors" map nothing else is expected, while at the top level a string
// is more likely "code" or "status" than a field error. Numbers and booleans
// are never field errors.
func (p *errorParts) fromFieldMap(prefix string, m map[string]any, plain bool, depth int) {
	if depth > maxErrorDepth {
		return
	}
	for k, v := range m {
		if p.full() {
			return
		}
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if k == "non_field_errors" {
			if s := textOf(v); s != "" {
				p.message(s)
			}
			continue
		}
		switch v := v.(type) {
		case string:
			if plain {
				p.add(name, v)
			}
		case map[string]any:
			p.fromFieldMap(name, v, plain, depth+1)
		case []any:
			if strs, ok := allStrings(v); ok && len(strs) > 0 {
				for _, s := range strs {
					p.add(name, s)
				}
			} else {
				p.fromList(name, v, depth+1)
			}
		}
	}
}

// fromList reads a list of messages: strings, or objects naming a field
// ("field", "param", "attr", "loc" or "path") and a message ("message",
// "msg" or "detail"). field is the name to use for items that name none.
func (p *errorParts) fromList(field string, l []any, depth int) {
	if depth > maxErrorDepth {
		return
	}
	for _, raw := range l {
		if p.full() {
			return
		}
		if s, ok := raw.(string); ok {
			p.add(field, s)
			continue
		}
		item, ok := raw.(map[string]any)
		if !ok {
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

// allStrings returns l as strings when every item is one.
func allStrings(l []any) ([]string, bool) {
	out := make([]string, 0, len(l))
	for _, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// textOf returns a JSON string, a list of strings joined with "; ", or the
// "message"/"detail" string of an object (e.g. {"error": {"message": ...}}).
func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case []any:
		if strs, ok := allStrings(v); ok {
			return strings.TrimSpace(strings.Join(strs, "; "))
		}
	case map[string]any:
		for _, k := range []string{"message", "detail"} {
			if s, ok := v[k].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

// nameOf returns a field name given as a string or as a path list
// (["body", "name"] → "name"; ["plan", "id"] → "plan.id").
func nameOf(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimPrefix(strings.TrimSpace(v), "/")
	case []any:
		var names []string
		for i, part := range v {
			switch part := part.(type) {
			case string:
				if i == 0 && (part == "body" || part == "query" || part == "path") && len(v) > 1 {
					continue // FastAPI's location prefix
				}
				names = append(names, part)
			case json.Number:
				names = append(names, part.String())
			}
		}
		return strings.Join(names, ".")
	}
	return ""
}

// truncate cuts s to at most maxMessageLen bytes; see cut.
func truncate(s string) string { return cut(s, maxMessageLen) }

// cut cuts s to at most n bytes at a rune boundary, marking the cut with
// "…", and replaces invalid UTF-8.
func cut(s string, n int) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if len(s) <= n {
		return s
	}
	const mark = "…"
	c := n - len(mark)
	for c > 0 && !utf8.RuneStart(s[c]) {
		c--
	}
	return s[:c] + mark
}
