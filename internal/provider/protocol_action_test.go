package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// powerActions are the three actions: their type, the verb of their
// messages, the route they POST to and the statuses they lead through.
var powerActions = []struct {
	action, verb, route string
	from, transient, to string
}{
	{startActionType, "start", emulator.RouteStart, vpsorg.StatusStopped, vpsorg.StatusStarting, vpsorg.StatusActive},
	{stopActionType, "stop", emulator.RouteStop, vpsorg.StatusActive, vpsorg.StatusStopping, vpsorg.StatusStopped},
	{rebootActionType, "reboot", emulator.RouteReboot, vpsorg.StatusActive, vpsorg.StatusRebooting, vpsorg.StatusActive},
}

// actionConfigCase is an action's config and the error it gets, if any.
type actionConfigCase struct {
	name   string
	config map[string]any
	at     *tftypes.AttributePath // of the error; nil for an error on none
	want   string                 // the error; "" for none
}

// Terraform validates an action's config, then plans it, before anything
// is invoked: an id that is not a server id fails on server_id, naming what
// is allowed; one not known until apply (a server still to be created)
// passes. Neither sends a request.
func TestProtocolAction_validateAndPlan(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	for _, a := range powerActions {
		for _, tc := range []actionConfigCase{
			{name: "id", config: map[string]any{"server_id": "12345"}},
			{name: "id known at apply", config: map[string]any{"server_id": unknown}},
			{name: "id and timeout", config: map[string]any{"server_id": "12345", "timeouts": map[string]any{"invoke": "90s"}}},
			{name: "zero", config: map[string]any{"server_id": "0"}, at: attrPath("server_id"), want: `must be a server id: a positive integer such as "12345", got: 0`},
			{name: "negative", config: map[string]any{"server_id": "-7"}, at: attrPath("server_id"), want: `must be a server id`},
			{name: "name", config: map[string]any{"server_id": "web"}, at: attrPath("server_id"), want: `must be a server id`},
			{name: "fraction", config: map[string]any{"server_id": "12.5"}, at: attrPath("server_id"), want: `must be a server id`},
			{name: "padded", config: map[string]any{"server_id": " 12"}, at: attrPath("server_id"), want: `must be a server id`},
			{name: "timeout not a duration", config: map[string]any{"server_id": "12345", "timeouts": map[string]any{"invoke": "soon"}},
				at: attrPath("timeouts").WithAttributeName("invoke"), want: `timeouts.invoke = "soon" is not a positive duration`},
		} {
			t.Run(a.verb+" "+tc.name, func(t *testing.T) {
				p := p.sub(t)
				config := p.dynamic(p.actionConfigType(a.action), tc.config)
				valid, err := p.server.ValidateActionConfig(t.Context(), &tfprotov6.ValidateActionConfigRequest{ActionType: a.action, Config: config})
				requireNoRPCError(t, "ValidateActionConfig", err)
				if tc.want != "" {
					expectError(t, "validating "+tc.name, valid.Diagnostics, tc.at, tc.want)
					return
				}
				requireNoErrors(t, "validating "+tc.name, valid.Diagnostics)
				plan, err := p.server.PlanAction(t.Context(), &tfprotov6.PlanActionRequest{ActionType: a.action, Config: config})
				requireNoRPCError(t, "PlanAction", err)
				requireNoErrors(t, "planning "+tc.name, plan.Diagnostics)
				if plan.Deferred != nil {
					t.Errorf("planning %s deferred the action: %v", tc.name, plan.Deferred.Reason)
				}
			})
		}
	}
	p.expectNoRequests("validating and planning actions")
}

// Each action sends its request once, reports progress while it waits,
// and completes only when the server has reached the status the action
// leads to, as power_state does. A status seen on several polls is
// reported once.
func TestProtocolAction_invokeSendsOnceAndWaits(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	fleet := p.seedServers(
		serverSpec{name: "to-start", stopped: true},
		serverSpec{name: "to-stop"},
		serverSpec{name: "to-reboot"},
	)
	if emu := p.emulator; emu != nil {
		emu.SetTransitionTime(2 * time.Second) // several polls see the transient status, even on a loaded machine
	}
	for i, a := range powerActions {
		id := fleet[i].ID
		t.Run(a.verb, func(t *testing.T) {
			t.Parallel()
			p := p.sub(t)
			inv := p.invoke(a.action, map[string]any{"server_id": fmt.Sprint(id)})
			requireNoErrors(t, "invoking "+a.verb, inv.completed)
			if len(inv.progress) < 2 {
				t.Fatalf("progress %q, want a message when sending and one at the end", inv.progress)
			}
			if want := fmt.Sprintf("Sending %s to server %d, then waiting until it is %s", a.verb, id, a.to); inv.progress[0] != want {
				t.Errorf("the first progress message is %q, want %q", inv.progress[0], want)
			}
			last := inv.progress[len(inv.progress)-1]
			if !regexp.MustCompile(fmt.Sprintf(`^Server %d is %s after \d`, id, a.to)).MatchString(last) {
				t.Errorf("the last progress message is %q, want one saying the server is %s", last, a.to)
			}
			if p.emulator != nil {
				waiting := fmt.Sprintf("Server %d is %s, waiting until it is %s (", id, a.transient, a.to)
				if n := countPrefixed(inv.progress, waiting); n != 1 {
					t.Errorf("%d progress messages %q..., want 1 (the emulator's transition outlasts several polls): %q", n, waiting, inv.progress)
				}
			} else {
				p.notChecked(fmt.Sprintf("the progress message of a poll that saw %q (in process the transition outlasts several polls)", a.transient))
			}
			if err := expectServer(p.testEnv, id, a.to, map[string]int{a.route: 1})(nil); err != nil {
				t.Error(err)
			}
		})
	}
}

