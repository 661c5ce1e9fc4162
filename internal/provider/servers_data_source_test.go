package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

var compareEqual = compare.ValuesSame()

// ownServers applies a check to the servers of a list that carry the test's
// prefix, leaving out everyone else's: an account from the environment is
// shared. It keeps the order the API gave.
type ownServers struct {
	prefix string
	check  knownvalue.Check
}

func (o ownServers) CheckValue(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("expected a list of servers, got %T", v)
	}
	own := []any{}
	for _, s := range list {
		if m, ok := s.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["name"]), o.prefix) {
			own = append(own, s)
		}
	}
	return o.check.CheckValue(own)
}

func (o ownServers) String() string {
	return fmt.Sprintf("servers named %s*: %s", o.prefix, o.check)
}

// own is check applied to this test's servers only.
func (e *testEnv) own(check knownvalue.Check) knownvalue.Check {
	return ownServers{prefix: e.prefix, check: check}
}

// serversAre checks a list holds exactly these servers (id and name), in
// any order: the API does not document one.
func serversAre(servers ...vpsorg.Server) knownvalue.Check {
	checks := make([]knownvalue.Check, len(servers))
	for i, s := range servers {
		checks[i] = knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"id":   knownvalue.StringExact(strconv.FormatInt(s.ID, 10)),
			"name": knownvalue.StringExact(s.Name),
		})
	}
	return knownvalue.SetExact(checks)
}

// listQueries returns the query strings of the list requests seen so far.
func listQueries(emu *emulator.Emulator) []url.Values {
	var out []url.Values
	for _, r := range emu.Requests() {
		if r.Method == "GET" && r.Route == "/api/v1/servers/" {
			q, _ := url.ParseQuery(r.RawQuery)
			out = append(out, q)
		}
	}
	return out
}

// listSpansPages asks the API whether its list of servers has a next page.
func (e *testEnv) listSpansPages() bool {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(e.endpoint, "/")+"/servers/", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Next *string `json:"next"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		e.t.Fatalf("decoding the first page of the list (HTTP %d): %v", resp.StatusCode, err)
	}
	return page.Next != nil && *page.Next != ""
}

func TestAccServersDataSource_filters(t *testing.T) {
	env := newTestEnv(t)
	fleet := env.seedServers(
		serverSpec{name: "west-on"},
		serverSpec{name: "west-off", stopped: true},
		serverSpec{name: "east-on", location: catalog.locations[1]},
		serverSpec{name: "east-off", location: catalog.locations[1], stopped: true},
	)
	westOn, eastOn, eastOff := fleet[0], fleet[2], fleet[3]
	east := []vpsorg.Server{eastOn, eastOff}
	if emu := env.emulator; emu != nil {
		held := env.seedServers(serverSpec{name: "east-held", location: catalog.locations[1]})[0]
		emu.SetStatus(held.ID, "suspended")
		held.Status = "suspended"
		east = append(east, held)
	} else {
		env.notChecked("a suspended server among those filtered (the emulator's SetStatus hook: the API cannot suspend one)")
	}
	expectQuery := func(want url.Values) resource.TestCheckFunc {
		return env.emulatorCheck("the query of the list request (the emulator's request log)", func(emu *emulator.Emulator) error {
			for _, q := range listQueries(emu) {
				if q.Get("status") == want.Get("status") && q.Get("location") == want.Get("location") {
					return nil
				}
			}
			return fmt.Errorf("no list request carried the query %v; saw %v", want.Encode(), listQueries(emu))
		})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.config(`data "vpsorg_servers" "x" { status = "active" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), env.own(serversAre(westOn, eastOn))),
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("id"), knownvalue.StringExact("status=active")),
				},
				Check: expectQuery(url.Values{"status": {"active"}}),
			},
			{
				Config: env.config(fmt.Sprintf(`data "vpsorg_servers" "x" { location = %q }`, catalog.locations[1])),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), env.own(serversAre(east...))),
				},
				Check: expectQuery(url.Values{"location": {catalog.locations[1]}}),
			},
			{
				Config: env.config(fmt.Sprintf(`data "vpsorg_servers" "x" {
  status   = "stopped"
  location = %q
}`, catalog.locations[1])),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), env.own(knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"id":         knownvalue.StringExact(strconv.FormatInt(eastOff.ID, 10)),
							"name":       knownvalue.StringExact(eastOff.Name),
							"hostname":   setByAPI(), // none was sent
							"status":     knownvalue.StringExact("stopped"),
							"ip_address": knownvalue.NotNull(),
							"location":   knownvalue.StringExact(catalog.locations[1]),
							"plan": knownvalue.ObjectExact(map[string]knownvalue.Check{
								"id":     knownvalue.Int64Exact(catalog.plans[0]),
								"name":   catalog.documentedOr(knownvalue.StringExact("Standard VPS")),
								"vcpus":  catalog.documentedOr(knownvalue.Int64Exact(2)),
								"memory": catalog.documentedOr(knownvalue.Int64Exact(4096)), "storage": catalog.documentedOr(knownvalue.Int64Exact(80)),
							}),
							"os": knownvalue.ObjectExact(map[string]knownvalue.Check{
								"id": knownvalue.Int64Exact(catalog.systems[0]), "name": catalog.documentedOr(knownvalue.StringExact("Ubuntu 22.04 LTS")),
							}),
							"created_at": knownvalue.NotNull(),
							"updated_at": knownvalue.NotNull(),
						}),
					}))),
				},
				Check: expectQuery(url.Values{"status": {"stopped"}, "location": {catalog.locations[1]}}),
			},
			{
				// None of this test's servers is suspended in the first location.
				Config: env.config(fmt.Sprintf(`data "vpsorg_servers" "x" {
  status   = "suspended"
  location = %q
}`, catalog.locations[0])),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), env.own(knownvalue.ListSizeExact(0))),
				},
			},
		},
	})
}

