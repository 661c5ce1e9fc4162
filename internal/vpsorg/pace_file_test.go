package vpsorg

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// TestPaceFile_TheNextProcessStartsPacedWithoutABurst plays two provider
// processes of one working directory, one after the other, against an
// account limited to 5 requests/s (bursts of 5): the first meets the
// limit and learns a pace over thirty requests; the second, a new client
// with the same file started a second later (as Terraform starts its next
// command), sends ten requests at once without a refusal, where a client
// without the file is refused.
func TestPaceFile_TheNextProcessStartsPacedWithoutABurst(t *testing.T) {
	emu, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	emu.SetRateLimit(5, 5)
	file := filepath.Join(t.TempDir(), ".terraform", "vpsorg-pace.json")
	client := func(file string) *Client {
		c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken, PaceFile: file})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	burst := func(c *Client, each int) (refused int) {
		emu.ResetRequests()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				for range each {
					if _, err := c.ListServers(t.Context(), ListServersOptions{}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		for _, r := range emu.Requests() {
			if r.Status == 429 {
				refused++
			}
		}
		return refused
	}

	if refused := burst(client(file), 3); refused == 0 {
		t.Fatal("the first process was never refused: it learned nothing, and the test proves nothing")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the first process kept no pace: %v", err)
	}
	if strings.Contains(string(data), emulator.DefaultToken) {
		t.Fatalf("the pace file holds the token: %s", data)
	}
	time.Sleep(time.Second)
	if refused := burst(client(file), 1); refused != 0 {
		t.Errorf("the second process, starting from the file %s, was refused %d times", data, refused)
	}
	time.Sleep(time.Second)
	if refused := burst(client(""), 1); refused == 0 {
		t.Error("a process without the file was not refused either; the test proves nothing")
	}
}

func TestPaceFile_OnlyARecentPaceForTheSameEndpointAndAccountIsTaken(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	record := func(endpoint, account string, saved time.Time) string {
		return `{"paces": [{"endpoint": "` + endpoint + `", "account": "` + account + `", "requests_per_second": 3.5, "refused_per_second": 5, "saved": "` + saved.Format(time.RFC3339) + `"}]}`
	}
	ours := accountFingerprint("")
	cases := []struct {
		name string
		rec  string
		want float64
	}{
		{"recent, same endpoint and account", record("http://api.test/v1/", ours, now.Add(-time.Minute)), 3.5},
		{"another endpoint", record("http://other.test/v1/", ours, now), 0},
		{"another account", record("http://api.test/v1/", accountFingerprint("another token"), now), 0},
		{"an hour old", record("http://api.test/v1/", ours, now.Add(-time.Hour)), 0},
		{"a file of an older version", `{"endpoint": "http://api.test/v1/", "requests_per_second": 3.5, "saved": "` + now.Format(time.RFC3339) + `"}`, 0},
		{"not JSON", `pace`, 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, string(rune('a'+i)))
			if err := os.WriteFile(file, []byte(c.rec), 0o600); err != nil {
				t.Fatal(err)
			}
			cl, err := New(Config{Endpoint: "http://api.test/v1/", PaceFile: file})
			if err != nil {
				t.Fatal(err)
			}
			cl.pace.mu.Lock()
			defer cl.pace.mu.Unlock()
			if cl.pace.limit != c.want {
				t.Errorf("started at %v requests/s, want %v", cl.pace.limit, c.want)
			}
		})
	}
}

