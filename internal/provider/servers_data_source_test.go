package provider

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

var compareEqual = compare.ValuesSame()

// seedFleet adds servers out of band: (name, status, location) triples.
func seedFleet(t *testing.T, emu *emulator.Emulator, fleet [][3]string) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, s := range fleet {
		srv, err := emu.AddServer("acc", emulator.ServerSpec{Name: s[0], Status: s[1], Location: s[2], PlanID: 1, OSID: 5})
		if err != nil {
			t.Fatal(err)
		}
		ids[s[0]] = srv.ID
	}
	return ids
}

// idsExactly checks a servers list holds exactly these ids, in this order.
func idsExactly(ids ...int64) knownvalue.Check {
	checks := make([]knownvalue.Check, len(ids))
	for i, id := range ids {
		checks[i] = knownvalue.ObjectPartial(map[string]knownvalue.Check{"id": knownvalue.StringExact(strconv.FormatInt(id, 10))})
	}
	return knownvalue.ListExact(checks)
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

func TestAccServersDataSource_filters(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator()
	ids := seedFleet(t, emu, [][3]string{
		{"west-on", "active", "us-west"},
		{"west-off", "stopped", "us-west"},
		{"east-on", "active", "us-east"},
		{"east-off", "stopped", "us-east"},
		{"east-held", "suspended", "us-east"},
	})
	expectQuery := func(want url.Values) resource.TestCheckFunc {
		return func(*terraform.State) error {
			for _, q := range listQueries(emu) {
				if q.Get("status") == want.Get("status") && q.Get("location") == want.Get("location") {
					return nil
				}
			}
			return fmt.Errorf("no list request carried the query %v; saw %v", want.Encode(), listQueries(emu))
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.config(`data "vpsorg_servers" "x" { status = "active" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), idsExactly(ids["west-on"], ids["east-on"])),
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("id"), knownvalue.StringExact("status=active")),
				},
				Check: expectQuery(url.Values{"status": {"active"}}),
			},
			{
				Config: env.config(`data "vpsorg_servers" "x" { location = "us-east" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), idsExactly(ids["east-on"], ids["east-off"], ids["east-held"])),
				},
				Check: expectQuery(url.Values{"location": {"us-east"}}),
			},
			{
				Config: env.config(`data "vpsorg_servers" "x" {
  status   = "stopped"
  location = "us-east"
}`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), idsExactly(ids["east-off"])),
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers").AtSliceIndex(0), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"id":         knownvalue.StringExact(strconv.FormatInt(ids["east-off"], 10)),
						"name":       knownvalue.StringExact("east-off"),
						"hostname":   knownvalue.Null(),
						"status":     knownvalue.StringExact("stopped"),
						"ip_address": knownvalue.NotNull(),
						"location":   knownvalue.StringExact("us-east"),
						"plan": knownvalue.ObjectExact(map[string]knownvalue.Check{
							"id": knownvalue.Int64Exact(1), "name": knownvalue.StringExact("Standard VPS"),
							"vcpus": knownvalue.Int64Exact(2), "memory": knownvalue.Int64Exact(4096), "storage": knownvalue.Int64Exact(80),
						}),
						"os":         knownvalue.ObjectExact(map[string]knownvalue.Check{"id": knownvalue.Int64Exact(5), "name": knownvalue.StringExact("Ubuntu 22.04 LTS")}),
						"created_at": knownvalue.NotNull(),
						"updated_at": knownvalue.NotNull(),
					})),
				},
				Check: expectQuery(url.Values{"status": {"stopped"}, "location": {"us-east"}}),
			},
			{
				Config: env.config(`data "vpsorg_servers" "x" { location = "ap-south" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_servers.x", tfjsonpath.New("servers"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}

func TestAccServersDataSource_readsEveryPage(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator()
	emu.SetPageSize(3)
	var fleet [][3]string
	for i := range 10 {
		fleet = append(fleet, [3]string{fmt.Sprintf("paged-%02d", i), "active", "us-west"})
	}
	ids := seedFleet(t, emu, fleet)
	var want []int64
	for i := range 10 {
		want = append(want, ids[fmt.Sprintf("paged-%02d", i)])
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`
data "vpsorg_servers" "all" {}

output "names" {
  value = [for s in data.vpsorg_servers.all.servers : s.name]
}
`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.vpsorg_servers.all", tfjsonpath.New("servers"), idsExactly(want...)),
				statecheck.ExpectKnownOutputValue("names", knownvalue.ListExact(namesFor(fleet))),
			},
		}},
	})
	pages := map[string]bool{}
	for _, q := range listQueries(emu) {
		pages[q.Get("page")] = true
	}
	if len(pages) != 4 {
		t.Errorf("read %d distinct pages, want 4 (10 servers, 3 a page): %v", len(pages), pages)
	}
}

func namesFor(fleet [][3]string) []knownvalue.Check {
	out := make([]knownvalue.Check, len(fleet))
	for i, s := range fleet {
		out[i] = knownvalue.StringExact(s[0])
	}
	return out
}

func TestAccServersDataSource_badStatusRejectedAtPlanTime(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.config(`data "vpsorg_servers" "x" { status = "running" }`),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Attribute status value must be one of`),
		}},
	})
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("a rejected status sent %d requests, want none", n)
	}
}

