package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// notCheckedMarker starts the line a test logs for a check that only the
// emulator in process can make (internal/provider, testEnv.notChecked).
const notCheckedMarker = "not checked on this endpoint:"

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// result is what became of one test and its subtests.
type result struct {
	Name    string
	Outcome string // "pass", "fail" or "skip"; "" while running
	Elapsed time.Duration
	// Reason is why the test skipped: the message it skipped with.
	Reason string
	// Unchecked lists what the test logged as not checked on this endpoint,
	// once each, in the order logged.
	Unchecked []string
	// Output is everything the test and its subtests printed.
	Output []string

	lastMessage   map[string]string // the last t.Log or t.Skip message of the test ("") and each subtest
	subtests      map[string]int    // how many subtests passed, failed, skipped
	subtestReason string            // the first skipped subtest's message
	skipped       []string          // each skipped subtest, with its message
}

// record is the outcome of a run: the top-level tests by name, and what the
// package printed outside any test (build errors, panics).
type record struct {
	tests         map[string]*result
	packageOutput []string
	packageFailed bool
}

// logMessage matches a t.Log or t.Skip line: "    file_test.go:12: message".
var logMessage = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: (.*)$`)

// readRecord reads the events of `go test -json` until they end, and writes
// a line to progress as each top-level test ends.
func readRecord(events io.Reader, progress io.Writer) (*record, error) {
	r := &record{tests: map[string]*result{}}
	scanner := bufio.NewScanner(events)
	scanner.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for scanner.Scan() {
		line := scanner.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// go test prints some failures (a bad flag, say) as plain text.
			r.packageOutput = append(r.packageOutput, string(line)+"\n")
			continue
		}
		r.add(e, progress)
	}
	return r, scanner.Err()
}

func (r *record) add(e event, progress io.Writer) {
	if e.Test == "" {
		switch e.Action {
		case "output", "build-output":
			r.packageOutput = append(r.packageOutput, e.Output)
		case "fail", "build-fail":
			r.packageFailed = true
		}
		return
	}
	top, sub, _ := strings.Cut(e.Test, "/")
	t := r.tests[top]
	if t == nil {
		t = &result{Name: top, lastMessage: map[string]string{}, subtests: map[string]int{}}
		r.tests[top] = t
	}
	switch e.Action {
	case "output":
		t.Output = append(t.Output, e.Output)
		if m := logMessage.FindStringSubmatch(strings.TrimRight(e.Output, "\n")); m != nil {
			t.lastMessage[sub] = m[1]
			if what, ok := strings.CutPrefix(m[1], notCheckedMarker); ok {
				t.note(strings.TrimSpace(what))
			}
		}
	case "pass", "fail", "skip":
		if sub == "" {
			t.end(e, progress)
			return
		}
		t.subtests[e.Action]++
		if e.Action == "skip" {
			if t.subtestReason == "" {
				t.subtestReason = t.lastMessage[sub]
			}
			t.skipped = append(t.skipped, fmt.Sprintf("subtest %s (skipped: %s)", sub, cmp.Or(t.lastMessage[sub], "no reason given")))
		}
	}
}

// end records how a top-level test ended. One whose subtests all skipped
// ran nothing itself: it counts as skipped, for their reason. One that
// passed with some subtests skipped lists those among what it left
// unchecked.
func (t *result) end(e event, progress io.Writer) {
	t.Outcome = e.Action
	t.Elapsed = time.Duration(e.Elapsed * float64(time.Second))
	n := t.subtests["pass"] + t.subtests["fail"] + t.subtests["skip"]
	switch {
	case t.Outcome == "skip":
		t.Reason = t.lastMessage[""]
	case t.Outcome == "pass" && n > 0 && t.subtests["skip"] == n:
		t.Outcome, t.Reason = "skip", t.subtestReason
	case t.Outcome == "pass":
		for _, s := range t.skipped {
			t.note(s)
		}
	}
	fmt.Fprintf(progress, "%-4s %s (%s)\n", t.Outcome, t.Name, t.Elapsed.Round(100*time.Millisecond))
}

// note records something not checked, once.
func (t *result) note(what string) {
	for _, n := range t.Unchecked {
		if n == what {
			return
		}
	}
	t.Unchecked = append(t.Unchecked, what)
}

// sorted returns the tests by name.
func (r *record) sorted() []*result {
	out := make([]*result, 0, len(r.tests))
	for _, t := range r.tests {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// counts returns how many tests passed, failed and skipped; a test that
// never ended (the run was interrupted) counts as failed.
func (r *record) counts() (passed, failed, skipped int) {
	for _, t := range r.tests {
		switch t.Outcome {
		case "pass":
			passed++
		case "skip":
			skipped++
		default:
			failed++
		}
	}
	return passed, failed, skipped
}

// writeTable writes the record as markdown: one row a test, then the totals.
func (r *record) writeTable(w io.Writer) {
	fmt.Fprintln(w, "| test | result | skip reason, or checks left to the emulator in process |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, t := range r.sorted() {
		result, notes := "ran, passed", ""
		switch t.Outcome {
		case "skip":
			result, notes = "skipped", t.Reason
		case "fail":
			result = "**FAILED**"
		case "":
			result = "**did not finish**"
		}
		if t.Outcome != "skip" && len(t.Unchecked) > 0 {
			notes = "not checked: " + strings.Join(t.Unchecked, "; ")
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", t.Name, result, cell(notes))
	}
	passed, failed, skipped := r.counts()
	fmt.Fprintf(w, "\n%d acceptance tests: %d ran and passed, %d failed, %d skipped.\n", len(r.tests), passed, failed, skipped)
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// writeFailures writes the output of every failed test, and of the package
// when it failed outside any test.
func (r *record) writeFailures(w io.Writer) {
	for _, t := range r.sorted() {
		if t.Outcome == "fail" || t.Outcome == "" {
			fmt.Fprintf(w, "\n--- output of %s\n%s", t.Name, strings.Join(t.Output, ""))
		}
	}
	if r.packageFailed {
		fmt.Fprintf(w, "\n--- output of the package\n%s", strings.Join(r.packageOutput, ""))
	}
}
