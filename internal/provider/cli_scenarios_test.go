package provider

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// cliEmulator starts an emulator for a CLI test; its request log is kept.
func cliEmulator(t *testing.T, log io.Writer) *emulator.Emulator {
	t.Helper()
	emu, err := emulator.Start(emulator.Options{
		Tokens:           map[string]string{testToken: "acc"},
		ProvisioningTime: time.Second,
		TransitionTime:   500 * time.Millisecond,
		Log:              log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}

const cliRequiredProviders = `terraform {
  required_providers {
    vpsorg = {
      source = "vpsorg/vpsorg"
    }
  }
}
`

// terraform-plugin-testing (v1.16) cannot run this one: a step whose state
// holds string-keyed for_each instances fails in its state shim with
// "unexpected index type (string) ... for_each is not supported", before any
// statecheck runs (tried). So it drives the CLI itself.
func TestAccServersDataSource_forEachOverServers(t *testing.T) {
	t.Parallel()
	emu := cliEmulator(t, nil)
	seedFleet(t, emu, [][3]string{{"alpha", "active", "us-west"}, {"beta", "stopped", "us-west"}, {"gamma", "active", "us-east"}})
	c := newCLI(t, emu.URL(), testToken)
	c.write("main.tf", cliRequiredProviders+`
data "vpsorg_servers" "west" {
  location = "us-west"
}

resource "terraform_data" "per_server" {
  for_each = { for s in data.vpsorg_servers.west.servers : s.name => s }
  input    = "${each.value.name} is ${each.value.status}"
}
`)
	c.must("apply", "-auto-approve", "-input=false")
	got := map[string]string{}
	for _, r := range c.state() {
		if strings.HasPrefix(r.Address, "terraform_data.per_server[") {
			got[r.Address] = fmt.Sprint(r.Values["output"])
		}
	}
	want := map[string]string{
		`terraform_data.per_server["alpha"]`: "alpha is active",
		`terraform_data.per_server["beta"]`:  "beta is stopped",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("for_each instances = %v, want %v", got, want)
	}
	if out, err := c.run(nil, "plan", "-detailed-exitcode", "-input=false"); err != nil {
		t.Errorf("plan after apply is not empty: %v\n%s", err, out)
	}
}

// An apply interrupted while it waits for provisioning keeps the server in
// state, tainted; the next apply replaces it and destroy leaves nothing.
func TestAccServerResource_interruptedApplyKeepsTheServer(t *testing.T) {
	t.Parallel()
	emu := cliEmulator(t, nil)
	emu.SetProvisioningTime(10 * time.Minute)
	c := newCLI(t, emu.URL(), testToken)
	c.write("main.tf", cliRequiredProviders+serverConfig("interrupted", 1, ""))

	var out bytes.Buffer
	cmd := c.command(t.Context(), nil, "apply", "-auto-approve", "-input=false")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for emu.RequestCounts()["GET "+emulator.RouteServer] < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the apply never started waiting:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	interrupted := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("an interrupted apply succeeded:\n%s", out.String())
	}
	t.Logf("terraform exited %v after the interrupt", time.Since(interrupted).Round(time.Millisecond))

	state := c.state()
	if len(state) != 1 || !state[0].Tainted || state[0].Values["id"] == nil {
		t.Fatalf("after the interrupt, state = %+v; want the server, with its id, tainted\n%s", state, out.String())
	}
	first := fmt.Sprint(state[0].Values["id"])

	emu.SetProvisioningTime(time.Second)
	applied := c.must("apply", "-auto-approve", "-input=false")
	if !strings.Contains(applied, "1 added, 0 changed, 1 destroyed") {
		t.Errorf("the next apply did not replace the tainted server:\n%s", applied)
	}
	if _, still := emu.Server(mustParseID(t, first)); still {
		t.Errorf("the tainted server %s still exists after the replacing apply", first)
	}
	c.must("destroy", "-auto-approve", "-input=false")
	if left := emu.Servers("acc"); len(left) != 0 {
		t.Errorf("after destroy the emulator holds %+v", left)
	}
}

func mustParseID(t *testing.T, s string) int64 {
	t.Helper()
	id, ok := parseID(s)
	if !ok {
		t.Fatalf("bad id %q", s)
	}
	return id
}

// syncBuffer is a bytes.Buffer safe for the emulator's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The token appears nowhere: not in a full TRACE log of apply and destroy,
// not in terraform's output, not in the emulator's log, not in the error a
// refused token gives.
func TestAccProvider_tokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const secret = "tok-3f9c1a7e-never-print-me"
	var emuLog syncBuffer
	emu, err := emulator.Start(emulator.Options{
		Tokens: map[string]string{secret: "acc"}, ProvisioningTime: time.Second, TransitionTime: 300 * time.Millisecond, Log: &emuLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c := newCLI(t, "", "")
	// The token sits in the provider block, the hardest case: Terraform
	// itself handles it as a configuration value.
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
provider "vpsorg" {
  endpoint  = %q
  api_token = %q
}
`, emu.URL(), secret)+serverConfig("secretive", 1, `  power_state = "stopped"`)+`
data "vpsorg_servers" "all" {
  depends_on = [vpsorg_server.web]
}
`)
	logFile := filepath.Join(t.TempDir(), "trace.log")
	trace := []string{"TF_LOG=TRACE", "TF_LOG_PATH=" + logFile}
	var outputs []string
	for _, args := range [][]string{{"apply", "-auto-approve", "-input=false"}, {"plan", "-input=false"}, {"destroy", "-auto-approve", "-input=false"}} {
		out, err := c.run(trace, args...)
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
		}
		outputs = append(outputs, out)
	}
	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logged, []byte("vpsorg")) || !regexp.MustCompile(`POST|/api/v1/servers/`).Match(logged) {
		t.Fatalf("the TRACE log (%d bytes) does not show the provider's requests; the test would prove nothing", len(logged))
	}
	if i := bytes.Index(logged, []byte(secret)); i >= 0 {
		t.Errorf("the TRACE log contains the token: ...%s...", logged[max(0, i-200):min(len(logged), i+100)])
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("terraform output contains the token:\n%s", out)
		}
	}
	if strings.Contains(emuLog.String(), secret) || emuLog.String() == "" {
		t.Errorf("the emulator log is empty or contains the token:\n%s", emuLog.String())
	}

	// A refused token: the error names the variable, not the value.
	wrong := "tok-wrong-0d2b-never-print-me"
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
provider "vpsorg" {
  endpoint  = %q
  api_token = %q
}

data "vpsorg_servers" "all" {}
`, emu.URL(), wrong))
	out, err := c.run(trace, "plan", "-input=false")
	if err == nil || !strings.Contains(out, "VPSORG_API_TOKEN") || !strings.Contains(out, "401") {
		t.Errorf("a refused token should fail with HTTP 401 and name VPSORG_API_TOKEN:\n%s", out)
	}
	logged, _ = os.ReadFile(logFile)
	if strings.Contains(out, wrong) || bytes.Contains(logged, []byte(wrong)) {
		t.Errorf("the refused token appears in the output or the TRACE log")
	}
}
