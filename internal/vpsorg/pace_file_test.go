package vpsorg

import (
	"math"
	"net/http"
	"os"
	"path/filepath"
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

func TestPaceFile_OnlyARecentPaceForTheSameEndpointIsTaken(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	cases := []struct {
		name string
		rec  string
		want float64
	}{
		{"recent, same endpoint", `{"endpoint": "http://api.test/v1/", "requests_per_second": 3.5, "refused_per_second": 5, "saved": "` + now.Add(-time.Minute).Format(time.RFC3339) + `"}`, 3.5},
		{"another endpoint", `{"endpoint": "http://other.test/v1/", "requests_per_second": 3.5, "saved": "` + now.Format(time.RFC3339) + `"}`, 0},
		{"an hour old", `{"endpoint": "http://api.test/v1/", "requests_per_second": 3.5, "saved": "` + now.Add(-time.Hour).Format(time.RFC3339) + `"}`, 0},
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
	rec := `{"endpoint": "http://api.test/v1/", "requests_per_second": 2, "refused_per_second": 2, "saved": "` + now.Format(time.RFC3339Nano) + `"}`
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
