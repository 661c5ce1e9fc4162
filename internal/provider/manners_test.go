package provider

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Real clouds' manners (the emulator's Options.Manners), and what the
// provider must do about each: nothing lost, nothing made twice, the token
// kept. The guide "Reliability and security" lists them.

// Every second answer that shows a server lacks plan, os and location: the
// client retries it as it would a 502, so a refresh plans no replacement.
func TestAccServerResource_partialAnswersOnRefreshPlanNoReplacement(t *testing.T) {
	env := newTestEnv(t, func(o *emulator.Options) { o.Manners.PartialEvery = 2 })
	env.requireEmulator("needs the emulator's PartialEvery manner: the API cannot be made to answer partial objects")
	config := env.config(env.serverConfig("partial", 1, ""))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("plan_id"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("location"), knownvalue.StringExact("us-west")),
				},
			},
			// Each plan refreshes through partial answers.
			{Config: config, PlanOnly: true},
			{Config: config, PlanOnly: true},
		},
	})
}

// Four creates, two of whose answers are lost, on an API that shows new
// servers 3 s late and whose clock is 20 s behind ours: exactly four
// servers, all in state, the first apply green and the plan after it empty.
func TestAccServerResource_lostCreatesUnderCreateLagAndClockOffset(t *testing.T) {
	env := newTestEnv(t, func(o *emulator.Options) {
		o.Manners.CreateLag = 3 * time.Second
		o.Manners.ClockOffset = -20 * time.Second
	})
	emu := env.requireEmulator("needs the emulator's InjectFault hook and CreateLag and ClockOffset manners")
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 2, Status: 500, AfterAction: true})
	config := env.fleetConfig("web", "late", 4, 1, 5, "us-east")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config, Check: resource.ComposeTestCheckFunc(expectServers(env, 4), expectCount(env, routeCreate, 4))},
			{Config: config, PlanOnly: true},
		},
	})
}

// Every request is redirected to another port of the same host: the client
// follows none, so the other port never sees the token, and the error names
// the status and the Location.
func TestAccServerResource_redirectToAnotherPortNeverSeesTheToken(t *testing.T) {
	var reached, withToken atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") != "" {
			withToken.Add(1)
		}
		http.Error(w, `{"detail": "caught"}`, http.StatusTeapot)
	}))
	t.Cleanup(other.Close)
	env := newTestEnv(t, func(o *emulator.Options) { o.Manners.RedirectTo = other.URL })
	env.requireEmulator("needs the emulator's RedirectTo manner")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.config(env.serverConfig("redirected", 1, "")),
			ExpectError: regexp.MustCompile(`(?s)HTTP 307.*redirect to\s+` + regexp.QuoteMeta(other.URL) + `/api/v1/servers/`),
		}},
	})
	if n := withToken.Load(); n != 0 {
		t.Errorf("the other port saw the token %d times", n)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other port was reached %d times; no redirect should be followed", n)
	}
}

// A refresh against a wrong base path (/api/v2/, where everything is 404)
// fails naming the endpoint and keeps every server in state: back on the
// right path, the plan is empty.
func TestAccServerResource_refreshOnAWrongBasePathKeepsEveryServer(t *testing.T) {
	env := newTestEnv(t)
	env.requireEmulator("needs the emulator in process: its /api/v2/ path answers 404")
	right := env.fleetConfig("web", "path", 2, 2, 3, "us-west")
	wrong := strings.Replace(right, "/api/v1/", "/api/v2/", 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: right, Check: expectServers(env, 2)},
			// A provider that checks its endpoint when configured stops
			// here too, before any refresh; either way nothing is dropped.
			{Config: wrong, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)(does not prove the server gone|Wrong VPS.org API endpoint).*/api/v2/`)},
			{Config: right, PlanOnly: true},
		},
	})
}

// A proxy in front of the API answers one server's GET with its own HTML
// 404: the refresh fails naming the endpoint and keeps the server; once
// the proxy behaves, the plan is empty.
func TestAccServerResource_aProxysHTML404KeepsTheServer(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to answer a proxy's page")
	config := env.config(env.serverConfig("proxied", 1, ""))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1000, Status: 404,
						Body: "<html><body><h1>404 Not Found</h1>nginx</body></html>"})
				},
				Config:      config,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Unable to read server.*body is not the API's JSON.*endpoint`),
			},
			{PreConfig: emu.ClearFaults, Config: config, PlanOnly: true},
		},
	})
}

