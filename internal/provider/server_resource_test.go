package provider

import (
	"context"
	"fmt"
	"regexp"
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

const (
	routeStart  = "POST /api/v1/servers/{id}/start/"
	routeStop   = "POST /api/v1/servers/{id}/stop/"
	routeReboot = "POST /api/v1/servers/{id}/reboot/"
	routePatch  = "PATCH /api/v1/servers/{id}/"
	routeCreate = "POST /api/v1/servers/"
)

// serverConfig is a vpsorg_server "web" with the given plan and extra
// attributes, and the catalog's first OS and location.
func serverConfig(name string, planID int64, extra string) string {
	return fmt.Sprintf(`
resource "vpsorg_server" "web" {
  name     = %q
  plan_id  = %d
  os_id    = %d
  location = %q
%s
}
`, name, planID, catalog.systems[0], catalog.locations[0], extra)
}

func TestAccServerResource_lifecycle(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("web-1", catalog.plans[0], `  hostname = "web1.example.com"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("power_state"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("hostname"), knownvalue.StringExact("web1.example.com")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("backups_enabled"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("ip_address"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("plan"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"id":        knownvalue.Int64Exact(catalog.plans[0]),
						"name":      catalog.documentedOr(knownvalue.StringExact("Standard VPS")),
						"bandwidth": catalog.documentedOr(knownvalue.Int64Exact(2048)),
					})),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("os"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"id":   knownvalue.Int64Exact(catalog.systems[0]),
						"name": catalog.documentedOr(knownvalue.StringExact("Ubuntu 22.04 LTS")),
					})),
				},
			},
			{
				ResourceName:            "vpsorg_server.web",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "reboot_trigger"},
			},
			{
				Config: env.config(env.serverConfig("web-1-renamed", catalog.plans[0], `  hostname        = "web1.example.com"
  backups_enabled = true`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("name"), knownvalue.StringExact(env.name("web-1-renamed"))),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("name"), knownvalue.StringExact(env.name("web-1-renamed"))),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("backups_enabled"), knownvalue.Bool(true)),
				},
			},
			{
				Config: env.config(env.serverConfig("web-1-renamed", catalog.plans[1], `  hostname        = "web1.example.com"
  backups_enabled = true`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionReplace),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("plan").AtMapKey("id"), knownvalue.Int64Exact(catalog.plans[1])),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("plan").AtMapKey("name"), catalog.documentedOr(knownvalue.StringExact("Performance VPS"))),
				},
			},
		},
	})
}

// The import block, and the errors for ids that are not servers.
func TestAccServerResource_importBlockAndBadIDs(t *testing.T) {
	env := newTestEnv(t)
	seeded := env.seedServers(serverSpec{name: "adopted", osID: catalog.systems[1], location: catalog.locations[1]})[0]
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:        env.config(env.serverConfig("adopted", catalog.plans[0], "")),
				ResourceName:  "vpsorg_server.web",
				ImportState:   true,
				ImportStateId: "not-a-number",
				ExpectError: regexp.MustCompile(`(?s)Invalid server id to import.*The id to import, "not-a-number", is not a\s+server\s+id.*` +
					`vpsorg_servers data source`),
			},
			{
				Config:        env.config(env.serverConfig("adopted", catalog.plans[0], "")),
				ResourceName:  "vpsorg_server.web",
				ImportState:   true,
				ImportStateId: "999999",
				// The provider's own error, naming the id, not Terraform's
				// "Cannot import non-existent remote object".
				ExpectError: regexp.MustCompile(`(?s)Server not found.*No server with id 999999 exists for this API token.*` +
					`Only an\s+existing\s+server\s+can\s+be\s+imported.*vpsorg_servers`),
			},
			{
				Config: env.config(fmt.Sprintf(`
import {
  to = vpsorg_server.web
  id = "%d"
}

resource "vpsorg_server" "web" {
  name           = %q
  plan_id        = %d
  os_id          = %d
  location       = %q
  reboot_trigger = "v1"
}
`, seeded.ID, seeded.Name, catalog.plans[0], catalog.systems[1], catalog.locations[1])),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						// Adopting records reboot_trigger and changes nothing else.
						plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprint(seeded.ID))),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("reboot_trigger"), knownvalue.StringExact("v1")),
				},
				Check: env.emulatorCheck("that adopting sent no power or settings request (the emulator's request log)", func(*emulator.Emulator) error {
					if n := env.sent(requests{route: routeReboot}) + env.sent(requests{route: routeStart}) + env.sent(requests{route: routeStop}) + env.sent(requests{route: routePatch}); n != 0 {
						return fmt.Errorf("adopting a server sent %d power or settings requests, want none", n)
					}
					return nil
				}),
			},
		},
	})
}

func TestAccServerResource_powerAndReboot(t *testing.T) {
	env := newTestEnv(t)
	expectCalls := func(start, stop, reboot int) resource.TestCheckFunc {
		return env.expectSent(map[string]int{routeStart: start, routeStop: stop, routeReboot: reboot})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("pwr", catalog.plans[0], `  power_state = "stopped"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("power_state"), knownvalue.StringExact("stopped")),
				},
				Check: resource.ComposeTestCheckFunc(env.expectStatus("pwr", "stopped"), expectCalls(0, 1, 0)),
			},
			{
				Config: env.config(env.serverConfig("pwr", catalog.plans[0], `  power_state = "running"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
				Check: resource.ComposeTestCheckFunc(env.expectStatus("pwr", "active"), expectCalls(1, 1, 0)),
			},
			{
				// From null: only recorded, no reboot.
				Config: env.config(env.serverConfig("pwr", catalog.plans[0], `  power_state    = "running"
  reboot_trigger = "config-v1"`)),
				Check: expectCalls(1, 1, 0),
			},
			{
				Config: env.config(env.serverConfig("pwr", catalog.plans[0], `  power_state    = "running"
  reboot_trigger = "config-v2"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("reboot_trigger"), knownvalue.StringExact("config-v2")),
				},
				Check: resource.ComposeTestCheckFunc(env.expectStatus("pwr", "active"), expectCalls(1, 1, 1)),
			},
			{
				// Stopping in the same apply owes no reboot.
				Config: env.config(env.serverConfig("pwr", catalog.plans[0], `  power_state    = "stopped"
  reboot_trigger = "config-v3"`)),
				Check: resource.ComposeTestCheckFunc(env.expectStatus("pwr", "stopped"), expectCalls(1, 2, 1)),
			},
		},
	})
}

