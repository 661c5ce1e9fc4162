package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Each scenario here is a fault a real cloud produces, injected into the
// emulator, and what the provider must do about it. The guide "Reliability
// and security" (templates/guides/reliability.md.tmpl) lists them.

// expectServers checks the emulator holds exactly n servers for the test
// account, each with a distinct name, and every one is in state.
func expectServers(env *testEnv, n int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		servers := env.emulator.Servers("acc")
		if len(servers) != n {
			return fmt.Errorf("the emulator holds %d servers, want %d: %+v", len(servers), n, servers)
		}
		inState := map[string]bool{}
		for _, rs := range s.RootModule().Resources {
			if rs.Type == "vpsorg_server" {
				inState[rs.Primary.ID] = true
			}
		}
		names := map[string]bool{}
		for _, srv := range servers {
			if names[srv.Name] {
				return fmt.Errorf("duplicate server named %q", srv.Name)
			}
			names[srv.Name] = true
			if !inState[fmt.Sprint(srv.ID)] {
				return fmt.Errorf("server %d (%s) exists but is not in state", srv.ID, srv.Name)
			}
		}
		return nil
	}
}

// The create is processed, then its answer is lost. The POST is
// never sent again; the provider adopts the server the request made.
func TestAccServerResource_lostCreateAnswerAdoptsTheServer(t *testing.T) {
	faults := map[string]emulator.Fault{
		"500 after acting":             {Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 500, AfterAction: true},
		"connection dropped after act": {Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, AfterAction: true, DropConnection: true},
	}
	skipOnEndpointFromEnv(t, "needs the emulator's InjectFault hook: the API cannot be made to lose a create's answer")
	for name, fault := range faults {
		for _, honour := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, idempotency key honoured=%v", name, honour), func(t *testing.T) {
				env := newTestEnv(t, func(o *emulator.Options) { o.HonourIdempotencyKey = honour })
				emu := env.emulator
				emu.InjectFault(fault)
				resource.ParallelTest(t, resource.TestCase{
					ProtoV6ProviderFactories: env.factories(),
					CheckDestroy:             env.checkDestroyed,
					Steps: []resource.TestStep{{
						Config: env.config(env.serverConfig("lost-answer", catalog.plans[0], "")),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
						},
						Check: resource.ComposeTestCheckFunc(expectServers(env, 1), func(*terraform.State) error {
							if n := env.sent(requests{route: routeCreate}); n != 1 {
								return fmt.Errorf("the create was sent %d times, want once", n)
							}
							return nil
						}),
					}},
				})
			})
		}
	}
}

