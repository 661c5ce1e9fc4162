package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// The emulator runs for hours as a pipeline service that anyone on its
// network can reach: these tests hold the built binary to staying small,
// owning its state file, logging what it was sent without being fooled by
// it, and letting no slow client hold a connection forever.

func TestBinary_ASecondEmulatorOnTheSameStateRefusesToStartNamingTheHolder(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	first := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-state", state)

	// A bound on an emulator that does not refuse, not a timed assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, emulatorBinary(t), "-listen", "127.0.0.1:0", "-quiet", "-state", state).CombinedOutput()
	want := fmt.Sprintf("state %s is in use by another emulator (pid %d", state, first.cmd.Process.Pid)
	if ctx.Err() != nil {
		t.Fatalf("the second emulator started on the same state and served: %s", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), want) {
		t.Errorf("the second emulator: %v, %s; want exit status 1 and a message containing %q", err, out, want)
	}
	// Once the first is gone, the state is free again.
	restart(t, first, "-listen", "127.0.0.1:0", "-quiet", "-state", state)
}

// getTokenless sends n GETs without a token to paths of about pathLen bytes,
// the i-th (from 0) naming i, over one keep-alive connection.
func getTokenless(t *testing.T, p *process, n, pathLen int) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	filler := strings.Repeat("x", pathLen)
	for i := range n {
		code, _ := request(t, client, "GET", fmt.Sprintf("%s%d-%s/", p.url, i, filler), "", "")
		if code != http.StatusNotFound {
			t.Fatalf("a token-less GET of an unknown path: %d, want 404", code)
		}
	}
}

func journalStats(t testing.TB, p *process) emulator.JournalStats {
	t.Helper()
	code, body := request(t, p.client, "GET", p.root()+"_emulator/journal", "", "")
	var stats emulator.JournalStats
	if code != 200 || json.Unmarshal([]byte(body), &stats) != nil {
		t.Fatalf("journal stats: %d %s", code, body)
	}
	return stats
}

func TestBinary_TokenlessRequestsWithLongPathsAreJournalledCut(t *testing.T) {
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet")
	const n, pathLen = 300, 64 << 10
	getTokenless(t, p, n, pathLen)

	code, body := request(t, p.client, "GET", p.root()+"_emulator/requests", "", "")
	var journal []emulator.Request
	if code != 200 || json.Unmarshal([]byte(body), &journal) != nil {
		t.Fatalf("journal: %d %.200s", code, body)
	}
	// Each entry: its cut path and some 200 bytes of other fields.
	if limit := n * (emulator.JournalPathLimit + 300); len(body) > limit {
		t.Errorf("the journal of %d requests is %d bytes, want at most %d", n, len(body), limit)
	}
	if len(journal) != n {
		t.Fatalf("the journal keeps %d requests, want all %d", len(journal), n)
	}
	for _, r := range journal {
		if !r.Cut || len(r.Path) > emulator.JournalPathLimit+len("…") || !strings.HasPrefix(r.Path, "/api/v1/") {
			t.Fatalf("a %d-byte path kept as %d bytes (cut %v): %.60q", pathLen, len(r.Path), r.Cut, r.Path)
		}
	}
	if s := journalStats(t, p); s.Kept != n || s.Total != n || s.Size != emulator.DefaultJournalSize {
		t.Errorf("journal stats %+v, want %d of %d kept, size %d", s, n, n, emulator.DefaultJournalSize)
	}
}

func TestBinary_TheJournalKeepsTheLatestJournalSizeRequestsAndCountsAll(t *testing.T) {
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-journal-size", "100")
	getTokenless(t, p, 300, 1<<10)

	if s := journalStats(t, p); s != (emulator.JournalStats{Size: 100, Kept: 100, Total: 300, PathLimit: emulator.JournalPathLimit}) {
		t.Errorf("journal stats %+v, want the latest 100 of 300 kept", s)
	}
	_, body := request(t, p.client, "GET", p.root()+"_emulator/requests", "", "")
	var journal []emulator.Request
	if err := json.Unmarshal([]byte(body), &journal); err != nil {
		t.Fatal(err)
	}
	if len(journal) != 100 || !strings.HasPrefix(journal[0].Path, p.url[strings.Index(p.url, "/api/"):]+"200-") {
		t.Errorf("the journal keeps %d requests, the first %.40q; want the latest 100, from the 201st", len(journal), journal[0].Path)
	}
	var counts map[string]int
	_, body = request(t, p.client, "GET", p.root()+"_emulator/requests/counts", "", "")
	if err := json.Unmarshal([]byte(body), &counts); err != nil || counts["GET other"] != 300 {
		t.Errorf("counts %s, want all 300 GETs counted", body)
	}
}