func TestAccServerDataSources_seeWhatTheResourceMade(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.config(serverConfig("seen", 1, `  hostname = "seen.example.com"`) + `
data "vpsorg_servers" "west" {
  location   = "us-west"
  depends_on = [vpsorg_server.web]
}

data "vpsorg_server" "by_id" {
  id = vpsorg_server.web.id
}

data "vpsorg_server" "by_name" {
  name       = "seen"
  depends_on = [vpsorg_server.web]
}
`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.vpsorg_servers.west", tfjsonpath.New("servers"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("seen"), "status": knownvalue.StringExact("active")}),
				})),
				statecheck.CompareValuePairs("data.vpsorg_server.by_id", tfjsonpath.New("id"), "vpsorg_server.web", tfjsonpath.New("id"), compareEqual),
				statecheck.CompareValuePairs("data.vpsorg_server.by_name", tfjsonpath.New("id"), "vpsorg_server.web", tfjsonpath.New("id"), compareEqual),
				statecheck.CompareValuePairs("data.vpsorg_server.by_name", tfjsonpath.New("ipv6_address"), "vpsorg_server.web", tfjsonpath.New("ipv6_address"), compareEqual),
				statecheck.ExpectKnownValue("data.vpsorg_server.by_id", tfjsonpath.New("plan").AtMapKey("bandwidth"), knownvalue.Int64Exact(2048)),
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
	emu := env.requireEmulator()
	ids := seedFleet(t, emu, [][3]string{{"unique", "active", "us-west"}, {"twin", "active", "us-west"}})
	twin2, err := emu.AddServer("acc", emulator.ServerSpec{Name: "twin", Status: "stopped", Location: "us-east", PlanID: 2, OSID: 3})
	if err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.config(`data "vpsorg_server" "x" {}`),
				ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured: \[id,name\]`),
			},
			{
				Config:      env.config(`data "vpsorg_server" "x" { name = "nobody" }`),
				ExpectError: regexp.MustCompile(`no server is named "nobody"`),
			},
			{
				Config:      env.config(`data "vpsorg_server" "x" { name = "twin" }`),
				ExpectError: regexp.MustCompile(fmt.Sprintf(`2 servers are named "twin" \(ids %d, %d\)`, ids["twin"], twin2.ID)),
			},
			{
				Config: env.config(`data "vpsorg_server" "x" { name = "unique" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.vpsorg_server.x", tfjsonpath.New("id"), knownvalue.StringExact(strconv.FormatInt(ids["unique"], 10))),
				},
			},
		},
	})
}

// A server found by name but gone when read is reported on name, the
// argument the user wrote, not on id.
func TestAccServerDataSource_lookupByNameOfAServerGoneSinceListed(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator()
	seedFleet(t, emu, [][3]string{{"vanishing", "active", "us-west"}})
	emu.InjectFault(emulator.Fault{Method: "GET", Route: emulator.RouteServer, Count: 1, Status: 404})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`data "vpsorg_server" "x" {
  name = "vanishing"
}`),
			// The attribute's line is quoted only when the error is on its path.
			ExpectError: regexp.MustCompile(`(?s)Server not found.*\d+:\s+name\s+= "vanishing".*named "vanishing" \(id \d+\) was listed, but no longer exists`),
		}},
	})
}
