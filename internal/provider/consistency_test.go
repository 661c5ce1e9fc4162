package provider

import (
	"context"
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
)

// The API is eventually consistent: an action's or a delete's effect shows
// in GET and the list about a second late. These tests run the emulator
// with that lag and check, through its request log and server history,
// that "done" means done.

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

// expectFinished checks that the server's true history ends in status, and
// that state holds the server as it is now, not as it was before the apply.
func expectFinished(env *testEnv, status string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := serverID(s)
		if err != nil {
			return err
		}
		h := env.emulator.History(id)
		if len(h) == 0 || h[len(h)-1].Status != status {
			return fmt.Errorf("apply returned while server %d was still changing: history %+v, want it to end in %q", id, h, status)
		}
		srv, _ := env.emulator.Server(id)
		want := srv.UpdatedAt.UTC().Format(time.RFC3339)
		if got := s.RootModule().Resources["vpsorg_server.web"].Primary.Attributes["updated_at"]; got != want {
			return fmt.Errorf("state has updated_at %s, the server %s: state was saved before the change finished", got, want)
		}
		return nil
	}
}

// expectCount checks the emulator saw route exactly n times so far.
func expectCount(env *testEnv, route string, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := env.count(route); got != n {
			return fmt.Errorf("%s was sent %d times, want %d", route, got, n)
		}
		return nil
	}
}

func TestAccServerResource_rebootUnderLagReturnsOnlyOnceTheRebootFinished(t *testing.T) {
	env := newTestEnv(t, withLag)
	env.requireEmulator("needs the emulator's consistency lag and History: a live API's lag cannot be set, nor its status history seen")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("lag-reboot", 1, `  reboot_trigger = "v1"`))},
			{
				Config: env.config(env.serverConfig("lag-reboot", 1, `  reboot_trigger = "v2"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
				Check: resource.ComposeTestCheckFunc(
					expectCount(env, routeReboot, 1),
					expectFinished(env, "active"),
					func(s *terraform.State) error {
						id, _ := serverID(s)
						var rebooted bool
						for _, c := range env.emulator.History(id) {
							rebooted = rebooted || c.Status == "rebooting"
						}
						if !rebooted {
							return fmt.Errorf("server %d never rebooted", id)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccServerResource_stopStartStopUnderLag(t *testing.T) {
	env := newTestEnv(t, withLag)
	env.requireEmulator("needs the emulator's consistency lag and History: a live API's lag cannot be set, nor its status history seen")
	step := func(power string, stops, starts int) resource.TestStep {
		status := map[string]string{"running": "active", "stopped": "stopped"}[power]
		return resource.TestStep{
			Config: env.config(env.serverConfig("lag-power", 1, fmt.Sprintf("  power_state = %q", power))),
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
	env.requireEmulator("needs the emulator's consistency lag and History: a live API's lag cannot be set, nor its status history seen")
	var first int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("lag-replace", 1, "")),
				Check: func(s *terraform.State) (err error) {
					first, err = serverID(s)
					return err
				},
			},
			{
				Config: env.config(env.serverConfig("lag-replace", 2, "")),
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
					if h := env.emulator.History(first); len(h) == 0 || h[len(h)-1].Status != emulator.StatusDeleted {
						return fmt.Errorf("the old server %d was not deleted: %+v", first, h)
					}
					return expectServers(env, 1)(s)
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
	emu := env.requireEmulator("needs the emulator's consistency lag and History: a live API's lag cannot be set, nor its status history seen")
	var first int64
	config := func(key int) string {
		// ssh_key_id replaces the server without changing what adoption
		// matches on (name, plan, OS, location).
		return env.config(env.serverConfig("lag-adopt", 1, fmt.Sprintf("  ssh_key_id = %d\n  lifecycle {\n    create_before_destroy = true\n  }", key)))
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
// and sends the stop once more, instead of failing the apply.
func TestAccServerResource_actionRefusedWhileAnotherIsUnderWayIsSentOnceItEnds(t *testing.T) {
	env := newTestEnv(t, withLag)
	emu := env.requireEmulator("needs the emulator's consistency lag and History: a live API's lag cannot be set, nor its status history seen")
	var id int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("lag-refused", 1, `  power_state = "running"`)),
				Check: func(s *terraform.State) (err error) {
					id, err = serverID(s)
					return err
				},
			},
			{
				PreConfig: func() {
					emu.SetTransitionTime(5 * time.Second) // the reboot outlasts plan and refresh
					if _, err := env.client.RebootServer(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: env.config(env.serverConfig("lag-refused", 1, `  power_state = "stopped"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
				},
				Check: resource.ComposeTestCheckFunc(expectFinished(env, "stopped"), func(*terraform.State) error {
					answered := map[int]int{}
					for _, r := range emu.Requests() {
						if r.Route == emulator.RouteStop {
							answered[r.Status]++
						}
					}
					if answered[200] != 1 || answered[400] < 1 {
						return fmt.Errorf("stop answers %v, want at least one 400 (refused during the reboot) and exactly one 200", answered)
					}
					return nil
				}),
			},
		},
	})
}