// A server stopped behind Terraform's back, with power_state unset, stays
// stopped: the plan is empty and nothing starts it.
func TestAccServerResource_unmanagedPowerIsLeftAlone(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("unmanaged", catalog.plans[0], ""))},
			{
				PreConfig: func() { env.stopOutOfBand("unmanaged") },
				Config:    env.config(env.serverConfig("unmanaged", catalog.plans[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("power_state"), knownvalue.StringExact("stopped")),
				},
				Check: resource.ComposeTestCheckFunc(
					env.expectStatus("unmanaged", "stopped"),
					env.emulatorCheck("that no start request was sent at all (the emulator's request log)", func(*emulator.Emulator) error {
						if n := env.sent(requests{route: routeStart}); n != 0 {
							return fmt.Errorf("the provider started an unmanaged server (%d start calls)", n)
						}
						return nil
					}),
				),
			},
		},
	})
}

// A server renamed behind Terraform's back is renamed back; one deleted
// behind its back is created again.
func TestAccServerResource_drift(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("drifter", catalog.plans[0], ""))},
			{
				PreConfig: func() {
					renamed := env.name("renamed-by-hand")
					if _, err := env.client.UpdateServer(context.Background(), env.serverNamed("drifter").ID, vpsorg.UpdateServerRequest{Name: &renamed}); err != nil {
						t.Fatal(err)
					}
				},
				Config: env.config(env.serverConfig("drifter", catalog.plans[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("name"), knownvalue.StringExact(env.name("drifter"))),
				},
			},
			{
				PreConfig: func() { env.deleteOutOfBand("drifter") },
				Config:    env.config(env.serverConfig("drifter", catalog.plans[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

// A create timeout that runs out while the server provisions fails the
// apply and taints the server; the next apply replaces it. In process the
// emulator provisions for a minute; elsewhere the timeout is a third of how
// long the endpoint takes.
func TestAccServerResource_createTimeoutTaintsAndReplaces(t *testing.T) {
	env := newTestEnv(t)
	timeout := 2 * time.Second
	timedOut := `(?s)did not finish provisioning.*timed out waiting for server \d+ to become active`
	if emu := env.emulator; emu != nil {
		emu.SetProvisioningTime(time.Minute)
		timedOut += `.*last seen status:\s+provisioning`
	} else {
		// A slow or rate-limited endpoint may not answer a poll before the
		// deadline, so the last status seen is not part of the check.
		took := env.provisioningTime()
		timeout = (took / 3).Round(time.Millisecond)
		if timeout < 250*time.Millisecond {
			t.Skipf("needs the emulator's SetProvisioningTime hook: this endpoint provisions in %v, too fast for a create timeout to run out first", took)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:      env.config(env.serverConfig("slow", catalog.plans[0], fmt.Sprintf(`  timeouts { create = %q }`, timeout))),
				ExpectError: regexp.MustCompile(timedOut),
			},
			{
				PreConfig: func() {
					if emu := env.emulator; emu != nil {
						emu.SetProvisioningTime(testProvisioningTime)
					}
				},
				Config: env.config(env.serverConfig("slow", catalog.plans[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionReplace)},
				},
				Check: func(*terraform.State) error {
					own, err := env.ownServers()
					if err != nil {
						return err
					}
					if len(own) != 1 {
						return fmt.Errorf("after replacing the tainted server the API lists %d servers of this test, want 1: %+v", len(own), own)
					}
					return nil
				},
			},
		},
	})
}

func TestAccServerResource_provisioningFailureTaints(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's FailProvisioning hook: the API cannot be made to fail a provisioning")
	emu.FailProvisioning(func(name string) bool { return name == env.name("doomed") })
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:      env.config(env.serverConfig("doomed", catalog.plans[0], "")),
				ExpectError: regexp.MustCompile(`(?s)did not finish provisioning.*entered status "error"`),
			},
			{
				PreConfig: func() { emu.FailProvisioning(nil) },
				Config:    env.config(env.serverConfig("doomed", catalog.plans[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionReplace)},
				},
			},
		},
	})
}

