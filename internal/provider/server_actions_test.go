package provider

import (
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

// expectServer checks a server's status in the emulator and the number of
// POSTs it got on each power route.
func expectServer(env *testEnv, id int64, status string, posts map[string]int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		s, ok := env.requireEmulator("needs the emulator's request log").Server(id)
		if !ok {
			return fmt.Errorf("server %d is gone", id)
		}
		if s.Status != status {
			return fmt.Errorf("server %d is %s at the end of the apply, want %s: the action must wait for it", id, s.Status, status)
		}
		for _, route := range []string{emulator.RouteStart, emulator.RouteStop, emulator.RouteReboot} {
			got := 0
			for _, r := range env.requireEmulator("needs the emulator's request log").Requests() {
				if r.Method == "POST" && r.Route == route && r.Path == strings.Replace(route, "{id}", fmt.Sprint(id), 1) {
					got++
				}
			}
			if got != posts[route] {
				return fmt.Errorf("server %d got %d POST %s, want %d", id, got, route, posts[route])
			}
		}
		return nil
	}
}

// Each action sends its request once and returns when the server has
// reached the status it leads to.
func TestAccServerActions_sendOnceAndWait(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's request log: that each action was sent once")
	emu.SetTransitionTime(time.Second) // long enough that not waiting would show
	ids := seedFleet(t, emu, [][3]string{
		{"to-reboot", "active", "us-west"},
		{"to-stop", "active", "us-west"},
		{"to-start", "stopped", "us-west"},
	})
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureActions.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.config(actionConfig("vpsorg_server_reboot", "r", fmt.Sprintf("%q", fmt.Sprint(ids["to-reboot"])))),
				Check:  expectServer(env, ids["to-reboot"], "active", map[string]int{emulator.RouteReboot: 1}),
			},
			{
				Config: env.config(actionConfig("vpsorg_server_stop", "s", fmt.Sprintf("%q", fmt.Sprint(ids["to-stop"])))),
				Check:  expectServer(env, ids["to-stop"], "stopped", map[string]int{emulator.RouteStop: 1}),
			},
			{
				Config: env.config(actionConfig("vpsorg_server_start", "t", fmt.Sprintf("%q", fmt.Sprint(ids["to-start"])))),
				Check: resource.ComposeTestCheckFunc(
					expectServer(env, ids["to-start"], "active", map[string]int{emulator.RouteStart: 1}),
					// The reboot was sent once in all, though the configuration
					// of later steps ran again.
					expectServer(env, ids["to-reboot"], "active", map[string]int{emulator.RouteReboot: 1}),
				),
			},
		},
	})
}

// The API refuses a reboot of a stopped server and anything on a suspended
// one; the action fails with the API's message and does not try again.
func TestAccServerActions_refusedWithTheAPIMessage(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's AddServer hook: the API cannot suspend a server")
	ids := seedFleet(t, emu, [][3]string{
		{"off", "stopped", "us-west"},
		{"held", "suspended", "us-west"},
	})
	id := func(name string) string { return fmt.Sprintf("%q", fmt.Sprint(ids[name])) }
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureActions.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.config(actionConfig("vpsorg_server_reboot", "z", `"0"`)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Attribute server_id must be a server id`),
			},
			{
				Config:      env.config(actionConfig("vpsorg_server_reboot", "a", id("off"))),
				ExpectError: regexp.MustCompile(`(?s)Unable to reboot server \d+.*HTTP 400 Bad Request: Server is not\s+running\.`),
			},
			{
				Config:      env.config(actionConfig("vpsorg_server_start", "b", id("held"))),
				ExpectError: regexp.MustCompile(`(?s)Unable to start server \d+.*HTTP 400 Bad Request: Server is\s+suspended\.`),
			},
			{
				Config:      env.config(actionConfig("vpsorg_server_stop", "c", id("held"))),
				ExpectError: regexp.MustCompile(`(?s)Unable to stop server \d+.*HTTP 400 Bad Request: Server is\s+suspended\.`),
			},
		},
	})
	if err := expectServer(env, ids["off"], "stopped", map[string]int{emulator.RouteReboot: 1})(nil); err != nil {
		t.Error(err)
	}
	if err := expectServer(env, ids["held"], "suspended", map[string]int{emulator.RouteStart: 1, emulator.RouteStop: 1})(nil); err != nil {
		t.Error(err)
	}
}

// An action triggered by the server's own update, and an action on a server
// whose power_state is managed: the next plan puts the power back.
func TestAccServerActions_lifecycleOfTheServerAndManagedPower(t *testing.T) {
	env := newTestEnv(t)
	env.requireEmulator("needs the emulator's request log: which power requests the action and the plan sent")
	server := func(name string) string {
		return serverConfig(name, 1, `  power_state = "running"
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
	emu, err := emulator.Start(emulator.Options{
		Tokens:         map[string]string{testToken: "acc"},
		TransitionTime: 2 * time.Second, // several polls see "rebooting"
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	id := seedFleet(t, emu, [][3]string{{"web", "active", "us-west"}})["web"]

	c := newCLI(t, emu.URL(), testToken)
	c.write("main.tf", cliRequiredProviders+fmt.Sprintf(`
action "vpsorg_server_reboot" "web" {
  config {
    server_id = "%d"
  }
}
`, id))
	out := c.must("apply", "-no-color", "-input=false", "-auto-approve", "-invoke=action.vpsorg_server_reboot.web")
	for _, want := range []string{
		fmt.Sprintf("Sending reboot to server %d", id),
		fmt.Sprintf("Server %d is rebooting, waiting until it is active", id),
		fmt.Sprintf("Server %d is active after", id),
		"Actions: 1 invoked.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if n := emu.RequestCounts()["POST "+emulator.RouteReboot]; n != 1 {
		t.Errorf("POST reboot sent %d times, want 1", n)
	}
	if s, _ := emu.Server(id); s.Status != "active" {
		t.Errorf("server is %s after the action, want active", s.Status)
	}
}
