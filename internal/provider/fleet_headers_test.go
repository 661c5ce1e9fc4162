package provider

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Two APIs that are stricter or more talkative than the documented one:
// one that says in every answer how much of its rate limit is left, and
// one that refuses list filter values the documentation does not name.

// Twenty servers under a limit of 10 requests/s (bursts of 10) whose
// answers carry the IETF draft's RateLimit and RateLimit-Policy fields:
// apply, the plan after it and destroy, each command in a provider of its
// own, and not one request refused.
func TestAccServerResource_fleetUnderRateLimitHeadersIsNeverRefused(t *testing.T) {
	env := newTestEnv(t, func(o *emulator.Options) { o.RateLimitHeaders = emulator.RateLimitHeadersDraft })
	emu := env.requireEmulator("needs the emulator's SetRateLimit hook and its rate-limit headers")
	emu.SetRateLimit(10, 10)
	config := env.fleetConfig("fleet", "headed", 20, 1, 5, "us-west")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config, Check: expectServers(env, 20)},
			{Config: config, PlanOnly: true},
		},
	})
	refused, deletes := 0, 0
	for _, r := range emu.Requests() {
		switch {
		case r.Status == http.StatusTooManyRequests:
			refused++
		case r.Method == http.MethodDelete && r.Status == http.StatusNoContent:
			deletes++
		}
	}
	t.Logf("%d requests, %d answered 429", len(emu.Requests()), refused)
	if refused != 0 {
		t.Errorf("%d requests were refused with 429; the answers said how much of the limit was left", refused)
	}
	if deletes != 20 {
		t.Errorf("%d deletes for 20 servers; the destroy was not seen under the limit", deletes)
	}
}

// Thirty servers applied against an API that answers 400 to a list
// filtered by an undocumented status: no request is refused, and the apply
// costs at most two GETs (lists included) per server.
func TestAccServerResource_applyWithinTheDocumentedFilters(t *testing.T) {
	env := newTestEnv(t, func(o *emulator.Options) { o.StrictFilters = true })
	emu := env.requireEmulator("needs the emulator's strict filters and its request log")
	const n = 30
	applied := func(*terraform.State) error {
		gets := 0
		for _, r := range emu.Requests() {
			if r.Status == http.StatusBadRequest {
				return fmt.Errorf("refused as invalid: %s %s?%s", r.Method, r.Path, r.RawQuery)
			}
			if r.Method == http.MethodGet {
				gets++
			}
		}
		t.Logf("the apply of %d servers made %d GETs", n, gets)
		if gets > 2*n {
			return fmt.Errorf("the apply of %d servers made %d GETs (%.1f each); want at most 2 each", n, gets, float64(gets)/n)
		}
		return nil
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.fleetConfig("strict", "strict", n, 1, 5, "us-west"),
			Check:  resource.ComposeTestCheckFunc(expectServers(env, n), applied),
		}},
	})
}

// Twelve servers created stopped: each is read back once, at the end of
// its stop's wait, and its state holds what only a GET shows (a list
// omits ipv6_address and backups_enabled); its wait for provisioning ends
// on the shared list.
func TestAccServerResource_aFleetCreatedStoppedIsReadBackOncePerServer(t *testing.T) {
	env := newTestEnv(t, func(o *emulator.Options) {
		o.ProvisioningTime, o.TransitionTime = 1500*time.Millisecond, 500*time.Millisecond
	})
	env.requireEmulator("needs the emulator's request log")
	const n = 12
	readBacks := func(*terraform.State) error {
		single := env.sent(requests{route: http.MethodGet + " " + emulator.RouteServer})
		t.Logf("the apply of %d stopped servers made %d GETs of single servers and %d lists", n, single, env.sent(requests{route: http.MethodGet + " " + emulator.RouteServers}))
		if single > n+1 {
			return fmt.Errorf("%d GETs of single servers for %d servers created stopped; want one read-back each, and at most one more", single, n)
		}
		return nil
	}
	var checks []resource.TestCheckFunc
	for i := range n {
		name := fmt.Sprintf("vpsorg_server.stopped.%d", i)
		checks = append(checks,
			resource.TestCheckResourceAttr(name, "status", "stopped"),
			resource.TestCheckResourceAttr(name, "backups_enabled", "true"),
			resource.TestCheckResourceAttrSet(name, "ipv6_address"))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: env.config(fmt.Sprintf(`
resource "vpsorg_server" "stopped" {
  count           = %d
  name            = "%sstopped-${count.index}"
  plan_id         = %d
  os_id           = %d
  location        = %q
  backups_enabled = true
  power_state     = "stopped"
}
`, n, env.prefix, catalog.plans[0], catalog.systems[0], catalog.locations[0])),
			Check: resource.ComposeTestCheckFunc(append(checks, readBacks)...),
		}},
	})
}
