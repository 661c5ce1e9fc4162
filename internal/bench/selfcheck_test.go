package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	t.Setenv("BENCH_N", "10, 100")
	t.Setenv("BENCH_PROVISIONING", "")
	t.Setenv("BENCH_PARALLELISM", "")
	t.Setenv("BENCH_LOG_DIR", "")
	s, err := loadSettings()
	if err != nil || len(s.ns) != 2 || s.ns[1] != 100 || s.provisioning != 2*time.Second || s.parallelism != 10 || s.pageSize != 50 {
		t.Errorf("loadSettings = %+v, %v", s, err)
	}
	for _, bad := range []string{"0", "ten", "10,,20"} {
		t.Setenv("BENCH_N", bad)
		if _, err := loadSettings(); err == nil {
			t.Errorf("BENCH_N=%q accepted", bad)
		}
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
		"provider":       providerConfig(3, false),
		"provider/patch": providerConfig(3, true),
		"local-exec":     localExecConfig(3, "/tmp/ids"),
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
