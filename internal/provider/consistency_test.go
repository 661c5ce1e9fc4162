package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The API is eventually consistent: an action's or a delete's effect shows
// in GET and the list about a second late. In process these tests run the
// emulator with that lag and check, through its request log and server
// history too, that "done" means done. Against an endpoint from the
// environment the lag is the API's own, and they check what the API shows.

const testLag = time.Second

// withLag makes the emulator show actions and deletes testLag late. The
// transition outlasts the lag, so that a provider that trusts the first
// read ("active") returns while the reboot is still under way.
func withLag(o *emulator.Options) {
	o.ConsistencyLag = testLag
	o.TransitionTime = 1500 * time.Millisecond
}

// serverID is the id of vpsorg_server.web in state.
func serverID(s *terraform.State) (int64, error) {
	rs, ok := s.RootModule().Resources["vpsorg_server.web"]
	if !ok {
		return 0, fmt.Errorf("vpsorg_server.web is not in state")
	}
	return strconv.ParseInt(rs.Primary.ID, 10, 64)
}

// expectFinished checks that the apply returned only once the change was
// done and saved the server as it is now, not as it was before: a GET right
// after the apply shows status, the status in state, and the updated_at in
// state. In process it also checks the server's true history and
// updated_at, which a GET shows only once the lag has passed.
func expectFinished(env *testEnv, status string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := serverID(s)
		if err != nil {
			return err
		}
		attrs := s.RootModule().Resources["vpsorg_server.web"].Primary.Attributes
		if attrs["status"] != status {
			return fmt.Errorf("state has status %q, want %q", attrs["status"], status)
		}
		ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
		defer cancel()
		srv, err := env.client.GetServer(ctx, id)
		if err != nil {
			return err
		}
		if srv.Status != status {
			return fmt.Errorf("right after the apply the API shows server %d %s, want %s: the apply returned before the change finished", id, srv.Status, status)
		}
		if got := attrs["updated_at"]; got != srv.UpdatedAt {
			return fmt.Errorf("state has updated_at %s, the API %s right after the apply: state was saved before the change finished", got, srv.UpdatedAt)
		}
		return env.onEmulator("that the server's true status history ends in the status state has, and that state has its true updated_at (the emulator's History)", func(emu *emulator.Emulator) error {
			h := emu.History(id)
			if len(h) == 0 || h[len(h)-1].Status != status {
				return fmt.Errorf("apply returned while server %d was still changing: history %+v, want it to end in %q", id, h, status)
			}
			srv, _ := emu.Server(id)
			if want := srv.UpdatedAt.UTC().Format(time.RFC3339); attrs["updated_at"] != want {
				return fmt.Errorf("state has updated_at %s, the server %s: state was saved before the change finished", attrs["updated_at"], want)
			}
			return nil
		})
	}
}

// expectCount checks the emulator saw route exactly n times so far; only
// in process (see testEnv.onEmulator).
func expectCount(env *testEnv, route string, n int) resource.TestCheckFunc {
	return env.expectSent(map[string]int{route: n})
}

