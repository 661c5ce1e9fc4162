package main

import (
	"io"
	"strings"
	"testing"
)

// A run as `go test -json` reports it, cut down: one test that passed with
// checks left to the emulator (one logged twice), one that skipped, one
// whose subtests all skipped, one with subtests that passed and skipped
// (one saying why, one not), one that
// failed, and one the run never finished.
const events = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestAccA"}
{"Action":"output","Package":"p","Test":"TestAccA","Output":"=== RUN   TestAccA\n"}
{"Action":"output","Package":"p","Test":"TestAccA","Output":"    provider_test.go:1: servers of this test are named tfacc-abc123-*\n"}
{"Action":"output","Package":"p","Test":"TestAccA","Output":"    provider_test.go:245: not checked on this endpoint: the request log | counts\n"}
{"Action":"output","Package":"p","Test":"TestAccA","Output":"    provider_test.go:245: not checked on this endpoint: the request log | counts\n"}
{"Action":"output","Package":"p","Test":"TestAccA","Output":"    a_test.go:9: not checked on this endpoint: a 402\n"}
{"Action":"output","Package":"p","Test":"TestAccA","Output":"--- PASS: TestAccA (1.50s)\n"}
{"Action":"pass","Package":"p","Test":"TestAccA","Elapsed":1.5}
{"Action":"output","Package":"p","Test":"TestAccB","Output":"    b_test.go:3: servers of this test are named tfacc-def456-*\n"}
{"Action":"output","Package":"p","Test":"TestAccB","Output":"    b_test.go:4: needs the emulator's SetStatus hook: the API cannot suspend a server\n"}
{"Action":"output","Package":"p","Test":"TestAccB","Output":"--- SKIP: TestAccB (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestAccB","Elapsed":0}
{"Action":"output","Package":"p","Test":"TestAccC/one","Output":"    c_test.go:7: needs the emulator's InjectFault hook\n"}
{"Action":"skip","Package":"p","Test":"TestAccC/one","Elapsed":0}
{"Action":"output","Package":"p","Test":"TestAccC/two","Output":"    c_test.go:7: needs the emulator's InjectFault hook\n"}
{"Action":"skip","Package":"p","Test":"TestAccC/two","Elapsed":0}
{"Action":"pass","Package":"p","Test":"TestAccC","Elapsed":0}
{"Action":"pass","Package":"p","Test":"TestAccD/x","Elapsed":0.1}
{"Action":"output","Package":"p","Test":"TestAccD/y","Output":"    d_test.go:5: needs the emulator's SetStatus hook\n"}
{"Action":"skip","Package":"p","Test":"TestAccD/y","Elapsed":0}
{"Action":"skip","Package":"p","Test":"TestAccD/z","Elapsed":0}
{"Action":"pass","Package":"p","Test":"TestAccD","Elapsed":0.2}
{"Action":"output","Package":"p","Test":"TestAccE","Output":"    e_test.go:2: step 1/2 error: boom\n"}
{"Action":"fail","Package":"p","Test":"TestAccE","Elapsed":3}
{"Action":"output","Package":"p","Test":"TestAccF","Output":"    f_test.go:2: waiting\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t4.0s\n"}
{"Action":"fail","Package":"p","Elapsed":4}
`

func TestReadRecord(t *testing.T) {
	rec, err := readRecord(strings.NewReader(events), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		test, outcome, reason string
		unchecked             []string
	}{
		{"TestAccA", "pass", "", []string{"the request log | counts", "a 402"}},
		{"TestAccB", "skip", "needs the emulator's SetStatus hook: the API cannot suspend a server", nil},
		{"TestAccC", "skip", "needs the emulator's InjectFault hook", nil},
		{"TestAccD", "pass", "", []string{"subtest y (skipped: needs the emulator's SetStatus hook)", "subtest z (skipped: no reason given)"}},
		{"TestAccE", "fail", "", nil},
		{"TestAccF", "", "", nil},
	}
	for _, tc := range cases {
		got := rec.tests[tc.test]
		if got == nil {
			t.Errorf("%s: missing", tc.test)
			continue
		}
		if got.Outcome != tc.outcome || got.Reason != tc.reason || strings.Join(got.Unchecked, "\n") != strings.Join(tc.unchecked, "\n") {
			t.Errorf("%s: outcome %q, reason %q, unchecked %q; want %q, %q, %q",
				tc.test, got.Outcome, got.Reason, got.Unchecked, tc.outcome, tc.reason, tc.unchecked)
		}
	}
	if len(rec.tests) != len(cases) || !rec.packageFailed {
		t.Errorf("read %d tests (want %d), package failed %v (want true)", len(rec.tests), len(cases), rec.packageFailed)
	}
	if passed, failed, skipped := rec.counts(); passed != 2 || failed != 2 || skipped != 2 {
		t.Errorf("counts = %d passed, %d failed, %d skipped; want 2, 2, 2", passed, failed, skipped)
	}
}

func TestWriteTable(t *testing.T) {
	rec, err := readRecord(strings.NewReader(events), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rec.writeTable(&b)
	for _, want := range []string{
		"| `TestAccA` | ran, passed | not checked: the request log \\| counts; a 402 |\n",
		"| `TestAccD` | ran, passed | not checked: subtest y (skipped: needs the emulator's SetStatus hook); subtest z (skipped: no reason given) |\n",
		"| `TestAccB` | skipped | needs the emulator's SetStatus hook: the API cannot suspend a server |\n",
		"| `TestAccE` | **FAILED** |  |\n",
		"| `TestAccF` | **did not finish** |  |\n",
		"\n6 acceptance tests: 2 ran and passed, 2 failed, 2 skipped.\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, b.String())
		}
	}
	// Rows come sorted by name, so records of two releases diff cleanly.
	if a, f := strings.Index(b.String(), "TestAccA"), strings.Index(b.String(), "TestAccF"); a > f {
		t.Errorf("rows are not sorted:\n%s", b.String())
	}
}