func TestPaceFile_APaceFromTheFileGrowsQuicklyUntilThisProcessIsRefused(t *testing.T) {
	// The pace was learned while other workspaces shared the account; they
	// may have finished. The new process probes up quickly, never lifting
	// the pace altogether, and once refused itself it grows as slowly as
	// any adaptive pace.
	file := filepath.Join(t.TempDir(), "pace.json")
	now := time.Now()
	rec := `{"paces": [{"endpoint": "http://api.test/v1/", "account": "` + accountFingerprint("") + `", "requests_per_second": 2, "refused_per_second": 2, "saved": "` + now.Format(time.RFC3339Nano) + `"}]}`
	if err := os.WriteFile(file, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Endpoint: "http://api.test/v1/", PaceFile: file})
	if err != nil {
		t.Fatal(err)
	}
	p := c.pace
	ctx := t.Context()
	at := func(ms int) time.Time { return now.Add(time.Duration(ms) * time.Millisecond) }
	for i := range 4 {
		p.observe(ctx, at(10+i), at(20+i), 200, nil)
	}
	if got, want := p.limit, 2+4*warmStep; math.Abs(got-want) > 1e-9 {
		t.Errorf("after 4 answers the pace is %v, want %v", got, want)
	}
	for i := range 100 {
		p.observe(ctx, at(100+i), at(110+i), 200, nil)
	}
	if p.limit == 0 || p.limit >= 4 {
		t.Errorf("after 100 answers the pace is %v; want it short of twice the refused 2, still pacing", p.limit)
	}
	p.observe(ctx, at(300), at(310), 429, http.Header{})
	before := p.limit
	p.observe(ctx, at(320), at(330), 200, nil)
	if grown := p.limit - before; grown <= 0 || grown >= warmStep/10 {
		t.Errorf("after its own 429 the pace grew by %v an answer; want the slow adaptive growth", grown)
	}
}