// The create succeeds, the stop that power_state = "stopped" asks for is
// refused: the healthy server is saved as it is (status active) with a
// warning, not tainted, so the next plan is an update (the stop), never a
// replacement.
func TestAccServerResource_failedStopAfterCreateDoesNotTaint(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to refuse a stop")
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteStop, Count: 1, Status: http.StatusForbidden})
	config := env.config(env.serverConfig("unstoppable", 1, `  power_state = "stopped"`))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:             config,
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
				},
				Check: expectServers(env, 1),
			},
		},
	})
}

// A create whose answer is lost, on an API that shows the new server only
// after the search for it has given up: the apply fails saying what to
// check and how to import, and keeps a placeholder; the next apply fails
// the same way instead of creating a second server; once the API lists the
// server, a refresh adopts it. One create is sent in all.
func TestAccServerResource_aLostCreateThatCannotBeSettledIsNeverMadeTwice(t *testing.T) {
	const lag = 15 * time.Second // past the search's 10 s minimum, with a 5 s create timeout
	env := newTestEnv(t, func(o *emulator.Options) { o.Manners.CreateLag = lag })
	emu := env.requireEmulator("needs the emulator's InjectFault hook and CreateLag manner")
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true})
	config := env.config(env.serverConfig("unsettled", 1, `  timeouts { create = "5s" }`))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Unable to tell whether the create made a server.*terraform import ADDRESS ID`),
			},
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)A create that may have made a server is unresolved.*terraform state rm`),
			},
			{
				PreConfig: func() {
					if servers := emu.Servers("acc"); len(servers) == 1 {
						time.Sleep(time.Until(servers[0].CreatedAt.Add(lag + time.Second)))
					}
				},
				RefreshState: true,
				// The failed apply tainted the resource: the plan after the
				// adoption replaces it, unless the user runs terraform
				// untaint, as the refresh's warning says.
				ExpectNonEmptyPlan: true,
				Check:              resource.ComposeTestCheckFunc(expectServers(env, 1), expectCount(env, routeCreate, 1)),
			},
		},
	})
}

// The API starts reporting a status no document lists: a refresh keeps the
// server, its power state and every setting, and plans nothing.
func TestAccServerResource_anUnknownStatusOnRefreshPlansNothing(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetManners hook: the API cannot be made to report an unknown status")
	config := env.config(env.serverConfig("odd-status", 1, ""))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig:    func() { emu.SetManners(emulator.Manners{UnknownStatus: "maintenance"}) },
				RefreshState: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("vpsorg_server.web", "status", "maintenance"),
					resource.TestCheckResourceAttr("vpsorg_server.web", "power_state", "running"),
					resource.TestCheckResourceAttr("vpsorg_server.web", "plan_id", "1"),
				),
			},
			{Config: config, PlanOnly: true},
			{PreConfig: func() { emu.SetManners(emulator.Manners{}) }, Config: config, PlanOnly: true},
		},
	})
}

// A create whose answer is lost while the list fails too: the search
// cannot decide, so the server is kept as a placeholder rather than
// forgotten; once the list answers, a refresh adopts the one server made.
func TestAccServerResource_aLostCreateWhoseSearchCannotListKeepsAPlaceholder(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to lose a create's answer and fail its list")
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true})
	// The list starts failing when the create arrives, not before: a
	// provider that lists once when it is configured must get that far.
	// FailProvisioning's matcher is the emulator's hook at that moment.
	emu.FailProvisioning(func(string) bool {
		emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Count: 1000, Status: 500})
		return false
	})
	config := env.config(env.serverConfig("unlisted", 1, `  timeouts { create = "5s" }`))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Unable to tell whether the create made a server.*listing servers failed too.*HTTP 500`),
			},
			{
				PreConfig:          emu.ClearFaults,
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // tainted by the failed apply, as the refresh's warning says
				Check:              resource.ComposeTestCheckFunc(expectServers(env, 1), expectCount(env, routeCreate, 1)),
			},
		},
	})
}

// Pages are read under the data source's read timeout: an API that stalls
// fails the read when it ends, not never. The stall would stall a provider
// that checks its settings when configured too: that check is skipped
// (VPSORG_SKIP_CREDENTIALS_VALIDATION, where the provider has it), which
// makes the test sequential.
func TestAccServersDataSource_readTimeoutBoundsThePages(t *testing.T) {
	t.Setenv("VPSORG_SKIP_CREDENTIALS_VALIDATION", "true")
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetLatency hook: the API cannot be made to stall")
	emu.SetLatency(time.Minute)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.config(`
data "vpsorg_servers" "all" {
  timeouts { read = "1s" }
}
`),
			ExpectError: regexp.MustCompile(`(?s)Unable to list servers.*(deadline|timed out|context)`),
		}},
	})
}