func TestAccServerResource_rebootUnderLagReturnsOnlyOnceTheRebootFinished(t *testing.T) {
	env := newTestEnv(t, withLag)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("lag-reboot", catalog.plans[0], `  reboot_trigger = "v1"`))},
			{
				Config: env.config(env.serverConfig("lag-reboot", catalog.plans[0], `  reboot_trigger = "v2"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
				Check: resource.ComposeTestCheckFunc(
					expectCount(env, routeReboot, 1),
					expectFinished(env, "active"),
					env.emulatorCheck("that the server went through rebooting (the emulator's History)", func(emu *emulator.Emulator) error {
						var rebooted bool
						for _, c := range emu.History(env.serverNamed("lag-reboot").ID) {
							rebooted = rebooted || c.Status == "rebooting"
						}
						if !rebooted {
							return fmt.Errorf("server %s never rebooted", env.name("lag-reboot"))
						}
						return nil
					}),
				),
			},
		},
	})
}

func TestAccServerResource_stopStartStopUnderLag(t *testing.T) {
	env := newTestEnv(t, withLag)
	step := func(power string, stops, starts int) resource.TestStep {
		status := map[string]string{"running": "active", "stopped": "stopped"}[power]
		return resource.TestStep{
			Config: env.config(env.serverConfig("lag-power", catalog.plans[0], fmt.Sprintf("  power_state = %q", power))),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact(status)),
				statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("power_state"), knownvalue.StringExact(power)),
			},
			// plugin-testing also fails a step whose plan after apply is not empty.
			Check: resource.ComposeTestCheckFunc(expectCount(env, routeStop, stops), expectCount(env, routeStart, starts), expectFinished(env, status)),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			step("running", 0, 0),
			step("stopped", 1, 0),
			step("running", 1, 1),
			step("stopped", 2, 1),
		},
	})
}

// A replace deletes the old server and creates one with the same name
// while the old one is still visible; destroy then works the same way.
func TestAccServerResource_replaceAndDestroyWhileTheOldServerIsStillVisible(t *testing.T) {
	env := newTestEnv(t, withLag)
	var first int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("lag-replace", catalog.plans[0], "")),
				Check: func(s *terraform.State) (err error) {
					first, err = serverID(s)
					return err
				},
			},
			{
				Config: env.config(env.serverConfig("lag-replace", catalog.plans[1], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					id, err := serverID(s)
					if err != nil {
						return err
					}
					if id == first {
						return fmt.Errorf("the server was not replaced")
					}
					// The delete was seen through before the create: the API
					// no longer shows the old server, and lists one server of
					// that name, the new one.
					ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
					defer cancel()
					switch _, err := env.client.GetServer(ctx, first); {
					case err == nil:
						return fmt.Errorf("right after the replace, the API still shows the old server %d", first)
					case !errors.Is(err, vpsorg.ErrNotFound):
						return fmt.Errorf("right after the replace, GET of the old server %d: %w", first, err)
					}
					if listed := env.serverNamed("lag-replace").ID; listed != id {
						return fmt.Errorf("the API lists server %d as %s, state has %d", listed, env.name("lag-replace"), id)
					}
					return env.onEmulator("that the old server's true history ends in deleted, and that the account holds one server (the emulator's History)", func(emu *emulator.Emulator) error {
						if h := emu.History(first); len(h) == 0 || h[len(h)-1].Status != emulator.StatusDeleted {
							return fmt.Errorf("the old server %d was not deleted: %+v", first, h)
						}
						return expectServers(env, 1)(s)
					})
				},
			},
		},
	})
}

// A create whose answer is lost while a server of the same name, plan, OS
// and location exists, made seconds before (create_before_destroy replaces
// it): the provider adopts the server its create made, never the older one.
// (A server this process deleted but the list still shows is excluded too:
// TestPickCreated.)
func TestAccServerResource_lostCreateAnswerUnderLagAdoptsTheNewServer(t *testing.T) {
	env := newTestEnv(t, withLag)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to lose a create's answer")
	var first int64
	config := func(key int) string {
		// ssh_key_id replaces the server without changing what adoption
		// matches on (name, plan, OS, location).
		return env.config(env.serverConfig("lag-adopt", catalog.plans[0], fmt.Sprintf("  ssh_key_id = %d\n  lifecycle {\n    create_before_destroy = true\n  }", key)))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config(1),
				Check: func(s *terraform.State) (err error) {
					first, err = serverID(s)
					return err
				},
			},
			{
				PreConfig: func() {
					emu.InjectFault(emulator.Fault{Method: "POST", Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true})
				},
				Config: config(2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionCreateBeforeDestroy),
				}},
				Check: resource.ComposeTestCheckFunc(expectCount(env, routeCreate, 2), expectServers(env, 1), func(s *terraform.State) error {
					id, err := serverID(s)
					if err != nil {
						return err
					}
					if id == first {
						return fmt.Errorf("adopted the older server %d", first)
					}
					return nil
				}),
			},
		},
	})
}

// A stop sent while a reboot (started behind Terraform's back) is still
// under way is refused with 400; the provider waits for the reboot to end
// and sends the stop once more, instead of failing the apply. The
// emulator's clock steps with each request (stepClock), so that the lag
// hides the reboot from refresh, plan and the update's own read, and the
// reboot outlasts the lag, by counts of requests however slow the machine.
func TestAccServerResource_actionRefusedWhileAnotherIsUnderWayIsSentOnceItEnds(t *testing.T) {
	// About thirteen requests of lag.
	env := newTestEnv(t, withStepClock, func(o *emulator.Options) { o.ConsistencyLag = 40 * time.Second })
	emu := env.requireEmulator("needs the emulator's SetTransitionTime hook and a clock it can drive (a reboot that outlasts plan and refresh) and request log (the stop refused while it lasts)")
	var id int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("lag-refused", catalog.plans[0], `  power_state = "running"`)),
				Check: func(s *terraform.State) (err error) {
					id, err = serverID(s)
					return err
				},
			},
			{
				PreConfig: func() {
					emu.SetTransitionTime(2 * time.Minute) // about forty requests: longer than the lag
					if _, err := env.client.RebootServer(context.Background(), id); err != nil {
						t.Fatal(err)
					}
					emu.SetTransitionTime(10 * time.Second) // the stop's own, short
				},
				Config: env.config(env.serverConfig("lag-refused", catalog.plans[0], `  power_state = "stopped"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
				},
				Check: resource.ComposeTestCheckFunc(expectFinished(env, "stopped"), func(*terraform.State) error {
					ok, refused := env.sent(requests{route: routeStop, status: 200}), env.sent(requests{route: routeStop, status: 400})
					if ok != 1 || refused < 1 {
						return fmt.Errorf("stops answered 200: %d, 400: %d; want at least one 400 (refused during the reboot) and exactly one 200", ok, refused)
					}
					return nil
				}),
			},
		},
	})
}