// stateFile is what shows whether the state file was written: WriteFile
// renames a new file over it, so each write changes its inode and mtime.
func stateFile(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestBinary_RequestsThatChangeNothingDoNotWriteTheState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-state", state, "-provisioning-time", "0s")
	if code, _ := request(t, http.DefaultClient, "POST", p.url+"servers/", "emulator-token",
		`{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`); code != 201 {
		t.Fatalf("create: %d", code)
	}
	// A PATCH settles the create's provisioning into the state.
	request(t, http.DefaultClient, "PATCH", p.url+"servers/12345/", "emulator-token", `{"name": "web"}`)
	before := stateFile(t, state)
	for range 50 {
		request(t, http.DefaultClient, "DELETE", p.url+"servers/12345/", "", "")                      // 401
		request(t, http.DefaultClient, "DELETE", p.url+"servers/99999/", "emulator-token", "")        // 404
		request(t, http.DefaultClient, "PATCH", p.url+"servers/12345/", "emulator-token", `{"x": 1}`) // 400
		request(t, http.DefaultClient, "POST", p.root()+"_emulator/servers/12345/history", "", "")    // 405
		request(t, http.DefaultClient, "PATCH", p.url+"servers/12345/", "emulator-token", `{"name": "web"}`)
	}
	after := stateFile(t, state)
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("250 requests that changed nothing rewrote the state (inode or mtime changed)")
	}
	// The check can see a write: a delete is one.
	if code, _ := request(t, http.DefaultClient, "DELETE", p.url+"servers/12345/", "emulator-token", ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if os.SameFile(after, stateFile(t, state)) {
		t.Errorf("a delete did not write the state")
	}
}

func TestBinary_APathCannotForgeALogLine(t *testing.T) {
	p := startBinary(t, "-listen", "127.0.0.1:0")
	forged := "2026-01-02T15:04:05Z DELETE /api/v1/servers/12345/ 204 1ms account=default"
	request(t, http.DefaultClient, "GET", p.url+"x%0a"+url.PathEscape(forged)+"%0a/", "", "")
	request(t, http.DefaultClient, "GET", p.url+"servers/", "emulator-token", "")
	p.stop(t)

	var lines []string
	for sc := bufio.NewScanner(strings.NewReader(p.stderr.String())); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 {
		t.Fatalf("two requests logged %d lines:\n%s", len(lines), p.stderr.String())
	}
	if want := `"/api/v1/x\n` + forged + `\n/" 404 `; !strings.Contains(lines[0], want) {
		t.Errorf("the first line %q does not hold the path quoted, %q", lines[0], want)
	}
	if !strings.Contains(lines[1], " GET /api/v1/servers/ 200 ") {
		t.Errorf("a plain path is logged as it is: %q", lines[1])
	}
}

// closedWithin reads from conn until the server closes it, failing when
// bound passes first (a bound on a hung test, not a timed assertion).
func closedWithin(t *testing.T, conn net.Conn, bound time.Duration, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(bound))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: the connection was still open after %s", what, bound)
	}
}

func TestBinary_SlowAndIdleConnectionsAreClosed(t *testing.T) {
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet",
		"-read-timeout", "300ms", "-write-timeout", "300ms", "-idle-timeout", "300ms")
	addr := strings.TrimSuffix(strings.TrimPrefix(p.root(), "http://"), "/")
	for _, c := range []struct{ what, send string }{
		{"headers never finished", "GET /api/v1/servers/ HTTP/1.1\r\nHost: x\r\n"},
		{"a body never finished", "POST /api/v1/servers/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer emulator-token\r\n" +
			"Content-Length: 1000\r\n\r\n{\"name\": "},
		{"idle after an answer", "GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, c.send); err != nil {
			t.Fatal(err)
		}
		closedWithin(t, conn, 30*time.Second, c.what)
		conn.Close()
	}

	// The emulator's own latency does not count against the write timeout.
	if code, _ := request(t, p.client, "PATCH", p.root()+"_emulator/settings", "", `{"latency": "1s"}`); code != 200 {
		t.Fatalf("latency setting: %d", code)
	}
	if code, _ := request(t, http.DefaultClient, "GET", p.url+"servers/", "emulator-token", ""); code != 200 {
		t.Errorf("a request under a latency longer than the write timeout: %d, want 200", code)
	}
}