func TestPickCreated(t *testing.T) {
	began := time.Date(2026, 1, 2, 10, 0, 0, 500_000_000, time.UTC)
	req := vpsorg.CreateServerRequest{Name: "web", PlanID: 1, OSID: 5, Location: "us-west"}
	srv := func(id int64, name, created string) vpsorg.Server {
		return vpsorg.Server{ID: id, Name: name, Location: "us-west", Plan: vpsorg.Plan{ID: 1}, OS: vpsorg.OS{ID: 5}, CreatedAt: created}
	}
	cases := []struct {
		name    string
		servers []vpsorg.Server
		want    int64
		wantErr string
	}{
		{"the one made, created in the same second", []vpsorg.Server{srv(7, "web", "2026-01-02T10:00:00Z")}, 7, ""},
		{"older same-name server is someone else's", []vpsorg.Server{srv(3, "web", "2025-12-01T08:00:00Z"), srv(8, "web", "2026-01-02T10:00:01Z")}, 8, ""},
		{"other names are ignored", []vpsorg.Server{srv(4, "db", "2026-01-02T10:00:01Z"), srv(9, "web", "2026-01-02T10:00:02Z")}, 9, ""},
		{"none made", []vpsorg.Server{srv(3, "web", "2025-12-01T08:00:00Z")}, 0, `no server named "web" was created since the request began`},
		{"a server this process deleted, still listed, is not the one made", []vpsorg.Server{srv(12, "web", "2026-01-02T10:00:00Z"), srv(13, "web", "2026-01-02T10:00:01Z")}, 13, ""},
		{"a same-name server made seconds before the request is older", []vpsorg.Server{srv(14, "web", "2026-01-02T09:59:57Z"), srv(15, "web", "2026-01-02T10:00:00Z")}, 15, ""},
		{"two made: cannot tell", []vpsorg.Server{srv(10, "web", "2026-01-02T10:00:01Z"), srv(11, "web", "2026-01-02T10:00:02Z")}, 0,
			`2 servers named "web" .*cannot be told:\n  - server 10, status "", created 2026-01-02T10:00:01Z\n  - server 11, `},
		{"two made, one the answer to another create of this process (count = 2 with one name)", []vpsorg.Server{srv(16, "web", "2026-01-02T10:00:00Z"), srv(17, "web", "2026-01-02T10:00:00Z")}, 17, ""},
		{"a server made well after the answer was lost is not the one made (a later replacement)", []vpsorg.Server{srv(18, "web", "2026-01-02T10:05:00Z")}, 0, `no server named "web" was created since the request began`},
		{"one written shortly after the answer was lost still is", []vpsorg.Server{srv(19, "web", "2026-01-02T10:00:40Z")}, 19, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			accounted := func(id int64) bool { return id == 12 || id == 16 } // deleted; created by another create
			ended := began.Add(10 * time.Second)                             // the request timed out, or its connection dropped
			got, err := pickCreated(tc.servers, req, began, ended, accounted)
			if tc.wantErr != "" {
				if err == nil || !regexp.MustCompile(tc.wantErr).MatchString(err.Error()) {
					t.Fatalf("err = %v, want match %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.ID != tc.want {
				t.Fatalf("picked %+v, %v; want id %d", got, err, tc.want)
			}
		})
	}
}

// A 429 with Retry-After on the create is waited out, then the
// create is sent again (the API provably did not act): exactly one server.
func TestAccServerResource_rateLimitedCreateWaitsRetryAfter(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to answer a create 429 with Retry-After")
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 1, Status: 429, RetryAfter: "2"})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.config(env.serverConfig("patient", catalog.plans[0], "")),
			Check: resource.ComposeTestCheckFunc(expectServers(env, 1), func(*terraform.State) error {
				var posts []time.Time
				for _, r := range emu.Requests() {
					if r.Method == http.MethodPost && r.Route == emulator.RouteServers {
						posts = append(posts, r.Time)
					}
				}
				if len(posts) != 2 {
					return fmt.Errorf("saw %d creates, want 2 (the refused one and the retry)", len(posts))
				}
				if gap := posts[1].Sub(posts[0]); gap < 2*time.Second {
					return fmt.Errorf("retried after %v, before the Retry-After of 2s", gap)
				}
				return nil
			}),
		}},
	})
}

// A Retry-After of an hour does not hang the apply: the retry
// cannot start before the create timeout, so it fails at once and cleanly.
func TestAccServerResource_hourLongRetryAfterFailsCleanly(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to answer 429 with a Retry-After of an hour")
	emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteServers, Count: 100, Status: 429, RetryAfter: "3600"})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config:      env.config(env.serverConfig("impatient", catalog.plans[0], `  timeouts { create = "30s" }`)),
			ExpectError: regexp.MustCompile(`(?s)Unable to create server.*HTTP 429 Too Many Requests.*rate-limiting`),
		}},
	})
	if n := env.sent(requests{route: routeCreate}); n != 1 {
		t.Errorf("saw %d creates; the first 429 should have ended it", n)
	}
	if n := len(emu.Servers("acc")); n != 0 {
		t.Errorf("the emulator holds %d servers, want none", n)
	}
}

