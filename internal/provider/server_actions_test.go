package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// actionConfig declares a power action on a server and a terraform_data
// whose creation triggers it (lifecycle action_trigger).
func actionConfig(kind, name, serverID string) string {
	return fmt.Sprintf(`
action %[1]q %[2]q {
  config {
    server_id = %[3]s
  }
}

resource "terraform_data" %[2]q {
  input = %[2]q
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.%[1]s.%[2]s]
    }
  }
}
`, kind, name, serverID)
}

// expectServer checks through the API that a server has status at the
// end of the apply and, in process, the number of POSTs it got on each
// power route.
func expectServer(env *testEnv, id int64, status string, posts map[string]int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
		defer cancel()
		s, err := env.client.GetServer(ctx, id)
		if err != nil {
			return fmt.Errorf("server %d: %w", id, err)
		}
		if s.Status != status {
			return fmt.Errorf("server %d is %s at the end of the apply, want %s: the action must wait for it", id, s.Status, status)
		}
		return env.onEmulator("how many start, stop and reboot requests each server got (the emulator's request log)", func(emu *emulator.Emulator) error {
			for _, route := range []string{emulator.RouteStart, emulator.RouteStop, emulator.RouteReboot} {
				got := env.sent(requests{route: "POST " + route, path: strings.Replace(route, "{id}", fmt.Sprint(id), 1)})
				if got != posts[route] {
					return fmt.Errorf("server %d got %d POST %s, want %d", id, got, route, posts[route])
				}
			}
			return nil
		})
	}
}

// quotedID is a server's id as an HCL string.
func quotedID(s vpsorg.Server) string { return fmt.Sprintf("%q", fmt.Sprint(s.ID)) }

// Each action sends its request once and returns when the server has
// reached the status it leads to.
func TestAccServerActions_sendOnceAndWait(t *testing.T) {
	env := newTestEnv(t)
	fleet := env.seedServers(
		serverSpec{name: "to-reboot"},
		serverSpec{name: "to-stop"},
		serverSpec{name: "to-start", stopped: true},
	)
	toReboot, toStop, toStart := fleet[0], fleet[1], fleet[2]
	if emu := env.emulator; emu != nil {
		emu.SetTransitionTime(time.Second) // long enough that not waiting would show
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureActions.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.config(actionConfig("vpsorg_server_reboot", "r", quotedID(toReboot))),
				Check:  expectServer(env, toReboot.ID, "active", map[string]int{emulator.RouteReboot: 1}),
			},
			{
				Config: env.config(actionConfig("vpsorg_server_stop", "s", quotedID(toStop))),
				Check:  expectServer(env, toStop.ID, "stopped", map[string]int{emulator.RouteStop: 1}),
			},
			{
				Config: env.config(actionConfig("vpsorg_server_start", "t", quotedID(toStart))),
				Check: resource.ComposeTestCheckFunc(
					expectServer(env, toStart.ID, "active", map[string]int{emulator.RouteStart: 1}),
					// The reboot was sent once in all, though the configuration
					// of later steps ran again.
					expectServer(env, toReboot.ID, "active", map[string]int{emulator.RouteReboot: 1}),
				),
			},
		},
	})
}

