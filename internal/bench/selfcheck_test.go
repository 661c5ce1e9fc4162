package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Quick checks of the benchmark's own arithmetic and generated files, so
// that a wrong figure is caught by `make test`, not by a reader of a report.

func TestApplyBound(t *testing.T) {
	for _, c := range []struct {
		n, p int
		want time.Duration
	}{
		{10, 10, 2 * time.Second},
		{11, 10, 4 * time.Second},
		{100, 10, 20 * time.Second},
		{500, 10, 100 * time.Second},
		{1, 10, 2 * time.Second},
	} {
		if got := applyBound(c.n, c.p, 2*time.Second); got != c.want {
			t.Errorf("applyBound(%d, %d, 2s) = %s, want %s", c.n, c.p, got, c.want)
		}
	}
}

func TestPollSlack(t *testing.T) {
	t0 := time.Date(2025, 1, 16, 15, 30, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	get := func(id string, ms, status int) emulator.Request {
		return emulator.Request{Method: "GET", Route: emulator.RouteServer, Path: "/api/v1/servers/" + id + "/", Status: status, Time: at(ms)}
	}
	reqs := []emulator.Request{
		{Method: "POST", Route: emulator.RouteServers, Path: "/api/v1/servers/", Status: 201, Time: at(0)},
		{Method: "POST", Route: emulator.RouteServers, Path: "/api/v1/servers/", Status: 402, Time: at(5)}, // no server
		{Method: "POST", Route: emulator.RouteServers, Path: "/api/v1/servers/", Status: 201, Time: at(10)},
		get("12345", 1000, 200), // too early
		{Method: "GET", Route: emulator.RouteServers, Path: "/api/v1/servers/", RawQuery: "status=provisioning", Status: 200, Time: at(2005)},
		get("12345", 2100, 200), // 12345 ready at 2000: slack 100ms
		get("12346", 2050, 404), // not a 200
		get("12346", 2300, 200), // 12346 ready at 2010: slack 290ms
		get("12345", 2400, 200), // the read-back, later
		get("99999", 2020, 200), // another server
		{Method: "DELETE", Route: emulator.RouteServer, Path: "/api/v1/servers/12346/", Status: 204, Time: at(2030)},
	}
	slack, missing := pollSlack(reqs, []int64{12346, 12345}, 2*time.Second)
	if missing != 0 || len(slack) != 2 || slack[0] != 100*time.Millisecond || slack[1] != 290*time.Millisecond {
		t.Errorf("pollSlack = %v, %d missing; want [100ms 290ms], 0", slack, missing)
	}
	if m := median(slack); m != 195*time.Millisecond {
		t.Errorf("median = %s, want 195ms", m)
	}

	// A server never read after it became ready is missing; POSTs and ids
	// that do not pair up are all missing.
	if slack, missing := pollSlack(reqs[:3], []int64{12345, 12346}, 2*time.Second); len(slack) != 0 || missing != 2 {
		t.Errorf("without GETs: %v, %d missing; want none, 2", slack, missing)
	}
	if slack, missing := pollSlack(reqs, []int64{12345}, 2*time.Second); slack != nil || missing != 1 {
		t.Errorf("unpaired: %v, %d missing; want nil, 1", slack, missing)
	}
}

func TestPhaseFigures(t *testing.T) {
	p := &phase{N: 2, Run: tfRun{Wall: 3 * time.Second}, TimeBound: 2 * time.Second, RequestBound: 4, Requests: []emulator.Request{
		{Method: "POST", Status: 201}, {Method: "POST", Status: 201},
		{Method: "GET", Status: 200}, {Method: "GET", Status: 200}, {Method: "GET", Status: 200},
		{Method: "GET", Status: 404},
	}}
	if got := p.pollsPerServer(); got != 1 {
		t.Errorf("pollsPerServer = %v, want (4 GETs - 2) / 2 = 1", got)
	}
	if got := p.timeRatio(); got != 1.5 {
		t.Errorf("timeRatio = %v, want 1.5", got)
	}
	if got := p.fewestRatio(); got != 0 {
		t.Errorf("fewestRatio without a bound = %v, want 0", got)
	}
	p.FewestBound = time.Second
	if got := p.fewestRatio(); got != 3 {
		t.Errorf("fewestRatio = %v, want 3", got)
	}
	if got := p.requestRatio(); got != 1.5 {
		t.Errorf("requestRatio = %v, want 1.5", got)
	}
	if got := p.non2xx(); got != "404×1" {
		t.Errorf("non2xx = %q", got)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tterraform-provi\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t4242\nPPid:\t4200\nVmPeak:\t 1300000 kB\nVmHWM:\t   31112 kB\nVmRSS:\t   30000 kB\n"
	ppid, hwm := parseStatus([]byte(status))
	if ppid != 4200 || hwm != 31112 {
		t.Errorf("parseStatus = %d, %d; want 4200, 31112", ppid, hwm)
	}
	if providerComm != providerName[:15] {
		t.Errorf("providerComm %q is not the first 15 bytes of %q", providerComm, providerName)
	}
}

func TestLoadSettings(t *testing.T) {
	for _, name := range []string{"BENCH_PROVISIONING", "BENCH_PARALLELISM", "BENCH_LOG_DIR",
		"BENCH_RATE_LIMIT", "BENCH_BURST", "BENCH_LATENCY", "BENCH_MAX_RPS", "BENCH_PHASES", "BENCH_MANNERS", "BENCH_STOPPED"} {
		t.Setenv(name, "")
	}
	t.Setenv("BENCH_N", "10, 100")
	s, err := loadSettings()
	if err != nil || len(s.ns) != 2 || s.ns[1] != 100 || s.provisioning != 2*time.Second || s.parallelism != 10 || s.pageSize != 50 {
		t.Errorf("loadSettings = %+v, %v", s, err)
	}
	if s.rateLimit != 0 || s.burst != 0 || s.latency != 0 || s.maxRPS != 0 || !slices.Equal(s.phases, allPhases) {
		t.Errorf("defaults: rate %v, burst %d, latency %s, max rps %v, phases %v; want none and all phases", s.rateLimit, s.burst, s.latency, s.maxRPS, s.phases)
	}
	for _, bad := range []string{"0", "ten", "10,,20"} {
		t.Setenv("BENCH_N", bad)
		if _, err := loadSettings(); err == nil {
			t.Errorf("BENCH_N=%q accepted", bad)
		}
	}
	t.Setenv("BENCH_N", "")

	// The new knobs, each with what it gives or that it is refused.
	for _, c := range []struct {
		env   map[string]string
		check func(settings) bool
	}{
		{map[string]string{"BENCH_RATE_LIMIT": "10"}, func(s settings) bool { return s.rateLimit == 10 && s.burst == 10 }},
		{map[string]string{"BENCH_RATE_LIMIT": "2.5"}, func(s settings) bool { return s.rateLimit == 2.5 && s.burst == 3 }},
		{map[string]string{"BENCH_RATE_LIMIT": "0.2"}, func(s settings) bool { return s.burst == 1 }},
		{map[string]string{"BENCH_RATE_LIMIT": "10", "BENCH_BURST": "4"}, func(s settings) bool { return s.burst == 4 }},
		{map[string]string{"BENCH_RATE_LIMIT": "0"}, func(s settings) bool { return s.rateLimit == 0 && s.burst == 0 }},
		{map[string]string{"BENCH_LATENCY": "50ms"}, func(s settings) bool { return s.latency == 50*time.Millisecond }},
		{map[string]string{"BENCH_MAX_RPS": "10"}, func(s settings) bool { return s.maxRPS == 10 }},
		{map[string]string{"BENCH_PHASES": "destroy, plan"}, func(s settings) bool {
			return slices.Equal(s.phases, []string{"plan", "destroy"}) && s.runs("plan") && !s.runs("apply")
		}},
		{map[string]string{"BENCH_MANNERS": ""}, func(s settings) bool { return slices.Equal(s.manners, []string{mannerDocumented}) && s.stopped == 0 }},
		{map[string]string{"BENCH_MANNERS": "strict, documented"}, func(s settings) bool {
			return slices.Equal(s.manners, []string{mannerStrict, mannerDocumented})
		}},
		{map[string]string{"BENCH_STOPPED": "6"}, func(s settings) bool { return s.stopped == 6 }},
		{map[string]string{"BENCH_MANNERS": "lenient"}, nil},
		{map[string]string{"BENCH_STOPPED": "-1"}, nil},
		{map[string]string{"BENCH_RATE_LIMIT": "-1"}, nil},
		{map[string]string{"BENCH_RATE_LIMIT": "NaN"}, nil},
		{map[string]string{"BENCH_RATE_LIMIT": "fast"}, nil},
		{map[string]string{"BENCH_BURST": "10"}, nil}, // without a rate limit
		{map[string]string{"BENCH_RATE_LIMIT": "10", "BENCH_BURST": "0"}, nil},
		{map[string]string{"BENCH_LATENCY": "50"}, nil},
		{map[string]string{"BENCH_LATENCY": "-1s"}, nil},
		{map[string]string{"BENCH_MAX_RPS": "0"}, nil},
		{map[string]string{"BENCH_MAX_RPS": "Inf"}, nil},
		{map[string]string{"BENCH_PHASES": "apply,refresh"}, nil},
		{map[string]string{"BENCH_PHASES": "plan,"}, nil},
	} {
		for name, value := range c.env {
			t.Setenv(name, value)
		}
		s, err := loadSettings()
		switch {
		case c.check == nil && err == nil:
			t.Errorf("%v accepted", c.env)
		case c.check != nil && err != nil:
			t.Errorf("%v: %v", c.env, err)
		case c.check != nil && !c.check(s):
			t.Errorf("%v: got rate %v, burst %d, latency %s, max rps %v, phases %v", c.env, s.rateLimit, s.burst, s.latency, s.maxRPS, s.phases)
		}
		for name := range c.env {
			t.Setenv(name, "")
		}
	}
}

func TestLowerBound(t *testing.T) {
	for _, c := range []struct {
		name                  string
		n                     int
		provisioning, latency time.Duration
		roundTrips, passed    int
		rate                  float64
		want                  time.Duration
		wantText              string
	}{
		{"apply, no limit", 100, 2 * time.Second, 0, 1, 300, 0, 20 * time.Second, "provisioning"},
		{"plan, no limit: none", 100, 0, 0, 1, 100, 0, 0, ""},
		{"apply, the limit binds", 100, 2 * time.Second, 0, 1, 250, 10, 25 * time.Second, "requests ÷ rate"},
		{"apply, provisioning binds", 100, 2 * time.Second, 0, 1, 150, 10, 20 * time.Second, "provisioning"},
		{"plan under a limit", 100, 0, 0, 1, 100, 10, 10 * time.Second, "requests ÷ rate"},
		{"plan with latency", 500, 0, 50 * time.Millisecond, 1, 500, 0, 2500 * time.Millisecond, "latency"},
		{"destroy with latency: refresh, then delete", 500, 0, 50 * time.Millisecond, 2, 1500, 0, 5 * time.Second, "latency"},
		{"apply with latency", 100, 2 * time.Second, 50 * time.Millisecond, 1, 200, 0, 20500 * time.Millisecond, "provisioning + latency"},
	} {
		got, text := lowerBound(c.n, 10, c.provisioning, c.latency, c.roundTrips, c.passed, c.rate)
		if got != c.want || text != c.wantText {
			t.Errorf("%s: lowerBound = %s (%q), want %s (%q)", c.name, got, text, c.want, c.wantText)
		}
	}
}

func TestStopsBound(t *testing.T) {
	for _, c := range []struct {
		name                     string
		n, stopped               int
		provisioning, transition time.Duration
		want                     time.Duration
	}{
		{"no stops", 30, 0, 3 * time.Second, 2 * time.Second, 0},
		{"the slots' work", 30, 6, 3 * time.Second, 2 * time.Second, 10200 * time.Millisecond},
		{"one server, created then stopped", 1, 1, 3 * time.Second, 2 * time.Second, 5 * time.Second},
	} {
		if got := stopsBound(c.n, 10, c.stopped, c.provisioning, c.transition); got != c.want {
			t.Errorf("%s: stopsBound = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestThrottledAndPassed(t *testing.T) {
	p := &phase{N: 2, Requests: []emulator.Request{
		{Status: 201}, {Status: 429}, {Status: 429}, {Status: 200}, {Status: 404}, {Status: 0},
	}}
	if p.throttled() != 2 || p.passed() != 3 || p.throttledShare() != 2.0/6 {
		t.Errorf("throttled %d, passed %d, share %v; want 2, 3 (not the 429s nor the dropped one), 1/3", p.throttled(), p.passed(), p.throttledShare())
	}
	if (&phase{}).throttledShare() != 0 {
		t.Error("throttledShare of no requests is not 0")
	}
}

func TestParseFirstError(t *testing.T) {
	boxed := `vpsorg_server.bench[3]: Destroying... [id=12348]
╷
│ Warning: Provider development overrides are in effect
│ 
│ The following provider development overrides are set in the CLI configuration:
╵
╷
│ Error: Unable to delete server
│ 
│   with vpsorg_server.bench[3],
│   on main.tf line 11, in resource "vpsorg_server" "bench":
│   11: resource "vpsorg_server" "bench" {
│ 
│ The VPS.org API answered "delete server 12348" with HTTP 429 Too Many
│ Requests: Request was throttled.
│ 
│ The API kept rate-limiting after all retries; run with lower -parallelism or try again later.
╵
╷
│ Error: Unable to delete server
│ 
│ Another detail.
╵
`
	want := `Error: Unable to delete server: The VPS.org API answered "delete server 12348" with HTTP 429 Too Many Requests: Request was throttled. (2 errors in all)`
	if got := parseFirstError(boxed); got != want {
		t.Errorf("parseFirstError(boxed) =\n%s\nwant\n%s", got, want)
	}
	plain := "Error: Unsupported argument\n\n  on main.tf line 10, in provider \"vpsorg\":\n  10:   max_requests_per_second = 10\n\nAn argument named \"max_requests_per_second\" is not expected here.\n"
	if got, want := parseFirstError(plain), `Error: Unsupported argument: An argument named "max_requests_per_second" is not expected here.`; got != want {
		t.Errorf("parseFirstError(plain) = %q, want %q", got, want)
	}
	// Unboxed, as terraform prints it without a terminal, and wrapped.
	unboxed := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(boxed, "│ ", ""), "│", ""), "╷\n", "")
	unboxed = strings.ReplaceAll(unboxed, "╵\n", "\n")
	if got := parseFirstError(unboxed); got != want {
		t.Errorf("parseFirstError(unboxed) =\n%s\nwant\n%s\nfrom\n%s", got, want, unboxed)
	}
	if got := parseFirstError("Apply complete!\n"); got != "" {
		t.Errorf("parseFirstError without an error = %q", got)
	}
}

// TestConfigs checks that both generated configurations are valid,
// canonically formatted HCL (terraform fmt reads them from stdin), and say
// what the benchmark means them to.
func TestConfigs(t *testing.T) {
	tf, err := findTerraform()
	if err != nil {
		t.Skip(err)
	}
	configs := map[string]string{
		"provider":         providerConfig(3, 0, false, 0),
		"provider/patch":   providerConfig(3, 0, true, 0),
		"provider/max-rps": providerConfig(3, 0, false, 2.5),
		"provider/stopped": providerConfig(3, 1, false, 0),
		"local-exec":       localExecConfig(3, "/tmp/ids"),
	}
	for name, config := range configs {
		cmd := exec.Command(tf, "fmt", "-check", "-")
		cmd.Stdin = strings.NewReader(config)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: terraform fmt -check: %v\n%s\n%s", name, err, out, config)
		}
	}
	for _, want := range []string{`count = 3`, `"bench-${count.index}"`, `backups_enabled = true`} {
		if !strings.Contains(configs["provider/patch"], want) {
			t.Errorf("provider config lacks %s", want)
		}
	}
	if !strings.Contains(configs["provider"], `provider "vpsorg" {}`) {
		t.Errorf("provider config sets something in the provider block:\n%s", configs["provider"])
	}
	if !strings.Contains(configs["provider/stopped"], `power_state     = count.index < 1 ? "stopped" : "running"`) {
		t.Errorf("provider config with a stopped server lacks its power_state:\n%s", configs["provider/stopped"])
	}
	if !strings.Contains(configs["provider/max-rps"], "max_requests_per_second = 2.5\n") {
		t.Errorf("provider config with maxRPS lacks max_requests_per_second = 2.5:\n%s", configs["provider/max-rps"])
	}
	for _, want := range []string{`when    = destroy`, `"$${VPSORG_ENDPOINT}servers/"`, `"/tmp/ids/${self.input}"`, `sleep 1`, `-X DELETE`} {
		if !strings.Contains(configs["local-exec"], want) {
			t.Errorf("local-exec config lacks %s", want)
		}
	}
}

// TestRunTerraformKillsItsGroup checks the clean-up promise: a command
// whose context ends is killed with everything it started.
func TestRunTerraformKillsItsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	fake := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\nsleep 60 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(fake, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := runTerraform(ctx, fake, os.Environ(), dir, filepath.Join(dir, "out.log"), "apply")
	if err == nil {
		t.Fatal("runTerraform returned no error for a cancelled command")
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("runTerraform took %s after its context ended", took)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return // gone, or a zombie waiting for its new parent
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the command's child %d outlived it", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