// 502/503 while polling are retried, and 404s right
// after the create are tolerated; the apply succeeds.
func TestAccServerResource_transientPollFailuresAreRidden(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to answer polls 404, 502 and 503")
	emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 3, Status: 404})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: env.config(env.serverConfig("eventual", catalog.plans[0], "")),
				Check:  expectServers(env, 1),
			},
			{
				PreConfig: func() {
					emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 2, Status: 502})
					emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 2, Status: 503, RetryAfter: "1"})
				},
				Config: env.config(env.serverConfig("eventual", catalog.plans[0], `  power_state = "stopped"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
				},
			},
		},
	})
	met := [3]int{env.sent(requests{status: 404}), env.sent(requests{status: 502}), env.sent(requests{status: 503})}
	if met[0] < 3 || met[1] != 2 || met[2] != 2 {
		t.Errorf("the faults were not all met (404, 502, 503 answered %v times); the test proved nothing", met)
	}
}

// A refused token is not retried and the error, reported once when the
// provider is configured, names the setting to fix and where its value came
// from; 402 and 400 are not retried either.
func TestAccServerResource_clientErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`provider "vpsorg" {
  endpoint  = %q
  api_token = "not-the-token"
}
%s`, env.endpoint, env.serverConfig("refused", catalog.plans[0], "")),
			ExpectError: regexp.MustCompile(`(?s)VPS.org API token refused.*GET /api/v1/servers/\s+with HTTP 401.*` +
				`token came from the api_token argument of the provider block.*VPSORG_API_TOKEN`),
		}},
	})
	err := env.onEmulator("that the 401 was not retried (the emulator's request log)", func(emu *emulator.Emulator) error {
		if n := len(emu.Requests()); n != 1 {
			return fmt.Errorf("a 401 led to %d requests, want 1", n)
		}
		emu.ResetRequests()
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	var steps []resource.TestStep
	if emu := env.emulator; emu != nil {
		emu.SetCredits("acc", 0)
		steps = append(steps, resource.TestStep{
			Config:      env.config(env.serverConfig("broke", catalog.plans[0], "")),
			ExpectError: regexp.MustCompile(`HTTP 402`),
		})
	} else {
		env.notChecked("a create refused with 402 (the emulator's SetCredits hook)")
	}
	steps = append(steps, resource.TestStep{
		PreConfig: func() {
			if emu := env.emulator; emu != nil {
				emu.SetCredits("acc", 10)
			}
		},
		Config:      env.config(env.serverConfig("broke", unknownPlanID, "")),
		ExpectError: regexp.MustCompile(`HTTP 400`),
	})
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: env.factories(), Steps: steps})
	err = env.onEmulator("that the refused creates were not retried (the emulator's request log)", func(emu *emulator.Emulator) error {
		if n := env.sent(requests{route: routeCreate}); n != 2 {
			return fmt.Errorf("two refused creates (402, 400) led to %d requests, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// Thirty servers under a rate limit that refuses a share of
// requests: all created once, all destroyed.
func TestAccServerResource_fleetUnderRateLimit(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetRateLimit hook: a rate limit that is sure to refuse a share of the requests")
	emu.SetRateLimit(40, 20)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.fleetConfig("fleet", "fleet", 30, catalog.plans[0], catalog.systems[0], catalog.locations[1]),
			Check:  expectServers(env, 30),
		}},
	})
	limited := env.sent(requests{status: http.StatusTooManyRequests})
	t.Logf("%d of %d requests were answered 429", limited, env.sent(requests{}))
	if limited == 0 {
		t.Error("the rate limit never refused a request; the test proved nothing")
	}
	if n := env.sent(requests{route: routeCreate}); n < 30 {
		t.Errorf("saw %d creates, want at least 30", n)
	}
}

// Twenty servers under a limit of 2 requests/s: apply, the plan after it
// and destroy all succeed, because a 429 is never a reason to give up before
// the operation's deadline. Time is not asserted; make bench-ratelimit
// measures it.
func TestAccServerResource_fleetUnderTwoRequestsPerSecond(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetRateLimit hook: a limit of 2 requests/s")
	emu.SetRateLimit(2, 2)
	config := env.fleetConfig("fleet", "slow", 20, catalog.plans[0], catalog.systems[0], catalog.locations[0])
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config, Check: expectServers(env, 20)},
			{Config: config, PlanOnly: true}, // a refresh of twenty, under the limit
		},
	})
	limited, created := env.sent(requests{status: http.StatusTooManyRequests}), env.sent(requests{route: routeCreate, status: http.StatusCreated})
	t.Logf("%d of %d requests were answered 429", limited, env.sent(requests{}))
	if created != 20 {
		t.Errorf("%d creates were carried out for 20 servers", created)
	}
}
