package provider

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// expectIDs checks that a list block found exactly the servers with these ids.
func expectIDs(address string, ids ...int64) []querycheck.QueryResultCheck {
	checks := []querycheck.QueryResultCheck{querycheck.ExpectLength(address, len(ids))}
	for _, id := range ids {
		checks = append(checks, querycheck.ExpectIdentity(address, map[string]knownvalue.Check{"id": knownvalue.Int64Exact(id)}))
	}
	return checks
}

// Both filters reach the API as query parameters, every page is read, and
// each result carries the identity and the server's name; the resource
// object, when asked for, is the detail view.
func TestAccServerListResource_query(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's AddServer hook for a suspended server and a page size of 2")
	emu.SetPageSize(2)
	ids := seedFleet(t, emu, [][3]string{
		{"west-1", "active", "us-west"},
		{"west-2", "active", "us-west"},
		{"west-3", "active", "us-west"},
		{"west-off", "stopped", "us-west"},
		{"east-1", "active", "us-east"},
		{"east-held", "suspended", "us-east"},
	})
	hostname := "db.example.com"
	db, err := emu.AddServer("acc", emulator.ServerSpec{Name: "db", Hostname: &hostname, PlanID: 2, OSID: 3,
		Location: "eu-central", Status: "active", BackupsEnabled: true})
	if err != nil {
		t.Fatal(err)
	}

	var checks []querycheck.QueryResultCheck
	checks = append(checks, expectIDs("vpsorg_server.all", ids["west-1"], ids["west-2"], ids["west-3"], ids["west-off"], ids["east-1"], ids["east-held"], db.ID)...)
	checks = append(checks, expectIDs("vpsorg_server.west_active", ids["west-1"], ids["west-2"], ids["west-3"])...)
	checks = append(checks, expectIDs("vpsorg_server.east", ids["east-1"], ids["east-held"])...)
	checks = append(checks, expectIDs("vpsorg_server.stopped", ids["west-off"])...)
	checks = append(checks, expectIDs("vpsorg_server.nowhere")...)
	byID := func(id int64) queryfilter.QueryFilter {
		return queryfilter.ByResourceIdentity(map[string]knownvalue.Check{"id": knownvalue.Int64Exact(id)})
	}
	checks = append(checks,
		querycheck.ExpectResourceDisplayName("vpsorg_server.all", byID(ids["east-held"]), knownvalue.StringExact("east-held")),
		querycheck.ExpectResourceKnownValues("vpsorg_server.detail", byID(db.ID), []querycheck.KnownValueCheck{
			{Path: tfjsonpath.New("id"), KnownValue: knownvalue.StringExact(fmt.Sprint(db.ID))},
			{Path: tfjsonpath.New("name"), KnownValue: knownvalue.StringExact("db")},
			{Path: tfjsonpath.New("hostname"), KnownValue: knownvalue.StringExact(hostname)},
			{Path: tfjsonpath.New("plan_id"), KnownValue: knownvalue.Int64Exact(2)},
			{Path: tfjsonpath.New("os_id"), KnownValue: knownvalue.Int64Exact(3)},
			{Path: tfjsonpath.New("location"), KnownValue: knownvalue.StringExact("eu-central")},
			{Path: tfjsonpath.New("status"), KnownValue: knownvalue.StringExact("active")},
			// Only the detail view has these three.
			{Path: tfjsonpath.New("backups_enabled"), KnownValue: knownvalue.Bool(true)},
			{Path: tfjsonpath.New("ipv6_address"), KnownValue: knownvalue.NotNull()},
			{Path: tfjsonpath.New("plan").AtMapKey("bandwidth"), KnownValue: knownvalue.Int64Exact(4096)},
			// Configuration generated from the object leaves power alone.
			{Path: tfjsonpath.New("power_state"), KnownValue: knownvalue.Null()},
			{Path: tfjsonpath.New("ssh_key_id"), KnownValue: knownvalue.Null()},
			{Path: tfjsonpath.New("reboot_trigger"), KnownValue: knownvalue.Null()},
			{Path: tfjsonpath.New("timeouts"), KnownValue: knownvalue.Null()},
		}),
	)

	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureQuery.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			// A query runs in the working directory of a configuration.
			{Config: env.config("")},
			{
				Query: true,
				Config: `
list "vpsorg_server" "all" {
  provider = vpsorg
}

list "vpsorg_server" "west_active" {
  provider = vpsorg
  config {
    status   = "active"
    location = "us-west"
  }
}

list "vpsorg_server" "east" {
  provider = vpsorg
  config {
    location = "us-east"
  }
}

list "vpsorg_server" "stopped" {
  provider = vpsorg
  config {
    status = "stopped"
  }
}

list "vpsorg_server" "nowhere" {
  provider = vpsorg
  config {
    location = "ap-south"
  }
}

list "vpsorg_server" "detail" {
  provider         = vpsorg
  include_resource = true
  config {
    location = "eu-central"
  }
}
`,
				QueryResultChecks: checks,
			},
			{
				Query: true,
				Config: `
list "vpsorg_server" "bad" {
  provider = vpsorg
  config {
    status = "on"
  }
}
`,
				ExpectError: regexp.MustCompile(`Attribute status value must be one of`),
			},
		},
	})

	// Every page of each filtered list was read, with the filters as query
	// parameters.
	pages := map[string][]string{}
	for _, q := range listQueries(emu) {
		key := url.Values{"status": {q.Get("status")}, "location": {q.Get("location")}}.Encode()
		pages[key] = append(pages[key], q.Get("page"))
	}
	for _, want := range []struct {
		status, location string
		pages            []string
	}{
		{"", "", []string{"", "2", "3", "4"}}, // 7 servers
		{"active", "us-west", []string{"", "2"}},
		{"", "us-east", []string{""}},
		{"stopped", "", []string{""}},
	} {
		key := url.Values{"status": {want.status}, "location": {want.location}}.Encode()
		got := pages[key]
		for _, page := range want.pages {
			if !slices.Contains(got, page) {
				t.Errorf("list with %s: pages requested %q, want each of %q", key, got, want.pages)
				break
			}
		}
	}
	// The resource object costs one GET per result, and only when asked for.
	if n := env.count("GET " + emulator.RouteServer); n != 1 {
		t.Errorf("GETs of single servers = %d, want 1 (the one result with include_resource)", n)
	}
}

