package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseFlags_Defaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.options
	if cfg.listen != "127.0.0.1:8080" || cfg.quiet || cfg.allowRemote {
		t.Errorf("listen %q quiet %v allow-remote %v", cfg.listen, cfg.quiet, cfg.allowRemote)
	}
	if len(o.Tokens) != 1 || o.Tokens["emulator-token"] != "default" || cfg.tokens.order[0] != "emulator-token" {
		t.Errorf("tokens = %v", o.Tokens)
	}
	if o.ProvisioningTime != 5*time.Second || o.TransitionTime != 2*time.Second || o.PageSize != 50 ||
		o.Credits != 1000 || o.HonourIdempotencyKey {
		t.Errorf("options = %+v", o)
	}
}

func TestParseFlags_EveryFlag(t *testing.T) {
	cfg, err := parseFlags([]string{
		"-listen", "[::1]:9000", "-token", "t1", "-token", "t2=alice", "-token", "a=b=carol", "-token", "c2VjcmV0==",
		"-provisioning-time", "0", "-transition-time", "150ms", "-page-size", "3", "-credits", "0",
		"-honour-idempotency-key", "-quiet",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.options
	wantTokens := map[string]string{"t1": "default", "t2": "alice", "a=b": "carol", "c2VjcmV0==": "default"}
	if len(o.Tokens) != len(wantTokens) {
		t.Errorf("tokens = %v", o.Tokens)
	}
	for k, v := range wantTokens {
		if o.Tokens[k] != v {
			t.Errorf("token %q -> %q, want %q", k, o.Tokens[k], v)
		}
	}
	if cfg.tokens.order[0] != "t1" {
		t.Errorf("first token = %q", cfg.tokens.order[0])
	}
	// On the command line 0 means zero, which Options spells negatively.
	if o.ProvisioningTime >= 0 || o.TransitionTime != 150*time.Millisecond || o.PageSize != 3 || o.Credits >= 0 ||
		!o.HonourIdempotencyKey || !cfg.quiet || cfg.listen != "[::1]:9000" {
		t.Errorf("options = %+v, cfg = %+v", o, cfg)
	}
}

func TestParseFlags_Refusals(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"all interfaces", []string{"-listen", ":8080"}, "-allow-remote"},
		{"wildcard", []string{"-listen", "0.0.0.0:8080"}, "-allow-remote"},
		{"public IP", []string{"-listen", "192.0.2.1:8080"}, "-allow-remote"},
		{"host name", []string{"-listen", "example.com:8080"}, "-allow-remote"},
		{"no port", []string{"-listen", "127.0.0.1"}, "missing port"},
		{"empty token", []string{"-token", "=alice"}, "empty token"},
		{"duplicate token", []string{"-token", "t", "-token", "t=bob"}, "twice"},
		{"page size", []string{"-page-size", "0"}, "-page-size"},
		{"negative duration", []string{"-transition-time", "-1s"}, "negative"},
		{"negative credits", []string{"-credits", "-2"}, "-credits"},
		{"stray argument", []string{"serve"}, "unexpected"},
		{"unknown flag", []string{"-bogus"}, "bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			_, err := parseFlags(c.args, &stderr)
			if err == nil || !strings.Contains(err.Error()+stderr.String(), c.want) {
				t.Errorf("want an error mentioning %q, got %v", c.want, err)
			}
		})
	}
	if _, err := parseFlags([]string{"-listen", "0.0.0.0:8080", "-allow-remote"}, io.Discard); err != nil {
		t.Errorf("-allow-remote: %v", err)
	}
	if _, err := parseFlags([]string{"-listen", "localhost:8080"}, io.Discard); err != nil {
		t.Errorf("localhost: %v", err)
	}
}

// lockedBuffer collects output written from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRun_PrintsAProviderBlockServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-token", "secret-token=demo"}, &stdout, &stderr)
	}()

	banner := regexp.MustCompile(`^vpsorg-emulator listening on (http://127\.0\.0\.1:\d+/api/v1/)\n` +
		`provider "vpsorg" \{\n  endpoint  = "(http://127\.0\.0\.1:\d+/api/v1/)"\n  api_token = "secret-token"\n\}\n$`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no banner; stdout %q stderr %q", stdout.String(), stderr.String())
		}
		m = banner.FindStringSubmatch(stdout.String())
	}
	if m[1] != m[2] {
		t.Errorf("URLs differ: %q %q", m[1], m[2])
	}
	req, _ := http.NewRequest("GET", m[1]+"servers/", nil)
	req.Header.Set("Authorization", "Bearer secret-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d; stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
	log := stderr.String()
	if !strings.Contains(log, "GET /api/v1/servers/ 200") || !strings.Contains(log, "account=demo") || strings.Contains(log, "secret-token") {
		t.Errorf("request log = %q", log)
	}
}
