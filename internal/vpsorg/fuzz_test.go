package vpsorg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecodeServer(f *testing.F) {
	for _, seed := range []string{detailJSON, createdJSON, `{}`, `null`, `[]`, `{"id": 1, "hostname": null, "plan": null}`, `{"id": "1"}`, ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeServer(body)
		if err == nil && (s == nil || s.ID == 0) {
			t.Errorf("decodeServer(%q) = %+v without error", body, s)
		}
	})
}

func FuzzDecodeList(f *testing.F) {
	for _, seed := range []string{listJSON, `{"count": 0, "next": null, "results": []}`, `{"count": 9, "next": "?page=2", "results": [{"id": 1}]}`, `[]`, `{}`, `null`, ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := decodeList(body)
		if err == nil && page.next != strings.TrimSpace(page.next) {
			t.Errorf("next %q not trimmed", page.next)
		}
	})
}

func FuzzParseError(f *testing.F) {
	for _, seed := range []string{
		`{"detail": "Invalid parameters.", "errors": {"name": ["must be alphanumeric"]}}`,
		`{"name": ["This field is required."], "non_field_errors": ["x"]}`,
		`{"errors": [{"field": "name", "message": "too long"}]}`,
		`{"error": {"message": "Too many requests"}}`,
		`{"detail": [{"loc": ["body", "name"], "msg": "field required"}]}`,
		`<html>502</html>`, ``, `null`, `[1, {"a": [2]}]`, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, fields := parseErrorBody(body)
		if len(msg) > maxMessageLen || !utf8.ValidString(msg) {
			t.Errorf("message of %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
		}
		for k, vs := range fields {
			if len(vs) == 0 {
				t.Errorf("field %q without messages", k)
			}
			for _, v := range vs {
				if len(v) > maxMessageLen {
					t.Errorf("field %q message of %d bytes", k, len(v))
				}
			}
		}
		e := &APIError{Operation: "op", StatusCode: 400, Message: msg, Fields: fields}
		_ = e.Error()
	})
}
