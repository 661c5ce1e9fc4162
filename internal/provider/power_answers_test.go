package provider

import (
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Answers that lie about a power action or a delete: the API acted and
// said otherwise, or said nothing. Each test makes server "liar", running,
// then lies once. The emulator's clock steps a second each time it is read
// (stepClock), so that every change falls in a whole second of its own and
// a transition lasts a fixed number of requests, however loaded the
// machine: what a poll sees does not depend on how fast it came.

// stepClock is real time plus a second for every reading so far.
type stepClock struct {
	mu    sync.Mutex
	ahead time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += time.Second
	return time.Now().Add(c.ahead)
}

// withStepClock runs the emulator on a stepClock. A request reads the clock
// about three times, so a transition of ten steps shows its transient
// status to the next two or three polls, and no more.
func withStepClock(o *emulator.Options) {
	o.Now = (&stepClock{}).Now
	o.ProvisioningTime = 10 * time.Second
	o.TransitionTime = 10 * time.Second
}

// withQuietReboots makes reboots leave updated_at alone, as the API may.
func withQuietReboots(o *emulator.Options) { o.RebootKeepsUpdatedAt = true }

// liarConfig is server "liar" with reboot_trigger and power_state.
func liarConfig(env *testEnv, trigger, power string) string {
	return env.config(env.serverConfig("liar", catalog.plans[0], "  reboot_trigger = \""+trigger+"\"\n  power_state    = \""+power+"\""))
}

// testLiar runs steps after one that makes the running server "liar".
func testLiar(t *testing.T, env *testEnv, steps ...resource.TestStep) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps:                    append([]resource.TestStep{{Config: liarConfig(env, "a", "running")}}, steps...),
	})
}

// lie makes the step's apply meet fault.
func lie(emu *emulator.Emulator, fault emulator.Fault, step resource.TestStep) resource.TestStep {
	step.PreConfig = func() { emu.InjectFault(fault) }
	return step
}

const needsFaultAndClock = "needs the emulator's InjectFault hook and a clock it can drive (Options.Now): the API cannot be made to answer an action or a delete wrongly"

func expectStatusInState(status string) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact(status)),
	}
}

// The stop happens, but the API answers 400 as if the server were already
// stopped: the status says it is, and that is success, sent once.
func TestAccServerResource_stopAnsweredAlreadyStoppedAfterStopping(t *testing.T) {
	env := newTestEnv(t, withStepClock)
	emu := env.requireEmulator(needsFaultAndClock)
	testLiar(t, env, lie(emu, emulator.Fault{Method: http.MethodPost, Route: emulator.RouteStop, Count: 1, Status: 400, AfterAction: true}, resource.TestStep{
		Config:            liarConfig(env, "a", "stopped"),
		ConfigStateChecks: expectStatusInState("stopped"),
		Check:             env.expectSent(map[string]int{routeStop: 1}),
	}))
}

// Likewise for a start answered 400 "already running" after starting.
func TestAccServerResource_startAnsweredAlreadyRunningAfterStarting(t *testing.T) {
	env := newTestEnv(t, withStepClock)
	emu := env.requireEmulator(needsFaultAndClock)
	testLiar(t, env,
		resource.TestStep{Config: liarConfig(env, "a", "stopped")},
		lie(emu, emulator.Fault{Method: http.MethodPost, Route: emulator.RouteStart, Count: 1, Status: 400, AfterAction: true}, resource.TestStep{
			Config:            liarConfig(env, "a", "running"),
			ConfigStateChecks: expectStatusInState("active"),
			Check:             env.expectSent(map[string]int{routeStart: 1, routeStop: 1}),
		}))
}

