package provider

import (
	"context"
	"encoding/json"
	"errors"
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

// expectOwnResults checks that, of the servers a list block found, this
// test's own are exactly those with these ids. In process the account is
// the test's own and every result counts; against an endpoint from the
// environment the account is shared, and only results whose name (the
// display name) has the test's prefix do.
func (e *testEnv) expectOwnResults(address string, ids ...int64) querycheck.QueryResultCheck {
	o := ownResults{address: address, want: slices.Sorted(slices.Values(ids))}
	if e.emulator == nil {
		o.prefix = e.prefix
	}
	return o
}

type ownResults struct {
	address string
	prefix  string // "" counts every result
	want    []int64
}

func (o ownResults) CheckQuery(_ context.Context, req querycheck.CheckQueryRequest, resp *querycheck.CheckQueryResponse) {
	listed := false
	for _, summary := range req.QuerySummaries {
		listed = listed || strings.TrimPrefix(summary.Address, "list.") == o.address
	}
	if !listed {
		resp.Error = fmt.Errorf("the list block %s is not in the query results", o.address)
		return
	}
	var got []int64
	for _, r := range req.Query {
		if strings.TrimPrefix(r.Address, "list.") != o.address || !strings.HasPrefix(r.DisplayName, o.prefix) {
			continue
		}
		id, err := identityID(r.Identity)
		if err != nil {
			resp.Error = fmt.Errorf("%s found %q: %w", o.address, r.DisplayName, err)
			return
		}
		got = append(got, id)
	}
	slices.Sort(got)
	if !slices.Equal(got, o.want) {
		resp.Error = fmt.Errorf("%s found servers %v named %s*, want %v", o.address, got, o.prefix, o.want)
	}
}

// identityID is the id in a query result's identity.
func identityID(identity map[string]any) (int64, error) {
	switch v := identity["id"].(type) {
	case json.Number:
		return v.Int64()
	case float64:
		return int64(v), nil
	}
	return 0, fmt.Errorf("identity %v has no numeric id", identity)
}

// Both filters reach the API as query parameters, every page is read, and
// each result carries the identity and the server's name; the resource
// object, when asked for, is the detail view. A suspended server among
// those listed, and the pages read, are checked in process only.
func TestAccServerListResource_query(t *testing.T) {
	env := newTestEnv(t)
	if emu := env.emulator; emu != nil {
		emu.SetPageSize(2)
	}
	hostname := "db.example.com"
	fleet := env.seedServers(
		serverSpec{name: "west-1"},
		serverSpec{name: "west-2"},
		serverSpec{name: "west-3"},
		serverSpec{name: "west-off", stopped: true},
		serverSpec{name: "east-off", location: catalog.locations[1], stopped: true},
		// The one server of this test that runs in the second location.
		serverSpec{name: "db", planID: catalog.plans[1], osID: catalog.systems[1], location: catalog.locations[1], hostname: hostname, backups: true},
	)
	west1, west2, west3, westOff, eastOff, db := fleet[0].ID, fleet[1].ID, fleet[2].ID, fleet[3].ID, fleet[4].ID, fleet[5].ID
	all, east := []int64{west1, west2, west3, westOff, eastOff, db}, []int64{eastOff, db}
	byID := func(id int64) queryfilter.QueryFilter {
		return queryfilter.ByResourceIdentity(map[string]knownvalue.Check{"id": knownvalue.Int64Exact(id)})
	}
	checks := []querycheck.QueryResultCheck{
		querycheck.ExpectResourceDisplayName("vpsorg_server.all", byID(eastOff), knownvalue.StringExact(env.name("east-off"))),
	}
	if emu := env.emulator; emu != nil {
		held := env.seedServers(serverSpec{name: "east-held", location: catalog.locations[1]})[0].ID
		emu.SetStatus(held, emulator.StatusSuspended)
		all, east = append(all, held), append(east, held)
		checks = append(checks, querycheck.ExpectResourceDisplayName("vpsorg_server.all", byID(held), knownvalue.StringExact(env.name("east-held"))))
	} else {
		env.notChecked("a suspended server among those listed (the emulator's SetStatus hook: the API cannot suspend one)")
	}
	checks = append(checks,
		env.expectOwnResults("vpsorg_server.all", all...),
		env.expectOwnResults("vpsorg_server.west_active", west1, west2, west3),
		env.expectOwnResults("vpsorg_server.east", east...),
		env.expectOwnResults("vpsorg_server.stopped", westOff, eastOff),
		env.expectOwnResults("vpsorg_server.nowhere"),
		env.expectOwnResults("vpsorg_server.detail", db),
		querycheck.ExpectResourceKnownValues("vpsorg_server.detail", byID(db), []querycheck.KnownValueCheck{
			{Path: tfjsonpath.New("id"), KnownValue: knownvalue.StringExact(fmt.Sprint(db))},
			{Path: tfjsonpath.New("name"), KnownValue: knownvalue.StringExact(env.name("db"))},
			{Path: tfjsonpath.New("hostname"), KnownValue: knownvalue.StringExact(hostname)},
			{Path: tfjsonpath.New("plan_id"), KnownValue: knownvalue.Int64Exact(catalog.plans[1])},
			{Path: tfjsonpath.New("os_id"), KnownValue: knownvalue.Int64Exact(catalog.systems[1])},
			{Path: tfjsonpath.New("location"), KnownValue: knownvalue.StringExact(catalog.locations[1])},
			{Path: tfjsonpath.New("status"), KnownValue: knownvalue.StringExact("active")},
			// Only the detail view has these three.
			{Path: tfjsonpath.New("backups_enabled"), KnownValue: knownvalue.Bool(true)},
			{Path: tfjsonpath.New("ipv6_address"), KnownValue: knownvalue.NotNull()},
			{Path: tfjsonpath.New("plan").AtMapKey("bandwidth"), KnownValue: knownvalue.NotNull()}, // plan 2's is undocumented
			// Configuration generated from the object leaves power alone.
			{Path: tfjsonpath.New("power_state"), KnownValue: knownvalue.Null()},
			{Path: tfjsonpath.New("ssh_key_id"), KnownValue: knownvalue.Null()},
			{Path: tfjsonpath.New("reboot_trigger"), KnownValue: knownvalue.Null()},
			{Path: tfjsonpath.New("timeouts"), KnownValue: knownvalue.Null()},
		}),
	)

	// A query runs in the working directory of a configuration.
	workdir := env.config("")
	if workdir == "" {
		workdir = `provider "vpsorg" {}` // endpoint and token come from the environment
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   featureQuery.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: workdir},
			{
				Query: true,
				Config: fmt.Sprintf(`
list "vpsorg_server" "all" {
  provider = vpsorg
}

list "vpsorg_server" "west_active" {
  provider = vpsorg
  config {
    status   = "active"
    location = %[1]q
  }
}

list "vpsorg_server" "east" {
  provider = vpsorg
  config {
    location = %[2]q
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
    status   = "suspended"
    location = %[1]q
  }
}

list "vpsorg_server" "detail" {
  provider         = vpsorg
  include_resource = true
  config {
    status   = "active"
    location = %[2]q
  }
}
`, catalog.locations[0], catalog.locations[1]),
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

	err := env.onEmulator("that every page of each list was read, with the filters as query parameters, and that only include_resource cost a GET a result (the emulator's request log)", func(emu *emulator.Emulator) error {
		pages := map[string][]string{}
		for _, q := range listQueries(emu) {
			key := url.Values{"status": {q.Get("status")}, "location": {q.Get("location")}}.Encode()
			pages[key] = append(pages[key], q.Get("page"))
		}
		var errs []error
		for _, want := range []struct {
			status, location string
			pages            []string
		}{
			{"", "", []string{"", "2", "3", "4"}}, // 7 servers
			{"active", catalog.locations[0], []string{"", "2"}},
			{"", catalog.locations[1], []string{""}},
			{"stopped", "", []string{""}},
		} {
			key := url.Values{"status": {want.status}, "location": {want.location}}.Encode()
			got := pages[key]
			for _, page := range want.pages {
				if !slices.Contains(got, page) {
					errs = append(errs, fmt.Errorf("list with %s: pages requested %q, want each of %q", key, got, want.pages))
					break
				}
			}
		}
		// The resource object costs one GET per result, and only when asked for.
		if n := env.sent(requests{route: "GET " + emulator.RouteServer}); n != 1 {
			errs = append(errs, fmt.Errorf("GETs of single servers = %d, want 1 (the one result with include_resource)", n))
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Error(err)
	}
}

// ownGenerated keeps, of configuration that `terraform query
// -generate-config-out` wrote, the resource blocks of servers named with
// prefix and their import blocks, and says how many resources it dropped.
// Terraform writes each top-level block from a line at the margin to a
// line "}".
func ownGenerated(gen, prefix string) (own string, dropped int) {
	var blocks []string
	var cur []string
	for line := range strings.Lines(gen) {
		if len(cur) == 0 && !strings.HasPrefix(line, "resource ") && !strings.HasPrefix(line, "import ") {
			continue // comments and blank lines between blocks
		}
		cur = append(cur, line)
		if strings.TrimRight(line, "\n") == "}" {
			blocks = append(blocks, strings.Join(cur, ""))
			cur = nil
		}
	}
	name := regexp.MustCompile(`(?m)^\s*name\s*=\s*"([^"]*)"$`)
	label := regexp.MustCompile(`^resource "vpsorg_server" "([^"]+)"`)
	to := regexp.MustCompile(`(?m)^\s*to\s*=\s*vpsorg_server\.(\S+)$`)
	kept := map[string]bool{}
	for _, b := range blocks {
		if l := label.FindStringSubmatch(b); l != nil {
			if n := name.FindStringSubmatch(b); n != nil && strings.HasPrefix(n[1], prefix) {
				kept[l[1]] = true
			} else {
				dropped++
			}
		}
	}
	var out strings.Builder
	for _, b := range blocks {
		l, t := label.FindStringSubmatch(b), to.FindStringSubmatch(b)
		if (l != nil && kept[l[1]]) || (t != nil && kept[t[1]]) {
			out.WriteString(b + "\n")
		}
	}
	return out.String(), dropped
}

// `terraform query -generate-config-out` writes configuration that, applied,
// only imports: no replacement, no update, no power change; the plan after
// it is empty. terraform-plugin-testing's query steps cannot generate
// configuration (v1.16), so this drives the CLI. The query lists the whole
// account; what is applied is the configuration of this test's servers.
func TestAccServerListResource_generatedConfigOnlyImports(t *testing.T) {
	t.Parallel()
	featureQuery.require(t)
	env := newTestEnv(t)
	fleet := env.seedServers(
		serverSpec{name: "plain"},
		serverSpec{name: "off", stopped: true},
		serverSpec{name: "db", planID: catalog.plans[1], osID: catalog.systems[1], location: catalog.locations[1], hostname: "db.example.com", backups: true},
	)
	ids := map[string]int64{"plain": fleet[0].ID, "off": fleet[1].ID, "db": fleet[2].ID}
	if emu := env.emulator; emu != nil {
		emu.SetPageSize(2)
		for name, id := range seedFleet(t, emu, [][3]string{
			{env.name("held"), "suspended", "us-east"},
			{env.name("rebooting"), "rebooting", "us-east"},
		}) {
			ids[strings.TrimPrefix(name, env.prefix)] = id
		}
	} else {
		env.notChecked("adopting a suspended and a rebooting server (the emulator's AddServer hook: the API cannot make either on demand)")
	}

	c := newCLI(t, env.endpoint, env.token)
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
	gen, dropped := ownGenerated(string(generated), env.prefix)
	if env.emulator != nil && dropped != 0 {
		t.Errorf("%d generated resources are not servers of this test, in an account of its own:\n%s", dropped, generated)
	}
	c.write("generated.tf", gen)
	for name, id := range ids {
		named := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*name\s*= %q$`, env.name(name)))
		if !named.MatchString(gen) || !strings.Contains(gen, fmt.Sprintf("id = %d", id)) {
			t.Errorf("generated configuration lacks server %s (%d) or its import by identity:\n%s", env.name(name), id, gen)
		}
	}
	if strings.Contains(gen, "power_state") {
		t.Errorf("generated configuration manages power_state; adopting a server must leave its power alone:\n%s", gen)
	}
	if !regexp.MustCompile(`backups_enabled\s*= true`).MatchString(gen) {
		t.Errorf("generated configuration lacks db's backups_enabled = true (only the detail view has it):\n%s", gen)
	}

	if emu := env.emulator; emu != nil {
		emu.ResetRequests()
	}
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
	err = env.onEmulator("that adopting sent nothing but GETs (the emulator's request log)", func(emu *emulator.Emulator) error {
		var errs []error
		for _, r := range emu.Requests() {
			if r.Method != "GET" {
				errs = append(errs, fmt.Errorf("adopting the fleet sent %s %s", r.Method, r.Path))
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Error(err)
	}
	if out, err := c.run(nil, "plan", "-no-color", "-input=false", "-detailed-exitcode"); err != nil {
		t.Errorf("the plan after adopting is not empty: %v\n%s", err, out)
	}
}
