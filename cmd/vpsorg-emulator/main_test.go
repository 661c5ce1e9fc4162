package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
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
		o.Credits != 1000 || o.HonourIdempotencyKey || o.ConsistencyLag != 0 {
		t.Errorf("options = %+v", o)
	}
	if cfg.rateLimit != 0 || cfg.latency != 0 || cfg.faults() != "" {
		t.Errorf("no faults by default: %+v", cfg)
	}
}

func TestParseFlags_EveryFlag(t *testing.T) {
	cfg, err := parseFlags([]string{
		"-listen", "[::1]:9000", "-token", "t1", "-token", "t2=alice", "-token", "a=b=carol", "-token", "c2VjcmV0==",
		"-provisioning-time", "0", "-transition-time", "150ms", "-page-size", "3", "-credits", "0",
		"-honour-idempotency-key", "-quiet",
		"-rate-limit", "2.5", "-burst", "7", "-latency", "50ms", "-consistency-lag", "1s",
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
	if cfg.rateLimit != 2.5 || cfg.burst != 7 || cfg.latency != 50*time.Millisecond || o.ConsistencyLag != time.Second {
		t.Errorf("faults: rate %v burst %d latency %v lag %v", cfg.rateLimit, cfg.burst, cfg.latency, o.ConsistencyLag)
	}
	want := "rate limit 2.5 requests/s per account (burst 7), latency 50ms, consistency lag 1s"
	if got := cfg.faults(); got != want {
		t.Errorf("faults() = %q, want %q", got, want)
	}
}

func TestParseFlags_Manners(t *testing.T) {
	cfg, err := parseFlags([]string{
		"-create-lag", "3s", "-clock-offset", "-20s", "-partial-every", "3", "-unknown-status", "maintenance",
		"-redirect-to", "http://127.0.0.1:9/", "-hostile-next", "?page=1#x", "-huge-errors", "-echo-headers",
		"-list-churn", "2",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := emulator.Manners{CreateLag: 3 * time.Second, ClockOffset: -20 * time.Second, PartialEvery: 3, UnknownStatus: "maintenance",
		RedirectTo: "http://127.0.0.1:9/", HostileNext: "?page=1#x", HugeErrors: true, EchoHeaders: true, ListChurn: 2}
	if cfg.options.Manners != want {
		t.Errorf("manners = %+v, want %+v", cfg.options.Manners, want)
	}
	for _, args := range [][]string{{"-create-lag", "-1s"}, {"-partial-every", "-2"}} {
		if _, err := parseFlags(args, io.Discard); err == nil || !strings.Contains(err.Error(), "must not be negative") {
			t.Errorf("%v: error = %v, want a refusal", args, err)
		}
	}
}

func TestParseFlags_BurstDefaultsToTheRateRoundedUp(t *testing.T) {
	for _, c := range []struct {
		rate  string
		burst int
	}{{"0", 0}, {"0.2", 1}, {"1", 1}, {"2.5", 3}, {"10", 10}} {
		cfg, err := parseFlags([]string{"-rate-limit", c.rate}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.burst != c.burst {
			t.Errorf("-rate-limit %s: burst %d, want %d", c.rate, cfg.burst, c.burst)
		}
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
		{"journal size", []string{"-journal-size", "0"}, "-journal-size must be at least 1"},
		{"negative duration", []string{"-transition-time", "-1s"}, "negative"},
		{"negative credits", []string{"-credits", "-2"}, "-credits"},
		{"negative rate limit", []string{"-rate-limit", "-1"}, "-rate-limit"},
		{"rate limit not a number", []string{"-rate-limit", "NaN"}, "-rate-limit"},
		{"infinite rate limit", []string{"-rate-limit", "+Inf"}, "-rate-limit"},
		{"zero burst", []string{"-rate-limit", "1", "-burst", "0"}, "-burst must be at least 1"},
		{"burst without a rate limit", []string{"-burst", "5"}, "-burst needs -rate-limit"},
		{"negative latency", []string{"-latency", "-1ms"}, "-latency must not be negative"},
		{"negative consistency lag", []string{"-consistency-lag", "-1s"}, "-consistency-lag must not be negative"},
		{"unknown rate-limit header family", []string{"-rate-limit", "1", "-rate-limit-headers", "github"}, "want ratelimit, draft or x-ratelimit"},
		{"rate-limit headers without a limit", []string{"-rate-limit-headers", "draft"}, "-rate-limit-headers needs -rate-limit"},
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

// running is the command run in the background by start.
type running struct {
	url            string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan int
}

// start runs the command with args and waits for its banner.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- run(ctx, args, r.stdout, r.stderr) }()
	t.Cleanup(func() { r.stop(t) })
	endpoint := regexp.MustCompile(`listening on (\S+)\n(?s:.*)\n\}\n`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := endpoint.FindStringSubmatch(r.stdout.String()); m != nil {
			r.url = m[1]
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner; stdout %q stderr %q", r.stdout.String(), r.stderr.String())
		}
	}
}

// stop shuts the command down and returns its exit code; again, it returns
// the same code.
func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
	return -1
}

// answer is what send got back.
type answer struct {
	status     int
	retryAfter string
	header     http.Header
	body       []byte
}

// send makes one request with the token.
func (r *running) send(t *testing.T, method, path, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, r.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), header: resp.Header, body: data}
}

func TestRun_PrintsAProviderBlockServesAndShutsDown(t *testing.T) {
	r := start(t, "-listen", "127.0.0.1:0", "-token", "secret-token=demo")

	banner := regexp.MustCompile(`^vpsorg-emulator listening on (http://127\.0\.0\.1:\d+/api/v1/)\n` +
		`control API: http://127\.0\.0\.1:\d+/_emulator/ \(from loopback only; set -admin-token for other addresses\)\n` +
		`live view: http://127\.0\.0\.1:\d+/_emulator/ui/\n` +
		`provider "vpsorg" \{\n  endpoint  = "(http://127\.0\.0\.1:\d+/api/v1/)"\n  api_token = "secret-token"\n\}\n$`)
	m := banner.FindStringSubmatch(r.stdout.String())
	if m == nil || m[1] != m[2] {
		t.Fatalf("banner %q", r.stdout.String())
	}
	if a := r.send(t, "GET", "servers/", "secret-token", ""); a.status != http.StatusOK {
		t.Errorf("status %d", a.status)
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit code %d; stderr %q", code, r.stderr.String())
	}
	log := r.stderr.String()
	if !strings.Contains(log, "GET /api/v1/servers/ 200") || !strings.Contains(log, "account=demo") || strings.Contains(log, "secret-token") {
		t.Errorf("request log = %q", log)
	}
}

func TestRun_RateLimitAnswers429OverTheBurst(t *testing.T) {
	// A rate this low refills no token between requests sent at once.
	r := start(t, "-listen", "127.0.0.1:0", "-quiet", "-rate-limit", "0.2", "-burst", "2")
	if !strings.Contains(r.stdout.String(), "faults: rate limit 0.2 requests/s per account (burst 2)\n") {
		t.Errorf("banner %q", r.stdout.String())
	}
	for i, want := range []int{200, 200, 429} {
		a := r.send(t, "GET", "servers/", "emulator-token", "")
		if a.status != want || (want == 429 && a.retryAfter != "5") {
			t.Errorf("request %d: %d (Retry-After %q), want %d", i+1, a.status, a.retryAfter, want)
		}
	}
}

func TestRun_RateLimitHeadersSayWhatIsLeft(t *testing.T) {
	r := start(t, "-listen", "127.0.0.1:0", "-quiet", "-rate-limit", "0.2", "-burst", "2", "-rate-limit-headers", "ratelimit")
	if !strings.Contains(r.stdout.String(), "rate-limit headers ratelimit") {
		t.Errorf("banner %q", r.stdout.String())
	}
	// A token refills in 5s: after the first request one is left and the
	// bucket is whole again in 5s; after the second, none, in 10s.
	for i, want := range []struct{ remaining, reset string }{{"1", "5"}, {"0", "10"}} {
		h := r.send(t, "GET", "servers/", "emulator-token", "").header
		if h.Get("RateLimit-Limit") != "2" || h.Get("RateLimit-Remaining") != want.remaining || h.Get("RateLimit-Reset") != want.reset {
			t.Errorf("request %d: RateLimit-Limit %q, -Remaining %q, -Reset %q; want 2, %s, %s", i+1,
				h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset"), want.remaining, want.reset)
		}
	}
}

func TestRun_StrictFiltersRefuseUndocumentedStatusValues(t *testing.T) {
	r := start(t, "-listen", "127.0.0.1:0", "-quiet", "-strict-filters")
	for query, want := range map[string]int{"": 200, "?status=active": 200, "?status=stopped": 200, "?status=suspended": 200, "?status=provisioning": 400, "?status=stopping": 400} {
		if a := r.send(t, "GET", "servers/"+query, "emulator-token", ""); a.status != want {
			t.Errorf("GET servers/%s: %d, want %d (%s)", query, a.status, want, a.body)
		}
	}
}

func TestRun_LatencyAndConsistencyLagTakeEffect(t *testing.T) {
	r := start(t, "-listen", "127.0.0.1:0", "-quiet", "-latency", "100ms", "-consistency-lag", "1h",
		"-provisioning-time", "0", "-transition-time", "0")
	if !strings.Contains(r.stdout.String(), "faults: latency 100ms, consistency lag 1h0m0s\n") {
		t.Errorf("banner %q", r.stdout.String())
	}
	began := time.Now()
	a := r.send(t, "POST", "servers/", "emulator-token", `{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`)
	if took := time.Since(began); a.status != http.StatusCreated || took < 100*time.Millisecond {
		t.Fatalf("create: %d after %v, want 201 after at least the latency", a.status, took)
	}
	if a := r.send(t, "POST", "servers/12345/stop/", "emulator-token", ""); a.status != http.StatusOK {
		t.Fatalf("stop: %d", a.status)
	}
	// The stop is done at once, but for an hour GET shows the server active.
	var server struct{ Status string }
	a = r.send(t, "GET", "servers/12345/", "emulator-token", "")
	if err := json.Unmarshal(a.body, &server); err != nil || server.Status != "active" {
		t.Errorf("GET after the stop: %d %s; want active during the lag", a.status, a.body)
	}
}

// The answers the API documentation leaves open can be chosen either way;
// the documented catalog and a server-shaped update answer are the default.
func TestParseFlags_UndocumentedAnswers(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.options; o.ExtendedCatalog || o.EmptyUpdateAnswer || o.RebootKeepsUpdatedAt {
		t.Errorf("defaults: %+v", o)
	}
	cfg, err = parseFlags([]string{"-extended-catalog", "-empty-update-answer", "-reboot-keeps-updated-at"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.options; !o.ExtendedCatalog || !o.EmptyUpdateAnswer || !o.RebootKeepsUpdatedAt {
		t.Errorf("set: %+v", o)
	}
}

// `-h`, `--help` and `help` show the same usage: the subcommands, then the
// flags; `help` on stdout, because it was asked for.
func TestRun_HelpListsTheSubcommandsAndTheFlags(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stdout bool
	}{{[]string{"-h"}, false}, {[]string{"--help"}, false}, {[]string{"help"}, true}} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), c.args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			usage, other := stderr.String(), stdout.String()
			if c.stdout {
				usage, other = other, usage
			}
			if other != "" {
				t.Errorf("the usage also wrote to the other stream: %q", other)
			}
			for _, want := range []string{
				"vpsorg-emulator [flags]",
				"vpsorg-emulator run [flags] -- COMMAND",
				"vpsorg-emulator health [-url URL | -address-file FILE]",
				"vpsorg-emulator help",
				"\n  -listen string",
				"\n  -chaos-seed uint",
			} {
				if !strings.Contains(usage, want) {
					t.Errorf("usage lacks %q:\n%s", want, usage)
				}
			}
		})
	}
}
