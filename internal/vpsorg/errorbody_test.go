package vpsorg

import (
	"fmt"
	"strings"
	"testing"
)

func TestNewAPIError_MasksTheTokenBeforeCuttingTheMessage(t *testing.T) {
	// The token straddles the 512-byte cut: cut first, its first half
	// would show.
	for _, body := range []string{
		`{"detail": "` + strings.Repeat("x", 500) + testToken + `"}`,
		strings.Repeat("x", 500) + testToken, // raw text
		`{"errors": {"name": ["` + strings.Repeat("x", 500) + testToken + `"]}}`,
	} {
		e := newAPIError("get server 1", &response{status: 400, body: []byte(body)}, nil, redactor(testToken))
		if msg := e.Error(); strings.Contains(msg, testToken[:6]) {
			t.Errorf("part of the token shows: %q", msg)
		}
	}
}

func TestAPIError_TheWholeMessageIsBounded(t *testing.T) {
	var fields []string
	for i := range 2000 {
		fields = append(fields, fmt.Sprintf(`"field%d": ["%s"]`, i, strings.Repeat("y", 400)))
	}
	body := `{"detail": "Invalid.", "errors": {` + strings.Join(fields, ",") + `}}`
	e := newAPIError("create server", &response{status: 400, body: []byte(body)}, nil, "")
	if n := len(e.Error()); n > maxErrorLen {
		t.Errorf("the message has %d bytes, want at most %d", n, maxErrorLen)
	}
	if !strings.HasPrefix(e.Error(), "create server: HTTP 400 Bad Request: Invalid.") {
		t.Errorf("the message lost its head: %.100q", e.Error())
	}
}

// nestedErrorBody is about size bytes of error body nested depth levels deep.
func nestedErrorBody(depth, size int) []byte {
	filler := strings.Repeat("x", size/depth)
	var b strings.Builder
	b.WriteString(`{"detail": "Huge.", "errors": `)
	for range depth {
		fmt.Fprintf(&b, `{"note": %q, "field": `, filler)
	}
	b.WriteString(`["too deep"]`)
	b.WriteString(strings.Repeat("}", depth+1))
	return []byte(b.String())
}

func TestParseErrorBody_ADeepBodyGivesItsMessageAndStopsAtTheDepthBound(t *testing.T) {
	msg, fields := parseErrorBody(nestedErrorBody(200, 1<<20))
	if msg != "Huge." {
		t.Errorf("message = %q", msg)
	}
	for name := range fields {
		if depth := strings.Count(name, ".") + 1; depth > maxErrorDepth+1 {
			t.Errorf("field %s is %d levels deep, past the bound", name[:40], depth)
		}
	}
}

// BenchmarkParseErrorBody_Nested1MiB200Deep: a 1 MiB error body 200 levels
// deep, as the emulator's HugeErrors manner sends. Decoded once, its cost
// grows with its size, not with size × depth.
func BenchmarkParseErrorBody_Nested1MiB200Deep(b *testing.B) {
	body := nestedErrorBody(200, 1<<20)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		parseErrorBody(body)
	}
}
