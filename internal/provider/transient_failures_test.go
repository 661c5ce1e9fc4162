package provider

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// A 500 is as often a passing failure as a 502: one, on a request that
// can be repeated, must not end a plan, a wait or a search. Each test
// checks the 500 was met; otherwise it proved nothing.

// expect500s checks the emulator answered n requests with 500.
func expect500s(env *testEnv, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := env.sent(requests{status: http.StatusInternalServerError}); got != n {
			return fmt.Errorf("%d requests were answered 500, want %d: the fault was not met as planned", got, n)
		}
		return nil
	}
}

// onFirstCreate injects faults when the API receives the first create, so
// that they meet requests the create leads to rather than the settings
// check.
func onFirstCreate(emu *emulator.Emulator, faults ...emulator.Fault) {
	var once sync.Once
	emu.FailProvisioning(func(string) bool {
		once.Do(func() {
			for _, f := range faults {
				emu.InjectFault(f)
			}
		})
		return false
	})
}

func TestAccProvider_credentialsCheckRidesThroughOne500(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to answer the check 500")
	emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Count: 1, Status: 500})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`data "vpsorg_servers" "all" {}`),
			Check:  expect500s(env, 1),
		}},
	})
}

func TestAccServerResource_one500WhileProvisioningIsRidden(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to answer a poll 500")
	onFirstCreate(emu, emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1, Status: 500})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.config(env.serverConfig("polled", catalog.plans[0], "")),
			Check:  resource.ComposeTestCheckFunc(expectServers(env, 1), expectCount(env, routeCreate, 1), expect500s(env, 1)),
		}},
	})
}

// Three servers under the real terraform, one operation at a time: the
// first create acts and its answer is lost, the list that looks for what
// it made fails once, and so does a GET while it provisions. The apply
// succeeds, each server made once, and the destroy too. (The emulator's
// seeded chaos meets the same failures, in an order its timing decides.)
func TestAccServerResource_threeServersRideThroughA500OnEachIdempotentStep(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to lose a create's answer")
	c := newCLI(t, env.endpoint, env.token)
	c.write("main.tf", cliRequiredProviders+`provider "vpsorg" {}`+
		strings.TrimPrefix(env.fleetConfig("web", "rider", 3, catalog.plans[0], catalog.systems[0], catalog.locations[0]), env.config("")))
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true})
	onFirstCreate(emu,
		emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Count: 1, Status: 500},
		emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1, Status: 500})
	out, err := c.run(nil, "apply", "-auto-approve", "-no-color", "-input=false", "-parallelism=1")
	if err != nil {
		t.Fatalf("apply failed:\n%s", out)
	}
	if n := env.sent(requests{route: routeCreate}); n != 3 {
		t.Errorf("the create was sent %d times, want 3", n)
	}
	if n := len(emu.Servers("acc")); n != 3 {
		t.Errorf("the emulator holds %d servers, want 3", n)
	}
	for _, route := range []string{"GET " + emulator.RouteServers, "GET " + emulator.RouteServer} {
		if n := env.sent(requests{route: route, status: http.StatusInternalServerError}); n != 1 {
			t.Errorf("%s was answered 500 %d times, want 1: the fault was not met as planned", route, n)
		}
	}
	c.must("destroy", "-auto-approve", "-no-color", "-input=false")
	if n := len(emu.Servers("acc")); n != 0 {
		t.Errorf("the emulator holds %d servers after the destroy, want none", n)
	}
}
