package provider

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// killedFleetSize is how many servers the kill test's apply makes.
const killedFleetSize = 4

// killedFleet is the configuration of the kill test: its servers in one
// counted block, and maybe one more with a name of its own.
func (e *testEnv) killedFleet(extra string) string {
	return cliRequiredProviders + e.fleetConfig("kill", "kill", killedFleetSize, catalog.plans[0], catalog.systems[0], catalog.locations[0]) + extra
}

// An apply killed with SIGKILL while its servers provision saves none of
// them. The next plan names each server that exists under a planned name,
// with its id and the import block that adopts it, at the cost of one list
// of the account for the whole plan; a new name beside them gets no
// warning. Following the advice ends with every server in state, none made
// twice; and the plans after it (a rename, a replacement, a tainted server)
// warn about nothing.
func TestAccServerResource_anApplyKilledWhileServersProvisionIsNeverMadeTwice(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetProvisioningTime hook and request log")
	c := newCLI(t, env.endpoint, env.token)
	const n = killedFleetSize
	emu.SetProvisioningTime(5 * time.Second) // long enough to kill the apply in, short for the test
	c.write("main.tf", env.killedFleet(""))

	var out bytes.Buffer
	cmd := c.command(t.Context(), nil, "apply", "-auto-approve", "-input=false", "-no-color")
	cmd.Stdout, cmd.Stderr = &out, &out
	// The whole process group, provider included, as a CI runner or the
	// OOM killer ends a job.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(accTimeout()); len(emu.Servers("acc")) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the apply never created its %d servers:\n%s", n, out.String())
		}
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if state := c.state(); len(state) != 0 {
		t.Fatalf("the killed apply saved %d resources; the test needs it to have saved none:\n%s", len(state), out.String())
	}
	emu.SetProvisioningTime(testProvisioningTime)
	made := map[string]string{} // name → id
	for _, s := range emu.Servers("acc") {
		made[s.Name] = fmt.Sprint(s.ID)
	}

	// What a plan costs without the check: Terraform's own configure and
	// refresh of an empty state.
	emu.ResetRequests()
	c.must("plan", "-refresh-only", "-input=false", "-no-color")
	baseline := len(emu.Requests())
	emu.ResetRequests()
	c.write("main.tf", env.killedFleet(fmt.Sprintf(`
resource "vpsorg_server" "fresh" {
  name     = %q
  plan_id  = %d
  os_id    = %d
  location = %q
}
`, env.name("fresh"), catalog.plans[0], catalog.systems[0], catalog.locations[0])))
	plan := c.must("plan", "-input=false", "-no-color")
	if sent := len(emu.Requests()); sent > baseline+2 {
		t.Errorf("the plan of %d creates sent %d requests, its refresh alone %d: the look for existing servers must cost one list, not one per server\n%v",
			n+1, sent, baseline, emu.Requests())
	}
	if got := strings.Count(plan, "Warning: A server named"); got != n {
		t.Errorf("the plan warned %d times, want once for each of the %d servers the killed apply made:\n%s", got, n, plan)
	}
	for name, id := range made {
		block := regexp.MustCompile(fmt.Sprintf(`(?s)A server named %q already exists.*server %s in .*status "(provisioning|active)".*ago.*import \{.*id = "%s"`, name, id, id))
		if !block.MatchString(plan) {
			t.Errorf("the plan does not name server %s (%q) with its status, age and import block:\n%s", id, name, plan)
		}
	}
	if strings.Contains(plan, fmt.Sprintf("A server named %q", env.name("fresh"))) {
		t.Errorf("the plan warned about a new name that nothing uses:\n%s", plan)
	}

	// Following the advice: an import block for each.
	var imports strings.Builder
	for i := range n {
		id := made[env.name(fmt.Sprintf("kill-%d", i))]
		fmt.Fprintf(&imports, "import {\n  to = vpsorg_server.kill[%d]\n  id = %q\n}\n", i, id)
	}
	for _, id := range made {
		if _, err := env.waitActive(t.Context(), mustParseID(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	c.write("imports.tf", imports.String())
	applied := c.must("apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(applied, fmt.Sprintf("%d imported, 1 added, 0 changed, 0 destroyed", n)) {
		t.Errorf("the apply after the advice did not import the %d servers and add the new one:\n%s", n, applied)
	}
	names := map[string]int{}
	for _, s := range emu.Servers("acc") {
		names[s.Name]++
	}
	if len(names) != n+1 {
		t.Errorf("the account holds %v; want %d servers, one of each name", names, n+1)
	}
	for name, count := range names {
		if count != 1 {
			t.Errorf("%d servers named %q", count, name)
		}
	}
	inState := map[string]bool{}
	for _, r := range c.state() {
		inState[fmt.Sprint(r.Values["id"])] = true
	}
	for name, id := range made {
		if !inState[id] {
			t.Errorf("server %s (%q) is not in state after the import", id, name)
		}
	}

	// No collision: a rename, a replacement, a tainted server.
	c.write("imports.tf", "")
	renamed := strings.Replace(env.killedFleet(""), `-${count.index}"`, `-${count.index}-renamed"`, 1)
	for what, step := range map[string]func() string{
		"a rename": func() string { c.write("main.tf", renamed); return c.must("plan", "-input=false", "-no-color") },
		"a replacement": func() string {
			c.write("main.tf", strings.Replace(env.killedFleet(""), fmt.Sprintf("os_id    = %d", catalog.systems[0]), fmt.Sprintf("os_id    = %d", catalog.systems[1]), 1))
			return c.must("plan", "-input=false", "-no-color")
		},
		"a tainted server": func() string {
			c.write("main.tf", env.killedFleet(""))
			c.must("taint", "vpsorg_server.kill[1]")
			defer c.must("untaint", "vpsorg_server.kill[1]")
			return c.must("plan", "-input=false", "-no-color")
		},
	} {
		if got := step(); strings.Contains(got, "already exists") || !strings.Contains(got, "Plan:") {
			t.Errorf("the plan of %s warned of a collision, or planned nothing:\n%s", what, got)
		}
	}
	c.write("main.tf", env.killedFleet(""))
	c.must("destroy", "-auto-approve", "-input=false")
}

// A create whose answer is lost while a second server matching it appears
// at the same moment (the search cannot tell which one it made): the apply
// keeps a placeholder and lists both, saying that one may be another
// resource's and deleting neither; the next apply creates nothing. Once
// only one candidate is left, a plan's refresh adopts it without claiming
// that state was saved, and the way it gives (apply -refresh-only, then
// untaint) keeps the server: one create sent in all.
func TestAccServerResource_aLostCreateAmongTwinsKeepsAPlaceholder(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault and FailProvisioning hooks")
	c := newCLI(t, env.endpoint, env.token)
	name := env.name("twin")
	var twin atomic.Int64
	// The twin appears when the create arrives: created in the same second,
	// it is as likely as the create's own server to be the one it made.
	emu.FailProvisioning(func(got string) bool {
		if got == name && twin.Load() == 0 {
			s, err := emu.AddServer("acc", emulator.ServerSpec{Name: name, PlanID: catalog.plans[0], OSID: catalog.systems[0], Location: catalog.locations[0], Status: vpsorg.StatusActive})
			if err != nil {
				t.Error(err)
			}
			twin.Store(s.ID)
		}
		return false
	})
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true})
	c.write("main.tf", cliRequiredProviders+env.config(env.serverConfig("twin", catalog.plans[0], `  timeouts { create = "5s" }`)))

	out, err := c.run(nil, "apply", "-auto-approve", "-input=false", "-no-color")
	var made int64
	for _, s := range emu.Servers("acc") {
		if s.ID != twin.Load() {
			made = s.ID
		}
	}
	if err == nil || twin.Load() == 0 || made == 0 {
		t.Fatalf("want a failed apply, the twin and the server the create made (twin %d, made %d):\n%s", twin.Load(), made, out)
	}
	for _, want := range []string{
		"Unable to tell whether the create made a server",
		fmt.Sprintf(`server %d, status "active"`, min(made, twin.Load())),
		fmt.Sprintf(`server %d, status`, max(made, twin.Load())),
		"another instance of the same count",
		"delete none of them",
		"with vpsorg_server.web",
		"terraform state rm ADDRESS && terraform import ADDRESS ID",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the failed apply does not say %q:\n%s", want, out)
		}
	}
	if state := c.state(); len(state) != 1 || state[0].Values["id"] != nil || !state[0].Tainted {
		t.Fatalf("state after the failed apply = %+v; want the placeholder (no id), tainted", state)
	}

	out, err = c.run(nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if err == nil || !strings.Contains(out, "A create that may have made a server is unresolved") {
		t.Errorf("the next apply did not stop at the unresolved create:\n%s", out)
	}
	if n := env.sent(requests{route: routeCreate}); n != 1 {
		t.Fatalf("%d creates sent, want the one", n)
	}

	// The user finds the twin is someone else's, who deletes it.
	emu.DeleteServer(twin.Load())
	plan := c.must("plan", "-input=false", "-no-color")
	if !strings.Contains(plan, fmt.Sprintf("Found server %d", made)) || strings.Contains(plan, "It is now in state") ||
		!strings.Contains(plan, "A plan saves no state") || !strings.Contains(plan, "terraform apply -refresh-only") {
		t.Errorf("the plan's refresh did not adopt server %d, or claimed a plan saves it:\n%s", made, plan)
	}
	if state := c.state(); len(state) != 1 || state[0].Values["id"] != nil {
		t.Errorf("the plan saved state: %+v", state)
	}
	c.must("apply", "-refresh-only", "-auto-approve", "-input=false")
	c.must("untaint", "vpsorg_server.web")
	if out, err := c.run(nil, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Errorf("after the advice the plan is not empty: %v\n%s", err, out)
	}
	if state := c.state(); len(state) != 1 || fmt.Sprint(state[0].Values["id"]) != fmt.Sprint(made) {
		t.Errorf("state = %+v, want server %d", state, made)
	}
	c.must("destroy", "-auto-approve", "-input=false")
	if n := env.sent(requests{route: routeCreate}); n != 1 {
		t.Errorf("%d creates sent, want the one", n)
	}
}