// `terraform query -generate-config-out` writes configuration that, applied,
// only imports: no replacement, no update, no power change; the plan after
// it is empty. terraform-plugin-testing's query steps cannot generate
// configuration (v1.16), so this drives the CLI.
func TestAccServerListResource_generatedConfigOnlyImports(t *testing.T) {
	t.Parallel()
	featureQuery.require(t)
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's AddServer hook for suspended and rebooting servers")
	emu.SetPageSize(2)
	ids := seedFleet(t, emu, [][3]string{
		{"plain", "active", "us-west"},
		{"off", "stopped", "us-west"},
		{"held", "suspended", "us-east"},
		{"rebooting", "rebooting", "us-east"},
	})
	hostname := "db.example.com"
	db, err := emu.AddServer("acc", emulator.ServerSpec{Name: "db", Hostname: &hostname, PlanID: 2, OSID: 3,
		Location: "eu-central", Status: "active", BackupsEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	ids["db"] = db.ID

	c := newCLI(t, emu.URL(), testToken)
	c.write("main.tf", cliRequiredProviders)
	c.write("fleet.tfquery.hcl", `
list "vpsorg_server" "fleet" {
  provider = vpsorg
}
`)
	c.must("query", "-no-color", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(c.dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	gen := string(generated)
	for name, id := range ids {
		named := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*name\s*= %q$`, name))
		if !named.MatchString(gen) || !strings.Contains(gen, fmt.Sprintf("id = %d", id)) {
			t.Errorf("generated configuration lacks server %s (%d) or its import by identity:\n%s", name, id, gen)
		}
	}
	if strings.Contains(gen, "power_state") {
		t.Errorf("generated configuration manages power_state; adopting a server must leave its power alone:\n%s", gen)
	}
	if !regexp.MustCompile(`backups_enabled\s*= true`).MatchString(gen) {
		t.Errorf("generated configuration lacks db's backups_enabled = true (only the detail view has it):\n%s", gen)
	}

	emu.ResetRequests()
	c.must("plan", "-no-color", "-input=false", "-out=adopt.tfplan")
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions   []string        `json:"actions"`
				Importing json.RawMessage `json:"importing"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(c.stdout("show", "-json", "adopt.tfplan")), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.ResourceChanges) != len(ids) {
		t.Errorf("the plan changes %d resources, want %d imports", len(plan.ResourceChanges), len(ids))
	}
	for _, rc := range plan.ResourceChanges {
		if len(rc.Change.Importing) == 0 || !slices.Equal(rc.Change.Actions, []string{"no-op"}) {
			t.Errorf("%s: actions %v, importing %s; want a no-op import", rc.Address, rc.Change.Actions, rc.Change.Importing)
		}
	}

	out := c.must("apply", "-no-color", "-input=false", "adopt.tfplan")
	if !strings.Contains(out, fmt.Sprintf("%d imported, 0 added, 0 changed, 0 destroyed", len(ids))) {
		t.Errorf("apply did more than import:\n%s", out)
	}
	for _, r := range emu.Requests() {
		if r.Method != "GET" {
			t.Errorf("adopting the fleet sent %s %s", r.Method, r.Path)
		}
	}
	if out, err := c.run(nil, "plan", "-no-color", "-input=false", "-detailed-exitcode"); err != nil {
		t.Errorf("the plan after adopting is not empty: %v\n%s", err, out)
	}
}
