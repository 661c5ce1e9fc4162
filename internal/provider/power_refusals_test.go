package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// What a power action does when the API refuses it (400): each branch of
// powerAction.runFrom, and setPower's refusals of its own, against the
// emulator in process. The server is running unless a case says otherwise;
// before runs first, behind the action's back; seen is the status the
// action believes the server is in.
func TestPowerAction_refusals(t *testing.T) {
	cases := []struct {
		name      string
		action    powerAction
		opts      []func(*emulator.Options)
		before    func(t *testing.T, env *testEnv, emu *emulator.Emulator, id int64)
		seen      string
		wantErr   string // a regexp; "" for success
		wantFinal string
		wantSent  int // how often the action was sent
	}{
		{
			name: "refused, and the look after it fails: the refusal is the error", action: stopAction, seen: vpsorg.StatusActive,
			before: func(_ *testing.T, _ *testEnv, emu *emulator.Emulator, _ int64) {
				emu.InjectFault(emulator.Fault{Method: http.MethodPost, Route: emulator.RouteStop, Status: 400, Body: `{"detail": "Not now."}`})
				emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServer, Count: 1000, Status: 500}) // outlasting the retries
			},
			wantErr: `HTTP 400 Bad Request: Not now\.$`, wantSent: 1,
		},
		{
			name: "a start refused as already running is a success", action: startAction, seen: vpsorg.StatusStopped,
			wantFinal: vpsorg.StatusActive, wantSent: 1,
		},
		{
			name: "refused while another action is under way: waited out, sent again", action: stopAction, seen: vpsorg.StatusActive,
			before: func(t *testing.T, env *testEnv, _ *emulator.Emulator, id int64) {
				if _, err := env.client.RebootServer(context.Background(), id); err != nil {
					t.Fatal(err)
				}
			},
			wantFinal: vpsorg.StatusStopped, wantSent: 2,
		},
		{
			name: "refused for a suspended server: the API's reason stands", action: stopAction, seen: vpsorg.StatusActive,
			before: func(_ *testing.T, _ *testEnv, emu *emulator.Emulator, id int64) {
				emu.SetStatus(id, emulator.StatusSuspended)
			},
			wantErr: `HTTP 400 Bad Request: Server is suspended\.$`, wantSent: 1,
		},
		{
			name: "refused while stopping, for a reboot: fails naming where the server ended", action: rebootAction, seen: vpsorg.StatusActive,
			before: func(t *testing.T, env *testEnv, _ *emulator.Emulator, id int64) {
				if _, err := env.client.StopServer(context.Background(), id); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: `Server is stopping; wait until the action has finished\.; the server is now "stopped", from which it cannot be sent to active`, wantSent: 1,
		},
		{
			// Someone else's start, not yet visible: the reads show stopped
			// while the API refuses, so the action waits for the reads to
			// show the change rather than sending again at once.
			name: "refused although the server reads as ready: waits for the reads to catch up", action: startAction, seen: vpsorg.StatusStopped,
			opts: []func(*emulator.Options){func(o *emulator.Options) { o.ConsistencyLag, o.TransitionTime = 300*time.Millisecond, time.Second }},
			before: func(t *testing.T, env *testEnv, emu *emulator.Emulator, id int64) {
				emu.SetStatus(id, emulator.StatusStopped)
				if _, err := env.client.StartServer(context.Background(), id); err != nil {
					t.Fatal(err)
				}
			},
			wantFinal: vpsorg.StatusActive, wantSent: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, emu, _, id := faultEnv(t, tc.opts...)
			if tc.before != nil {
				tc.before(t, env, emu, id)
			}
			emu.ResetRequests()
			ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
			defer cancel()

			got, err := tc.action.runFrom(ctx, env.client, &vpsorg.Server{ID: id, Status: tc.seen})

			if tc.wantErr != "" {
				if err == nil || !regexpMatch(tc.wantErr, err.Error()) {
					t.Fatalf("error = %v, want one matching %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("error: %v", err)
			} else if got.Status != tc.wantFinal {
				t.Errorf("ended %s, want %s", got.Status, tc.wantFinal)
			}
			if n := env.sent(requests{route: "POST " + routeFor(tc.action)}); n != tc.wantSent {
				t.Errorf("the %s was sent %d times, want %d", tc.action.name, n, tc.wantSent)
			}
		})
	}
}

func routeFor(a powerAction) string {
	return strings.TrimPrefix(map[string]string{"start": routeStart, "stop": routeStop, "reboot": routeReboot}[a.name], "POST ")
}

// setPower refuses, without a request, what no action can do: power a
// suspended server, or one in a status no action starts from.
func TestSetPower_refusesWhatNoActionCanDo(t *testing.T) {
	cases := []struct{ status, want, wantErr string }{
		{vpsorg.StatusSuspended, powerRunning, `server 7 is suspended \(for example for billing\), so it cannot be started`},
		{vpsorg.StatusSuspended, powerStopped, `server 7 is suspended .*, so it cannot be stopped`},
		{"error", powerRunning, `server 7 is in status "error", from which it cannot be started`},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s to %s", tc.status, tc.want), func(t *testing.T) {
			// A client with no endpoint to reach: any request would fail
			// with another error.
			c, err := vpsorg.New(vpsorg.Config{Endpoint: "http://127.0.0.1:1/api/v1/", Token: "unused", RetryMax: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = setPower(context.Background(), c, &vpsorg.Server{ID: 7, Status: tc.status}, tc.want)
			if err == nil || !regexpMatch(tc.wantErr, err.Error()) {
				t.Errorf("error = %v, want one matching %q", err, tc.wantErr)
			}
		})
	}
}

// One apply that starts a stopped server and changes reboot_trigger only
// starts it: the start boots the new configuration, and a reboot on top
// would be a second outage for nothing.
func TestAccServerResource_startAndRebootInOneApplyOnlyStarts(t *testing.T) {
	env := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: env.config(env.serverConfig("woken", catalog.plans[0], "  power_state    = \"stopped\"\n  reboot_trigger = \"a\""))},
			{
				Config: env.config(env.serverConfig("woken", catalog.plans[0], "  power_state    = \"running\"\n  reboot_trigger = \"b\"")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("reboot_trigger"), knownvalue.StringExact("b")),
				},
				Check: resource.ComposeTestCheckFunc(env.expectStatus("woken", "active"),
					env.expectSent(map[string]int{routeStart: 1, routeReboot: 0})),
			},
		},
	})
}

func regexpMatch(pattern, s string) bool { return regexpMust(pattern).MatchString(s) }

func regexpMust(pattern string) *regexp.Regexp { return regexp.MustCompile(pattern) }