// newPaceClient is a client of api.test for token, keeping its pace in file.
func newPaceClient(t *testing.T, token, file string) *Client {
	t.Helper()
	c, err := New(Config{Endpoint: "http://api.test/v1/", Token: token, PaceFile: file})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// refuse plays a 429 with Retry-After: seconds to p, answered now.
func refuse(p *pacer, seconds int) {
	p.mu.Lock()
	p.inFlight++
	p.mu.Unlock()
	now := time.Now()
	p.observe(context.Background(), now.Add(-time.Millisecond), now, http.StatusTooManyRequests,
		http.Header{"Retry-After": []string{strconv.Itoa(seconds)}})
}

func TestPaceFile_EachAccountKeepsItsOwnPace(t *testing.T) {
	// Two provider aliases of one workspace, two accounts at one endpoint:
	// a hold and a pace learned for one say nothing about the other.
	file := filepath.Join(t.TempDir(), "vpsorg-pace.json")
	refuse(newPaceClient(t, "token-of-account-a", file).pace, 20)

	b := newPaceClient(t, "token-of-account-b", file).pace
	if b.holding(time.Now()) || b.limit != 0 {
		t.Fatalf("account b starts held until %v at %v requests/s: account a's pace", b.holdUntil, b.limit)
	}
	refuse(b, 1)

	a := newPaceClient(t, "token-of-account-a", file).pace
	if left := time.Until(a.holdUntil); left < 15*time.Second {
		t.Errorf("account a's next process is held for %v; account b's save lost a's 20 s hold", left)
	}
	if a.limit == 0 {
		t.Error("account a's next process starts unpaced; account b's save lost a's pace")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"token-of-account-a", "token-of-account-b"} {
		if strings.Contains(string(data), token) {
			t.Fatalf("the pace file holds a token: %s", data)
		}
	}
}

// TestPaceFile_ProcessesWritingOneFileKeepTheLongestHold runs this test
// binary as several provider processes of one workspace and account. Three
// start (finding no pace), then a fourth keeps a 40 s hold, then the three
// are held for less and save their pace over and over, all at once. A save
// of one process must not remove another's longer hold.
func TestPaceFile_ProcessesWritingOneFileKeepTheLongestHold(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, ".terraform", "vpsorg-pace.json")
	writer := func(hold, saves int, after string) *exec.Cmd {
		// Killed when the test ends, should one wait for a start that
		// never comes.
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPaceFile_writerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "VPSORG_PACE_WRITER="+strings.Join([]string{file, strconv.Itoa(hold), strconv.Itoa(saves), after}, ","))
		var out bytes.Buffer // one writer's output, for its failure
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd
	}
	start := filepath.Join(dir, "start")
	var others []*exec.Cmd
	for _, hold := range []int{10, 20, 30} {
		cmd := writer(hold, 200, start)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		others = append(others, cmd)
	}
	// Each writer says it has loaded the (empty) file by creating
	// <file>.<hold>.loaded.
	began := time.Now()
	for i, hold := range []int{10, 20, 30} {
		for {
			if _, err := os.Stat(file + "." + strconv.Itoa(hold) + ".loaded"); err == nil {
				break
			}
			if time.Since(began) > writerPatience {
				t.Fatalf("the writer held for %d s has not loaded the file after %v:\n%s", hold, writerPatience, others[i].Stdout)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if cmd := writer(40, 1, ""); cmd.Run() != nil {
		t.Fatalf("the writer of the 40 s hold failed:\n%s", cmd.Stdout)
	}
	if err := os.WriteFile(start, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range others {
		if cmd.Wait() != nil {
			t.Fatalf("a writer failed:\n%s", cmd.Stdout)
		}
	}
	p := newPaceClient(t, "one-account", file).pace
	if left := time.Until(p.holdUntil); left < 35*time.Second {
		t.Errorf("the next process is held for %v, want the 40 s hold: a later save removed it", left)
	}
}

// writerPatience bounds the waits between the writer processes and the
// test, so that a failure on one side cannot leave the other waiting
// forever. It is no measure of speed.
const writerPatience = time.Minute

// TestPaceFile_writerProcess is one writer of the test above, in a process
// of its own; without VPSORG_PACE_WRITER it does nothing. Once its client
// is made it creates <file>.<hold>.loaded, waits for the start file (when
// named), then keeps a hold and saves its pace the given number of times.
func TestPaceFile_writerProcess(t *testing.T) {
	spec := os.Getenv("VPSORG_PACE_WRITER")
	if spec == "" {
		t.Skip("a helper process of TestPaceFile_ProcessesWritingOneFileKeepTheLongestHold")
	}
	parts := strings.Split(spec, ",")
	file, start := parts[0], parts[3]
	hold, _ := strconv.Atoi(parts[1])
	saves, _ := strconv.Atoi(parts[2])
	p := newPaceClient(t, "one-account", file).pace
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+"."+parts[1]+".loaded", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for began := time.Now(); start != ""; {
		if _, err := os.Stat(start); err == nil {
			break
		}
		if time.Since(began) > writerPatience {
			t.Fatalf("no start after %v", writerPatience)
		}
		time.Sleep(5 * time.Millisecond)
	}
	refuse(p, hold)
	for range saves {
		p.mu.Lock()
		rec := p.paceSnapshot(time.Now())
		p.mu.Unlock()
		p.savePace(t.Context(), rec)
	}
}

func TestPaceFile_AHoldFromTheFileIsCappedAndNamesTheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vpsorg-pace.json")
	c := newPaceClient(t, "one-account", file)
	refuse(c.pace, 30)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The file edited (or written by a broken clock) to hold for a year.
	far := time.Now().Add(365 * 24 * time.Hour).UTC()
	re := regexp.MustCompile(`"hold_until":"[^"]*"`)
	if !re.Match(data) {
		t.Fatalf("no hold_until in %s", data)
	}
	data = re.ReplaceAll(data, []byte(`"hold_until":"`+far.Format(time.RFC3339Nano)+`"`))
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	c = newPaceClient(t, "one-account", file)
	if left := time.Until(c.pace.holdUntil); left > defaultMaxRetryAfter {
		t.Errorf("the next process is held for %v, more than the client's own longest wait, %v", left, defaultMaxRetryAfter)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = c.GetServer(ctx, 1)
	if err == nil {
		t.Fatal("a request under a hold of a minute and a deadline of 100 ms was sent")
	}
	if msg := err.Error(); !strings.Contains(msg, file) || strings.Contains(msg, "API asked") {
		t.Errorf("the error does not say the pause came from the pace file %s: %s", file, msg)
	}
}
