package provider

import (
	"bytes"
	"fmt"
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
	env := newTestEnv(t)
	c := newCLI(t, env.endpoint, env.token)
	env.seedServers(serverSpec{name: "alpha"}, serverSpec{name: "beta", stopped: true}, serverSpec{name: "gamma", location: catalog.locations[1]})
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
data "vpsorg_servers" "west" {
  location = %[2]q
}

locals {
  # This test's servers only: the account may hold others.
  own = { for s in data.vpsorg_servers.west.servers : trimprefix(s.name, %[1]q) => s if startswith(s.name, %[1]q) }
}

resource "terraform_data" "per_server" {
  for_each = local.own
  input    = "${each.key} is ${each.value.status}"
}
`, env.prefix, catalog.locations[0]))
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

// An apply interrupted (Ctrl-C) while it waits for provisioning keeps the
// server in state, untainted, with the status the API last showed; the next
// apply, the server provisioned by then, changes nothing, and destroy leaves
// nothing. In process the emulator provisions for ten minutes; elsewhere
// the interrupt comes as soon as the API lists the server, which must take
// long enough to provision for it to land first.
func TestAccServerResource_interruptedApplyKeepsTheServer(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	c := newCLI(t, env.endpoint, env.token)
	const needs = "needs the emulator's SetProvisioningTime hook"
	if emu := env.emulator; emu != nil {
		emu.SetProvisioningTime(10 * time.Minute)
	} else if took := env.provisioningTime(); took < time.Second {
		t.Skipf("%s: this endpoint provisions in %v, too fast to interrupt an apply that waits for it", needs, took)
	}
	c.write("main.tf", cliRequiredProviders+env.serverConfig("interrupted", catalog.plans[0], ""))

	var out bytes.Buffer
	cmd := c.command(t.Context(), nil, "apply", "-auto-approve", "-input=false")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(accTimeout())
	for own, err := env.ownServers(); err != nil || len(own) == 0; own, err = env.ownServers() {
		if time.Now().After(deadline) {
			t.Fatalf("the apply never created the server (%v):\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	interrupted := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // Terraform exits non-zero after an interrupt, whatever the provider says
	t.Logf("terraform exited %v after the interrupt", time.Since(interrupted).Round(time.Millisecond))
	if !strings.Contains(out.String(), "the wait for it to be provisioned was interrupted") {
		if env.emulator == nil && strings.Contains(out.String(), "Apply complete") {
			c.must("destroy", "-auto-approve", "-input=false")
			t.Skipf("%s: provisioning on this endpoint ended before the interrupt reached the provider", needs)
		}
		t.Errorf("the interrupted apply does not warn that the wait was interrupted:\n%s", out.String())
	}

	state := c.state()
	if len(state) != 1 || state[0].Tainted || state[0].Values["id"] == nil || state[0].Values["status"] != "provisioning" {
		t.Fatalf("after the interrupt, state = %+v; want the server, with its id and status provisioning, not tainted\n%s", state, out.String())
	}
	first := mustParseID(t, fmt.Sprint(state[0].Values["id"]))

	if emu := env.emulator; emu != nil {
		emu.SetStatus(first, emulator.StatusActive) // provisioned since
	}
	applied := c.must("apply", "-auto-approve", "-input=false")
	if !strings.Contains(applied, "0 added, 0 changed, 0 destroyed") {
		t.Errorf("the next apply changed the server the interrupted one made:\n%s", applied)
	}
	if _, err := env.client.GetServer(t.Context(), first); err != nil {
		t.Errorf("the server %d is gone after the next apply (GET: %v)", first, err)
	}
	c.must("destroy", "-auto-approve", "-input=false")
	if left, err := env.ownServers(); err != nil || len(left) != 0 {
		t.Errorf("after destroy the API lists %+v (%v)", left, err)
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
// refused token gives. Against an endpoint from the environment the token
// is the real one, so no failure message shows it.
func TestAccProvider_tokenNeverLeaks(t *testing.T) {
	t.Parallel()
	var emuLog syncBuffer
	env := newTestEnv(t, func(o *emulator.Options) {
		o.Tokens = map[string]string{"tok-3f9c1a7e-never-print-me": "acc"}
		o.Log = &emuLog
	})
	secret := env.token
	hide := strings.NewReplacer(secret, "<the token>").Replace
	c := newCLI(t, "", "")
	// The token sits in the provider block, the hardest case: Terraform
	// itself handles it as a configuration value.
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
provider "vpsorg" {
  endpoint  = %q
  api_token = %q
}
`, env.endpoint, secret)+env.serverConfig("secretive", catalog.plans[0], `  power_state = "stopped"`)+`
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
			t.Fatalf("terraform %s: %v\n%s", args[0], err, hide(out))
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
		t.Errorf("the TRACE log contains the token: ...%s...", hide(string(logged[max(0, i-200):min(len(logged), i+100)])))
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("terraform output contains the token:\n%s", hide(out))
		}
	}
	if env.emulator != nil {
		if strings.Contains(emuLog.String(), secret) || emuLog.String() == "" {
			t.Errorf("the emulator log is empty or contains the token:\n%s", hide(emuLog.String()))
		}
	} else {
		env.notChecked("the emulator's own request log (the endpoint runs elsewhere)")
	}

	// A refused token: the error names the variable, not the value.
	wrong := "tok-wrong-0d2b-never-print-me"
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
provider "vpsorg" {
  endpoint  = %q
  api_token = %q
}

data "vpsorg_servers" "all" {}
`, env.endpoint, wrong))
	out, err := c.run(trace, "plan", "-input=false")
	if err == nil || !strings.Contains(out, "VPSORG_API_TOKEN") || !strings.Contains(out, "401") {
		t.Errorf("a refused token should fail with HTTP 401 and name VPSORG_API_TOKEN:\n%s", hide(out))
	}
	logged, _ = os.ReadFile(logFile)
	if strings.Contains(out, wrong) || bytes.Contains(logged, []byte(wrong)) {
		t.Errorf("the refused token appears in the output or the TRACE log")
	}
}