// A create the API refuses leaves nothing in state: the next apply is a
// create, not a replace.
func TestAccServerResource_apiRejectionsLeaveNothingInState(t *testing.T) {
	env := newTestEnv(t)
	var steps []resource.TestStep
	if emu := env.emulator; emu != nil {
		emu.SetCredits("acc", 0)
		steps = append(steps, resource.TestStep{
			Config:      env.config(env.serverConfig("broke", catalog.plans[0], "")),
			ExpectError: regexp.MustCompile(`(?s)Insufficient VPS.org credits.*HTTP 402`),
		})
	} else {
		env.notChecked("a create refused with 402 (the emulator's SetCredits hook)")
	}
	// The API's error body is undocumented; the emulator's names the field,
	// so there the error lands on plan_id.
	rejected := `(?s)Unable to create server.*HTTP 400 Bad Request`
	if env.emulator != nil {
		rejected = `(?s)with vpsorg_server.web.*plan_id.*HTTP 400 Bad Request.*The API rejected plan_id`
	} else {
		env.notChecked("that the 400 lands on plan_id (it needs the field named in the error body, which the API does not document)")
	}
	steps = append(steps,
		resource.TestStep{
			PreConfig: func() {
				if emu := env.emulator; emu != nil {
					emu.SetCredits("acc", 10)
				}
			},
			Config:      env.config(env.serverConfig("broke", unknownPlanID, "")),
			ExpectError: regexp.MustCompile(rejected),
		},
		resource.TestStep{
			// No failure left anything in state: this is a create, not a replace.
			Config: env.config(env.serverConfig("broke", catalog.plans[0], "")),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionCreate)},
			},
		},
	)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps:                    steps,
	})
}

func TestAccServerResource_planTimeValidation(t *testing.T) {
	env := newTestEnv(t)
	cases := map[string]struct {
		config string
		want   string
	}{
		"name with an underscore": {env.serverConfig("bad_name", catalog.plans[0], ""), `Attribute name must contain only letters, digits and hyphens`},
		"name too long":           {env.serverConfig(fmt.Sprintf("%065d", 0), catalog.plans[0], ""), `Attribute name string length must be between 1 and 64`},
		"hostname not an FQDN":    {env.serverConfig("ok", catalog.plans[0], `  hostname = "localhost"`), `Attribute hostname must be a fully qualified domain name`},
		"hostname label hyphen":   {env.serverConfig("ok", catalog.plans[0], `  hostname = "-web.example.com"`), `Attribute hostname must be a fully qualified domain name`},
		"power_state unknown":     {env.serverConfig("ok", catalog.plans[0], `  power_state = "off"`), `Attribute power_state value must be one of: \["running" "stopped"\]`},
		"plan_id zero":            {env.serverConfig("ok", 0, ""), `Attribute plan_id value must be at least 1`},
	}
	var steps []resource.TestStep
	for name, tc := range cases {
		t.Logf("step: %s", name)
		steps = append(steps, resource.TestStep{
			Config:      env.config(tc.config),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(tc.want),
		})
	}
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: env.factories(), Steps: steps})
	err := env.onEmulator("that plan-time validation sent no request (the emulator's request log)", func(emu *emulator.Emulator) error {
		if n := len(emu.Requests()); n != 0 {
			return fmt.Errorf("plan-time validation sent %d API requests, want none: %+v", n, emu.Requests())
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// A suspended server shows in status; asking to change its power fails with
// an error that names the suspension, and changes nothing.
func TestAccServerResource_suspendedServerRefusesPowerChanges(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetStatus hook: the API cannot suspend a server")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("held", catalog.plans[0], ""))},
			{
				PreConfig: func() { emu.SetStatus(env.serverNamed("held").ID, "suspended") },
				Config:    env.config(env.serverConfig("held", catalog.plans[0], "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("suspended")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("power_state"), knownvalue.StringExact("stopped")),
				},
			},
			{
				Config:      env.config(env.serverConfig("held", catalog.plans[0], `  power_state = "running"`)),
				ExpectError: regexp.MustCompile(`(?s)Unable to change the power state.*is suspended`),
			},
			{
				PreConfig: func() {
					if n := env.sent(requests{route: routeStart}) + env.sent(requests{route: routeStop}); n != 0 {
						t.Errorf("a suspended server was sent %d power actions", n)
					}
					emu.SetStatus(env.serverNamed("held").ID, "active")
				},
				Config: env.config(env.serverConfig("held", catalog.plans[0], "")),
			},
		},
	})
}