// The data source follows the list's pages to the end. In process the page
// size is 2; elsewhere the endpoint's own page size applies, and when the
// whole list fits on one page the record says paging went unchecked.
func TestAccServersDataSource_readsEveryPage(t *testing.T) {
	env := newTestEnv(t)
	if emu := env.emulator; emu != nil {
		emu.SetPageSize(2)
	}
	var specs []serverSpec
	for i := range 5 {
		specs = append(specs, serverSpec{name: fmt.Sprintf("paged-%02d", i)})
	}
	fleet := env.seedServers(specs...)
	if !env.listSpansPages() {
		env.notChecked("reading a second page: this endpoint lists every server on one page")
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`data "vpsorg_servers" "all" {}`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.vpsorg_servers.all", tfjsonpath.New("servers"), env.own(serversAre(fleet...))),
			},
			Check: env.emulatorCheck("how many pages were read (the emulator's request log)", func(emu *emulator.Emulator) error {
				pages := map[string]bool{}
				for _, q := range listQueries(emu) {
					pages[q.Get("page")] = true
				}
				if len(pages) != 3 {
					return fmt.Errorf("read %d distinct pages, want 3 (5 servers, 2 a page): %v", len(pages), pages)
				}
				return nil
			}),
		}},
	})
}

func TestAccServersDataSource_badStatusRejectedAtPlanTime(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.config(`data "vpsorg_servers" "x" { status = "running" }`),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Attribute status value must be one of`),
		}},
	})
	err := env.onEmulator("that a rejected status sent no request (the emulator's request log)", func(emu *emulator.Emulator) error {
		if n := len(emu.Requests()); n != 0 {
			return fmt.Errorf("a rejected status sent %d requests, want none", n)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestAccServerDataSources_seeWhatTheResourceMade(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.config(env.serverConfig("seen", catalog.plans[0], `  hostname = "seen.example.com"`) + fmt.Sprintf(`
data "vpsorg_servers" "west" {
  location   = %[2]q
  depends_on = [vpsorg_server.web]
}

data "vpsorg_server" "by_id" {
  id = vpsorg_server.web.id
}

data "vpsorg_server" "by_name" {
  name       = %[1]q
  depends_on = [vpsorg_server.web]
}
`, env.name("seen"), catalog.locations[0])),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.vpsorg_servers.west", tfjsonpath.New("servers"), env.own(knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(env.name("seen")), "status": knownvalue.StringExact("active")}),
				}))),
				statecheck.CompareValuePairs("data.vpsorg_server.by_id", tfjsonpath.New("id"), "vpsorg_server.web", tfjsonpath.New("id"), compareEqual),
				statecheck.CompareValuePairs("data.vpsorg_server.by_name", tfjsonpath.New("id"), "vpsorg_server.web", tfjsonpath.New("id"), compareEqual),
				statecheck.CompareValuePairs("data.vpsorg_server.by_name", tfjsonpath.New("ipv6_address"), "vpsorg_server.web", tfjsonpath.New("ipv6_address"), compareEqual),
				statecheck.ExpectKnownValue("data.vpsorg_server.by_id", tfjsonpath.New("plan").AtMapKey("bandwidth"), catalog.documentedOr(knownvalue.Int64Exact(2048))),
				statecheck.ExpectKnownValue("data.vpsorg_server.by_id", tfjsonpath.New("backups_enabled"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("data.vpsorg_server.by_id", tfjsonpath.New("hostname"), knownvalue.StringExact("seen.example.com")),
				statecheck.ExpectKnownValue("data.vpsorg_server.by_id", tfjsonpath.New("resource_usage"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"cpu_percent": knownvalue.NotNull(), "memory_used": knownvalue.NotNull(),
					"disk_used": knownvalue.NotNull(), "bandwidth_used": knownvalue.NotNull(),
				})),
			},
		}},
	})
}

func TestAccServerDataSource_lookupByName(t *testing.T) {
	env := newTestEnv(t)
	servers := env.seedServers(
		serverSpec{name: "unique"},
		serverSpec{name: "twin"},
		serverSpec{name: "twin", planID: catalog.plans[1], osID: catalog.systems[1], location: catalog.locations[1]},
	)
	unique, twins := servers[0], []int64{servers[1].ID, servers[2].ID}
	lookup := func(name string) string {
		return env.config(fmt.Sprintf(`data "vpsorg_server" "x" { name = %q }`, env.name(name)))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.config(`data "vpsorg_server" "x" {}`),
				ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured: \[id,name\]`),
			},
			{
				Config:      lookup("nobody"),
				ExpectError: regexp.MustCompile(fmt.Sprintf(`(?s)Server not found.*No server is named %q`, env.name("nobody"))),
			},
			{
				Config:      lookup("twin"),
				ExpectError: regexp.MustCompile(fmt.Sprintf(`2 servers are named %q \(ids %d, %d\)`, env.name("twin"), min(twins[0], twins[1]), max(twins[0], twins[1]))),
			},
			{
				Config: lookup("unique"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_server.x", tfjsonpath.New("id"), knownvalue.StringExact(strconv.FormatInt(unique.ID, 10))),
				},
			},
		},
	})
}

