package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// An update that changes no power plans the server's status, power state
// and addresses as they are; one that changes power leaves status to the
// apply.
func TestAccServerResource_renamePlanKeepsStatusKnown(t *testing.T) {
	env := newTestEnv(t)
	known := func(attr string, v knownvalue.Check) plancheck.PlanCheck {
		return plancheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New(attr), v)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("quiet", 1, ""))},
			{
				Config: env.config(env.serverConfig("quieter", 1, `  hostname = "quiet.example.com"
  backups_enabled = true`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate),
					known("status", knownvalue.StringExact("active")),
					known("power_state", knownvalue.StringExact("running")),
					known("ip_address", knownvalue.NotNull()),
					known("ipv6_address", knownvalue.NotNull()),
					plancheck.ExpectUnknownValue("vpsorg_server.web", tfjsonpath.New("updated_at")),
				}},
			},
			{
				Config: env.config(env.serverConfig("quieter", 1, `  hostname = "quiet.example.com"
  backups_enabled = true
  power_state = "stopped"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue("vpsorg_server.web", tfjsonpath.New("status")),
				}},
			},
		},
	})
}

// A reboot_trigger change warns in the plan, naming the server, that the
// apply will reboot it; a plan that reboots nothing does not.
func TestAccServerResource_rebootTriggerChangeWarnsInThePlan(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	c := newCLI(t, env.endpoint, env.token)
	write := func(trigger, name string) {
		c.write("main.tf", cliRequiredProviders+env.serverConfig(name, 1, fmt.Sprintf("  reboot_trigger = %q", trigger)))
	}
	write("v1", "rebooted")
	c.must("apply", "-no-color", "-input=false", "-auto-approve")
	id := env.serverNamed("rebooted").ID

	write("v2", "rebooted")
	out := strings.Join(strings.Fields(c.must("plan", "-no-color", "-input=false")), " ")
	// On reboot_trigger's line, naming the server.
	want := regexp.MustCompile(fmt.Sprintf(`Warning: The apply will reboot the server with vpsorg_server.web, on main.tf line \d+, `+
		`in resource "vpsorg_server" "web": \d+: reboot_trigger = "v2" reboot_trigger changes from "v1" to "v2", `+
		`so applying this plan reboots server %d \(%q\)`, id, env.name("rebooted")))
	if !want.MatchString(out) {
		t.Errorf("the plan lacks the warning %q:\n%s", want, out)
	}

	write("v1", "renamed")
	if out := c.must("plan", "-no-color", "-input=false"); strings.Contains(out, "will reboot") {
		t.Errorf("a rename's plan speaks of a reboot:\n%s", out)
	}
	c.must("destroy", "-no-color", "-input=false", "-auto-approve")
}

// What the resource documentation promises of create_before_destroy: a
// location the API refuses, on an existing server, leaves the old server
// running and in state, as the API refuses it only when the replacement is
// created. (Without it Terraform destroys the old server first.)
func TestAccServerResource_createBeforeDestroyKeepsTheServerWhenTheAPIRefusesTheNewValue(t *testing.T) {
	env := newTestEnv(t)
	config := func(location string) string {
		return env.config(fmt.Sprintf(`
resource "vpsorg_server" "web" {
  name     = %q
  plan_id  = %d
  os_id    = %d
  location = %q

  lifecycle {
    create_before_destroy = true
  }
}
`, env.name("kept"), catalog.plans[0], catalog.systems[0], location))
	}
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config(catalog.locations[0]),
				Check: resource.TestCheckResourceAttrWith("vpsorg_server.web", "id", func(v string) error {
					id = v
					return nil
				}),
			},
			{
				Config:      config(catalog.locations[0] + "-typo"),
				ExpectError: regexp.MustCompile(`(?s)Unable to create server.*location`),
			},
			{
				Config: config(catalog.locations[0]),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttrPtr("vpsorg_server.web", "id", &id),
					env.expectStatus("kept", "active"),
				),
			},
		},
	})
}