// The API refuses a reboot of a stopped server and anything on a suspended
// one; the action fails with the API's message and does not try again. A
// suspended server is made in process only: the API cannot suspend one.
func TestAccServerActions_refusedWithTheAPIMessage(t *testing.T) {
	env := newTestEnv(t)
	specs := []serverSpec{{name: "off", stopped: true}}
	if env.emulator != nil {
		specs = append(specs, serverSpec{name: "held"})
	}
	fleet := env.seedServers(specs...)
	off := fleet[0]
	steps := []resource.TestStep{
		{
			Config:      env.config(actionConfig("vpsorg_server_reboot", "z", `"0"`)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Attribute server_id must be a server id`),
		},
		{
			Config:      env.config(actionConfig("vpsorg_server_reboot", "a", quotedID(off))),
			ExpectError: regexp.MustCompile(`(?s)Unable to reboot server \d+.*HTTP 400 Bad Request: Server is not\s+running\.`),
		},
	}
	var held vpsorg.Server
	if emu := env.emulator; emu != nil {
		held = fleet[1]
		emu.SetStatus(held.ID, emulator.StatusSuspended)
		steps = append(steps,
			resource.TestStep{
				Config:      env.config(actionConfig("vpsorg_server_start", "b", quotedID(held))),
				ExpectError: regexp.MustCompile(`(?s)Unable to start server \d+.*HTTP 400 Bad Request: Server is\s+suspended\.`),
			},
			resource.TestStep{
				Config:      env.config(actionConfig("vpsorg_server_stop", "c", quotedID(held))),
				ExpectError: regexp.MustCompile(`(?s)Unable to stop server \d+.*HTTP 400 Bad Request: Server is\s+suspended\.`),
			},
		)
	} else {
		env.notChecked("start and stop refused on a suspended server (the emulator's SetStatus hook: the API cannot suspend a server)")
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureActions.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps:                    steps,
	})
	if err := expectServer(env, off.ID, "stopped", map[string]int{emulator.RouteReboot: 1})(nil); err != nil {
		t.Error(err)
	}
	if env.emulator != nil {
		if err := expectServer(env, held.ID, "suspended", map[string]int{emulator.RouteStart: 1, emulator.RouteStop: 1})(nil); err != nil {
			t.Error(err)
		}
	}
}

// An action triggered by the server's own update, and an action on a server
// whose power_state is managed: the next plan puts the power back.
func TestAccServerActions_lifecycleOfTheServerAndManagedPower(t *testing.T) {
	env := newTestEnv(t)
	server := func(name string) string {
		return env.serverConfig(name, catalog.plans[0], `  power_state = "running"
  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.vpsorg_server_reboot.web]
    }
  }`) + `
action "vpsorg_server_reboot" "web" {
  config {
    server_id = vpsorg_server.web.id
  }
}
`
	}
	var id int64
	expect := func(status string, posts map[string]int) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			if id == 0 {
				id = mustParseID(t, s.RootModule().Resources["vpsorg_server.web"].Primary.ID)
			}
			return expectServer(env, id, status, posts)(s)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureActions.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				// Creating is not an update: no reboot.
				Config: env.config(server("managed")),
				Check:  expect("active", nil),
			},
			{
				Config: env.config(server("managed") + actionConfig("vpsorg_server_stop", "stop", "vpsorg_server.web.id")),
				// The stop leaves power_state = "running" unmet: the plan
				// after the apply is not empty.
				ExpectNonEmptyPlan: true,
				Check:              expect("stopped", map[string]int{emulator.RouteStop: 1}),
			},
			{
				Config: env.config(server("managed")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("power_state"), knownvalue.StringExact("running")),
					},
				},
				// Starting it is an update of the server, which triggers the
				// reboot action too.
				Check: expect("active", map[string]int{emulator.RouteStop: 1, emulator.RouteStart: 1, emulator.RouteReboot: 1}),
			},
			{
				Config: env.config(server("managed-renamed")),
				// A rename is an update too: one more reboot.
				Check: expect("active", map[string]int{emulator.RouteStop: 1, emulator.RouteStart: 1, emulator.RouteReboot: 2}),
			},
		},
	})
}

// `terraform apply -invoke` runs an action alone and shows its progress.
// terraform-plugin-testing cannot invoke (v1.16), so this drives the CLI.
func TestAccServerActions_invokeFromTheCommandLineShowsProgress(t *testing.T) {
	t.Parallel()
	featureActions.require(t)
	env := newTestEnv(t, func(o *emulator.Options) {
		o.TransitionTime = 2 * time.Second // several polls see "rebooting"
	})
	id := env.seedServers(serverSpec{name: "web"})[0].ID

	c := newCLI(t, env.endpoint, env.token)
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
action "vpsorg_server_reboot" "web" {
  config {
    server_id = "%d"
  }
}
`, id))
	out := c.must("apply", "-no-color", "-input=false", "-auto-approve", "-invoke=action.vpsorg_server_reboot.web")
	want := []string{
		fmt.Sprintf("Sending reboot to server %d", id),
		fmt.Sprintf("Server %d is active after", id),
		"Actions: 1 invoked.",
	}
	if env.emulator != nil {
		want = append(want, fmt.Sprintf("Server %d is rebooting, waiting until it is active", id))
	} else {
		env.notChecked(`the progress line of a poll that saw "rebooting" (in process the reboot lasts long enough that a poll sees it)`)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the output lacks %q:\n%s", w, out)
		}
	}
	if err := expectServer(env, id, "active", map[string]int{emulator.RouteReboot: 1})(nil); err != nil {
		t.Error(err)
	}
}