// A placeholder replaced with create_before_destroy and -refresh=false:
// Terraform creates the replacement before it deletes the placeholder, and
// never shows the provider a tainted object at plan time. The placeholder's
// delete finds the server its create made (the replacement, this process's
// own create, is never taken for it) and deletes it: one server, and the
// plans after it are clean.
func TestAccServerResource_aPlaceholderReplacedBeforeDestroyWithoutRefreshLeavesOneServer(t *testing.T) {
	t.Parallel()
	const lag = 15 * time.Second // past the search's 10 s minimum, with a 5 s create timeout
	env := newTestEnv(t, func(o *emulator.Options) { o.Manners.CreateLag = lag })
	emu := env.requireEmulator("needs the emulator's InjectFault hook and CreateLag manner")
	c := newCLI(t, env.endpoint, env.token)
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true})
	c.write("main.tf", cliRequiredProviders+env.config(env.serverConfig("before", catalog.plans[0], `  timeouts { create = "5s" }
  lifecycle {
    create_before_destroy = true
  }`)))
	if out, err := c.run(nil, "apply", "-auto-approve", "-input=false", "-no-color"); err == nil || !strings.Contains(out, "Unable to tell whether the create made a server") {
		t.Fatalf("want the placeholder of an unresolved create:\n%s", out)
	}
	servers := emu.Servers("acc")
	if len(servers) != 1 {
		t.Fatalf("%d servers after the lost create, want 1", len(servers))
	}
	lost := servers[0].ID
	time.Sleep(time.Until(servers[0].CreatedAt.Add(lag + time.Second))) // the API lists it now
	emu.SetManners(emulator.Manners{})

	out, err := c.run(nil, "apply", "-refresh=false", "-auto-approve", "-input=false", "-no-color")
	if err != nil {
		t.Errorf("the replacing apply failed: %v\n%s", err, out)
	}
	servers = emu.Servers("acc")
	if len(servers) != 1 || servers[0].ID == lost {
		t.Fatalf("after the replacement the account holds %+v; want one server, the replacement, not %d\n%s", servers, lost, out)
	}
	if state := c.state(); len(state) != 1 || fmt.Sprint(state[0].Values["id"]) != fmt.Sprint(servers[0].ID) || state[0].Tainted {
		t.Errorf("state = %+v; want the replacement %d, untainted", state, servers[0].ID)
	}
	if out, err := c.run(nil, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Errorf("the plan after the replacement is not empty: %v\n%s", err, out)
	}
	c.must("destroy", "-auto-approve", "-input=false")
}
