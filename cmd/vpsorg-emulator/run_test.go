package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runResult is what `vpsorg-emulator run -- <this test binary>` gave.
type runResult struct {
	code    int
	child   string // what the child wrote: its environment and statuses
	stderr  string
	journal []struct {
		Method, Route string
		Status        int
		Fault         bool
	}
}

// runChildThrough runs the test binary as the command of `vpsorg-emulator
// run` with flags, the child making gets list requests and exiting with
// exit.
func runChildThrough(t *testing.T, flags []string, gets, exit string) runResult {
	t.Helper()
	dir := t.TempDir()
	journal, childOut := filepath.Join(dir, "journal.json"), filepath.Join(dir, "child.out")
	args := append([]string{"run", "-journal", journal}, flags...)
	args = append(args, "--", os.Args[0], "-test.run=^$")
	cmd := exec.Command(emulatorBinary(t), args...)
	cmd.Env = append(os.Environ(), "VPSORG_TEST_CHILD=1", "VPSORG_TEST_CHILD_OUT="+childOut,
		"VPSORG_TEST_CHILD_GETS="+gets, "VPSORG_TEST_CHILD_EXIT="+exit)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := runResult{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	child, _ := os.ReadFile(childOut)
	r.child = string(child)
	if data, err := os.ReadFile(journal); err != nil || json.Unmarshal(data, &r.journal) != nil {
		t.Fatalf("journal: %v %s", err, data)
	}
	return r
}

func TestRun_PassesTheEnvironmentAndExitsWithTheCommandsStatus(t *testing.T) {
	r := runChildThrough(t, []string{"-token", "pipeline-token"}, "3", "7")
	if r.code != 7 {
		t.Errorf("exit status %d, want the command's 7; stderr:\n%s", r.code, r.stderr)
	}
	env := regexp.MustCompile(`(?m)^VPSORG_ENDPOINT=http://127\.0\.0\.1:\d+/api/v1/\nVPSORG_API_TOKEN=pipeline-token\n` +
		`VPSORG_EMULATOR_URL=http://127\.0\.0\.1:\d+/_emulator/\nVPSORG_CA_FILE=\n`)
	if !env.MatchString(r.child) || strings.Count(r.child, "GET 200") != 3 {
		t.Errorf("the command saw:\n%s", r.child)
	}
	if len(r.journal) != 3 || r.journal[0].Route != "/api/v1/servers/" || r.journal[0].Status != 200 {
		t.Errorf("journal %+v", r.journal)
	}
	for _, want := range []string{
		`exited with status 7`, "requests: 3", "GET /api/v1/servers/", "200 x3",
		"refusals (4xx not from a fault): 0", "faults injected: 0", "servers left: default 0",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := runChildThrough(t, nil, "0", "0"); r.code != 0 {
		t.Errorf("a command that succeeds: exit %d", r.code)
	}
}

// Beyond -journal-size, the journal file holds the latest requests and the
// summary counts them all, saying which of its figures are of the latest.
func TestRun_TheSummaryCountsAllRequestsAndSaysWhenTheJournalKeptTheLatest(t *testing.T) {
	r := runChildThrough(t, []string{"-journal-size", "2"}, "3", "0")
	if len(r.journal) != 2 {
		t.Errorf("the journal file holds %d requests, want the latest 2", len(r.journal))
	}
	for _, want := range []string{"requests: 3\n", "of the latest 2, which the journal keeps", "GET /api/v1/servers/", "200 x2"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestRun_RefusesAMissingCommand(t *testing.T) {
	out, err := exec.Command(emulatorBinary(t), "run", "-quiet").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "run [flags] -- COMMAND") {
		t.Errorf("err %v, output %s", err, out)
	}
}

// statuses is the journal's sequence of statuses, a fault's marked "!".
func (r runResult) statuses() string {
	var s []string
	for _, j := range r.journal {
		mark := ""
		if j.Fault {
			mark = "!"
		}
		s = append(s, fmt.Sprintf("%s%d", mark, j.Status))
	}
	return strings.Join(s, " ")
}

func TestRun_ChaosGivesTheSameFaultsForTheSameSeed(t *testing.T) {
	first := runChildThrough(t, []string{"-chaos", "0.4"}, "40", "0")
	m := regexp.MustCompile(`seed (\d+) \(replay with -chaos 0\.4 -chaos-seed (\d+)\)`).FindStringSubmatch(first.stderr)
	if m == nil || m[1] != m[2] {
		t.Fatalf("the banner does not print the seed:\n%s", first.stderr)
	}
	replay := runChildThrough(t, []string{"-chaos", "0.4", "-chaos-seed", m[1]}, "40", "0")
	if first.statuses() != replay.statuses() {
		t.Errorf("seed %s twice gave\n%s\n%s", m[1], first.statuses(), replay.statuses())
	}
	faults := strings.Count(first.statuses(), "!")
	if faults < 5 || faults > 30 {
		t.Errorf("%d faults in 40 requests at 0.4: %s", faults, first.statuses())
	}
	if !strings.Contains(first.stderr, fmt.Sprintf("faults injected: %d\n", faults)) {
		t.Errorf("the summary does not count the %d faults:\n%s", faults, first.stderr)
	}
}

func TestRun_PassesSIGTERMOnToTheCommand(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(emulatorBinary(t), "run", "--", "sh", "-c",
		`trap 'exit 42' TERM; touch "$0"; i=0; while [ $i -lt 1500 ]; do sleep 0.05; i=$((i+1)); done`, ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Bounded polling for the child's readiness, not a timed assertion.
	for try := 0; ; try++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if try == 600 {
			_ = cmd.Process.Kill()
			t.Fatal("the command never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if code := cmd.ProcessState.ExitCode(); code != 42 {
			t.Errorf("exit %d (%v), want the command's 42 from its TERM trap", code, err)
		}
	case <-time.After(time.Minute): // a bound on a hang, not a timed assertion
		_ = cmd.Process.Kill()
		t.Error("run did not end after SIGTERM: the command never got it")
	}
}