// A server found by name but gone when read is reported on name, the
// argument the user wrote, not on id.
func TestAccServerDataSource_lookupByNameOfAServerGoneSinceListed(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: a server listed, then gone when read")
	env.seedServers(serverSpec{name: "vanishing"})
	emu.InjectFault(emulator.Fault{Method: "GET", Route: emulator.RouteServer, Count: 1, Status: 404})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(fmt.Sprintf(`data "vpsorg_server" "x" {
  name = %q
}`, env.name("vanishing"))),
			// The attribute's line is quoted only when the error is on its path.
			ExpectError: regexp.MustCompile(`(?s)Server not found.*\d+:\s+name\s+= "[^"]*vanishing".*No server with id \d+ exists for this API\s+token.\s+It was listed under the\s+name\s+"[^"]*vanishing",\s+then\s+deleted`),
		}},
	})
}

// The API documents only active, stopped and suspended as filter values,
// and one that checks them answers any other with 400. A transient status
// is filtered on the provider's side: the list is read unfiltered.
func TestAccServersDataSource_transientStatusFilteredByTheProvider(t *testing.T) {
	env := newTestEnv(t, func(o *emulator.Options) { o.StrictFilters = true })
	emu := env.emulator
	if emu == nil {
		t.Skip("needs the emulator: only its SetStatus hook holds a server in a transient status")
	}
	fleet := env.seedServers(serverSpec{name: "steady"}, serverSpec{name: "rebooting"})
	emu.SetStatus(fleet[1].ID, vpsorg.StatusRebooting)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`data "vpsorg_servers" "x" { status = "rebooting" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), env.own(serversAre(fleet[1]))),
				statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("id"), knownvalue.StringExact("status=rebooting")),
			},
			Check: env.emulatorCheck("the queries of the list requests (the emulator's request log)", func(emu *emulator.Emulator) error {
				for _, q := range listQueries(emu) {
					if q.Has("status") {
						return fmt.Errorf("a list request carried status=%s, which the API does not document as a filter", q.Get("status"))
					}
				}
				return nil
			}),
		}},
	})
}

// Another client of the account deletes a server and creates one between
// the data source's page reads (the emulator's ListChurn, pages of two):
// the count stays and a single read skips a server that existed
// throughout. The list holds every such server, or the read fails saying
// the account changed while it was read.
func TestAccServersDataSource_listChangingBetweenPages(t *testing.T) {
	env := newTestEnv(t)
	emu := env.emulator
	if emu == nil {
		t.Skip("needs the emulator: only its ListChurn manner changes the list between page reads")
	}
	emu.SetPageSize(2)
	var specs []serverSpec
	for i := range 5 {
		specs = append(specs, serverSpec{name: fmt.Sprintf("churn-%d", i)})
	}
	env.seedServers(specs...)
	churn := func(reads int) func() {
		return func() { emu.SetManners(emulator.Manners{ListChurn: reads}) }
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				PreConfig:   churn(-1),
				Config:      env.config(`data "vpsorg_servers" "all" {}`),
				ExpectError: regexp.MustCompile(`server list changed while it was read`),
			},
			{
				PreConfig: churn(2),
				Config:    env.config(`data "vpsorg_servers" "all" {}`),
				Check: func(s *terraform.State) error {
					attrs := s.RootModule().Resources["data.vpsorg_servers.all"].Primary.Attributes
					listed := map[string]bool{}
					for i := range len(attrs) {
						if id, ok := attrs[fmt.Sprintf("servers.%d.id", i)]; ok {
							listed[id] = true
						}
					}
					live := emu.Servers("acc")
					for _, srv := range live {
						if id := strconv.FormatInt(srv.ID, 10); !listed[id] {
							return fmt.Errorf("server %s (%s) exists and is not in the list %v", id, srv.Name, listed)
						}
					}
					if len(listed) != len(live) {
						return fmt.Errorf("listed %d servers, the account has %d: %v", len(listed), len(live), listed)
					}
					if left := emu.Manners().ListChurn; left != 0 {
						return fmt.Errorf("the list changed %d times fewer than asked: the test proved less than it says", left)
					}
					return nil
				},
			},
		},
	})
}