func countPrefixed(messages []string, prefix string) int {
	n := 0
	for _, m := range messages {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// An id that is not a server id fails the invoke on server_id before any
// request, as does a timeout that is not a duration; Terraform validates
// first, but an invoke must not rely on it.
func TestProtocolAction_invokeRefusesBadConfigWithoutARequest(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	for _, a := range powerActions {
		for _, tc := range []actionConfigCase{
			{name: "zero", config: map[string]any{"server_id": "0"}, at: attrPath("server_id"), want: `^Invalid server id: server_id = "0" is not a server id`},
			{name: "name", config: map[string]any{"server_id": "web"}, at: attrPath("server_id"), want: `^Invalid server id: server_id = "web" is not a server id`},
			{name: "timeout not a duration", config: map[string]any{"server_id": "12345", "timeouts": map[string]any{"invoke": "soon"}},
				want: `^Timeout Cannot Be Parsed: timeout for "invoke" cannot be parsed`},
		} {
			t.Run(a.verb+" "+tc.name, func(t *testing.T) {
				p := p.sub(t)
				inv := p.invoke(a.action, tc.config)
				expectError(t, "invoking with "+tc.name, inv.completed, tc.at, tc.want)
				if len(inv.progress) != 0 {
					t.Errorf("progress %q, want none: nothing was sent", inv.progress)
				}
			})
		}
	}
	p.expectNoRequests("invoking actions with bad config")
}

// The API's refusals: a reboot of a stopped server fails with the API's
// message, as does anything on a suspended server (made in process only:
// the API cannot suspend one), and a server that does not exist; a start
// of a running server, or a stop of a stopped one, is already done. None
// is sent twice.
func TestProtocolAction_invokeRefusedByTheAPI(t *testing.T) {
	t.Parallel()
	p := newProtoEnv(t)
	specs := []serverSpec{{name: "off", stopped: true}, {name: "on"}}
	if p.emulator != nil {
		specs = append(specs, serverSpec{name: "held"})
	} else {
		p.notChecked("actions refused on a suspended server (the emulator's SetStatus hook: the API cannot suspend a server)")
	}
	fleet := p.seedServers(specs...)
	off, on := fleet[0].ID, fleet[1].ID
	type refusal struct {
		name    string
		action  string
		id      int64
		want    string                 // the error; "" for success
		message string                 // the API's own message, checked in process
		status  string                 // the server's status afterwards; "" for none
		at      *tftypes.AttributePath // of the error; nil for an error on none
	}
	cases := []refusal{
		{"reboot of a stopped server", rebootActionType, off, `^Unable to reboot server %d: .*HTTP 400`, "Server is not running.", "stopped", nil},
		{"start of a running server", startActionType, on, "", "", "active", nil},
		{"stop of a stopped server", stopActionType, off, "", "", "stopped", nil},
		{"start of a server that does not exist", startActionType, 987654321,
			`^Server not found: No server with id %d exists for this API token. The start was not sent.`, "", "", attrPath("server_id")},
	}
	if p.emulator != nil {
		held := fleet[2].ID
		p.emulator.SetStatus(held, emulator.StatusSuspended)
		for _, a := range powerActions {
			cases = append(cases, refusal{a.verb + " of a suspended server", a.action, held,
				fmt.Sprintf(`^Unable to %s server %%d: .*HTTP 400`, a.verb), "Server is suspended.", "suspended", nil})
		}
	}
	routes := map[string]string{}
	for _, a := range powerActions {
		routes[a.action] = a.route
	}
	posts := map[int64]map[string]int{} // what each server got so far, one POST an action
	for _, tc := range cases {
		inv := p.invoke(tc.action, map[string]any{"server_id": fmt.Sprint(tc.id)})
		if tc.want == "" {
			requireNoErrors(t, tc.name, inv.completed)
		} else {
			text := expectError(t, tc.name, inv.completed, tc.at, fmt.Sprintf(tc.want, tc.id))
			if p.emulator != nil && !strings.Contains(text, tc.message) {
				t.Errorf("%s: the error %q lacks the API's message %q", tc.name, text, tc.message)
			}
		}
		if tc.status == "" {
			continue
		}
		if posts[tc.id] == nil {
			posts[tc.id] = map[string]int{}
		}
		posts[tc.id][routes[tc.action]]++
		if err := expectServer(p.testEnv, tc.id, tc.status, posts[tc.id])(nil); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	err := p.onEmulator("that the server that does not exist got no POST (the emulator's request log)", func(emu *emulator.Emulator) error {
		for _, r := range emu.Requests() {
			if r.Method == "POST" && strings.Contains(r.Path, "/987654321/") {
				return fmt.Errorf("the action sent POST %s", r.Path)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
