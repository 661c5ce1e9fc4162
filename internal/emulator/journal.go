package emulator

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The request journal keeps the latest requests, each with its path cut
// short, and counts all of them: the emulator runs for hours as a service
// and answers anyone, token or none, so neither how many requests come
// nor how long their paths are may decide how much memory it takes.

const (
	// DefaultJournalSize is how many requests the journal keeps by default
	// (Options.JournalSize): the latest; older ones are dropped.
	DefaultJournalSize = 10_000
	// JournalPathLimit is the longest path, query or method, in bytes, a
	// journal entry (and a log line) keeps; a longer one is cut to it,
	// ends in cutMark, and the entry is marked Cut.
	JournalPathLimit = 256
)

const cutMark = "…"

// JournalStats says how much of what arrived the journal keeps.
type JournalStats struct {
	// Size is how many requests the journal keeps at most, the latest.
	Size int `json:"size"`
	// Kept is how many it keeps now, Total how many arrived since the last
	// ResetRequests: Total - Kept were dropped, the oldest first.
	// RequestCounts counts all Total.
	Kept  int `json:"kept"`
	Total int `json:"total"`
	// PathLimit is JournalPathLimit.
	PathLimit int `json:"path_limit"`
}

// journal is a ring of the latest requests and the counts of all since the
// last reset. Emulator.mu guards it.
type journal struct {
	size    int
	entries []*Request // a ring once full: the oldest at next
	next    int
	total   int
	counts  map[string]int // by "METHOD ROUTE"
}

func newJournal(size int) journal {
	if size <= 0 {
		size = DefaultJournalSize
	}
	return journal{size: size, counts: map[string]int{}}
}

func (j *journal) add(r *Request) {
	j.total++
	j.counts[countedMethod(r.Method)+" "+r.Route]++
	if len(j.entries) < j.size {
		j.entries = append(j.entries, r)
		return
	}
	j.entries[j.next] = r
	j.next = (j.next + 1) % j.size
}

// latest returns copies of the latest n entries (at most all), oldest first.
func (j *journal) latest(n int) []Request {
	n = max(0, min(n, len(j.entries)))
	out := make([]Request, n)
	skip := len(j.entries) - n
	for i := range out {
		out[i] = *j.entries[(j.next+skip+i)%len(j.entries)]
	}
	return out
}

func (j *journal) reset() {
	j.entries, j.next, j.total, j.counts = nil, 0, 0, map[string]int{}
}

func (j *journal) stats() JournalStats {
	return JournalStats{Size: j.size, Kept: len(j.entries), Total: j.total, PathLimit: JournalPathLimit}
}

// httpMethods are the methods RequestCounts counts by name; any other
// counts as "OTHER", so made-up methods cannot grow the counts.
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true,
}

func countedMethod(m string) string {
	if httpMethods[m] {
		return m
	}
	return "OTHER"
}

// cut returns a copy of s of at most JournalPathLimit bytes (cut at a
// character boundary, then marked) and whether it was cut. A copy even
// when short: a request's method, path and query share the memory of its
// request line, which may be a megabyte long.
func cut(s string) (string, bool) {
	if len(s) <= JournalPathLimit {
		return strings.Clone(s), false
	}
	i := JournalPathLimit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + cutMark, true
}

// loggable returns s as it is when it is plain printable ASCII without
// spaces or quotes, else quoted: a client's %0a in a path must not start a
// log line of its own.
func loggable(s string) string {
	for i := range len(s) {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}