// The reboot's answer is lost while the server reboots: a poll sees it
// rebooting, which is evidence enough that it happened, whether or not
// updated_at moved (the API does not promise that it does). It is waited
// for and not sent again.
func TestAccServerResource_lostRebootAnswerSeenRebootingIsNotRepeated(t *testing.T) {
	for name, opts := range map[string][]func(*emulator.Options){
		"updated_at moves":        {withStepClock},
		"updated_at stays as was": {withStepClock, withQuietReboots},
	} {
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t, opts...)
			emu := env.requireEmulator(needsFaultAndClock)
			testLiar(t, env, lie(emu, emulator.Fault{Method: http.MethodPost, Route: emulator.RouteReboot, Count: 1, Status: 502, AfterAction: true}, resource.TestStep{
				Config:            liarConfig(env, "b", "running"),
				ConfigStateChecks: expectStatusInState("active"),
				Check:             env.expectSent(map[string]int{routeReboot: 1}),
			}))
		})
	}
}

// A reboot answered 500 after it happened, so fast that no poll sees
// "rebooting": its new updated_at is the only sign, and enough. Where the
// API leaves updated_at alone there is no sign at all, and a reboot that
// left none cannot be told from one that never happened: it fails, and is
// not sent again.
func TestAccServerResource_lostAnswerOfAnUnseenReboot(t *testing.T) {
	instant := func(o *emulator.Options) { o.TransitionTime = -1 }
	t.Run("updated_at moves: success", func(t *testing.T) {
		env := newTestEnv(t, withStepClock, instant)
		emu := env.requireEmulator(needsFaultAndClock)
		testLiar(t, env, lie(emu, emulator.Fault{Method: http.MethodPost, Route: emulator.RouteReboot, Count: 1, Status: 500, AfterAction: true}, resource.TestStep{
			Config: liarConfig(env, "b", "running"),
			Check:  env.expectSent(map[string]int{routeReboot: 1}),
		}))
	})
	t.Run("updated_at stays as was: fails, not repeated", func(t *testing.T) {
		env := newTestEnv(t, withStepClock, instant, withQuietReboots)
		emu := env.requireEmulator(needsFaultAndClock)
		testLiar(t, env,
			lie(emu, emulator.Fault{Method: http.MethodPost, Route: emulator.RouteReboot, Count: 1, Status: 500, AfterAction: true}, resource.TestStep{
				Config:      liarConfig(env, "b", "running"),
				ExpectError: regexp.MustCompile(`(?s)Unable to reboot server.*HTTP 500.*the request is not\s+repeated`),
			}),
			resource.TestStep{Config: liarConfig(env, "a", "running"), Check: env.expectSent(map[string]int{routeReboot: 1})},
		)
	})
}

// A reboot answered 500 that never happened leaves no trace: it fails, and
// is not sent again.
func TestAccServerResource_rebootThatNeverHappenedFailsWithoutRepeating(t *testing.T) {
	env := newTestEnv(t, withStepClock)
	emu := env.requireEmulator(needsFaultAndClock)
	testLiar(t, env,
		lie(emu, emulator.Fault{Method: http.MethodPost, Route: emulator.RouteReboot, Count: 1, Status: 500}, resource.TestStep{
			Config:      liarConfig(env, "b", "running"),
			ExpectError: regexp.MustCompile(`(?s)Unable to reboot server.*HTTP 500.*the request is not\s+repeated`),
		}),
		resource.TestStep{Config: liarConfig(env, "a", "running"), Check: env.expectSent(map[string]int{routeReboot: 1})},
	)
}

// A delete answered 404 after it deleted is a success: the server is gone.
func TestAccServerResource_deleteAnswered404AfterDeletingIsSuccess(t *testing.T) {
	env := newTestEnv(t, withStepClock)
	emu := env.requireEmulator(needsFaultAndClock)
	testLiar(t, env, lie(emu, emulator.Fault{Method: http.MethodDelete, Route: emulator.RouteServer, Count: 1, Status: 404, AfterAction: true}, resource.TestStep{
		Config:  liarConfig(env, "a", "running"),
		Destroy: true,
		Check:   env.expectSent(map[string]int{"DELETE " + emulator.RouteServer: 1}),
	}))
}
