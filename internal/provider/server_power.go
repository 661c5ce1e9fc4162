package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Power states as the resource exposes them.
const (
	powerRunning = "running"
	powerStopped = "stopped"
)

// powerStateOf says where a status leads: transient statuses count as the
// state they end in. ok is false for a status the provider does not know.
func powerStateOf(status string) (state string, ok bool) {
	switch status {
	case vpsorg.StatusActive, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusProvisioning:
		return powerRunning, true
	case vpsorg.StatusStopped, vpsorg.StatusStopping, vpsorg.StatusSuspended:
		return powerStopped, true
	default:
		return "", false
	}
}

// powerChange says what an update owes the server's power: a power state to
// reach ("" for none), and whether reboot_trigger asks for a reboot.
func (m *serverResourceModel) powerChange(state *serverResourceModel) (power string, reboot bool) {
	if !m.PowerState.IsUnknown() && !m.PowerState.IsNull() && !m.PowerState.Equal(state.PowerState) {
		power = m.PowerState.ValueString()
	}
	reboot = !state.RebootTrigger.IsNull() && !m.RebootTrigger.IsNull() && !m.RebootTrigger.Equal(state.RebootTrigger)
	return power, reboot
}

// settle waits out a transition in progress, so that power decisions are
// taken on a status that will not change under them.
func settle(ctx context.Context, c *vpsorg.Client, server *vpsorg.Server) (*vpsorg.Server, error) {
	if !isTransitional(server.Status) {
		return server, nil
	}
	return c.WaitForStatus(ctx, server.ID, vpsorg.WaitSpec{Target: settledStatuses, Pending: transitionalStatuses})
}

// setPower starts or stops a settled server and waits for the result; a
// server already in the wanted state is left alone.
func setPower(ctx context.Context, c *vpsorg.Client, server *vpsorg.Server, want string) (*vpsorg.Server, error) {
	switch {
	case server.Status == vpsorg.StatusSuspended:
		return nil, fmt.Errorf("server %d is suspended (for example for billing), so it cannot be %s; "+
			"contact VPS.org to lift the suspension, or remove power_state from the configuration", server.ID, verbFor(want))
	case want == powerRunning && server.Status == vpsorg.StatusActive,
		want == powerStopped && server.Status == vpsorg.StatusStopped:
		return server, nil
	case want == powerRunning && server.Status == vpsorg.StatusStopped:
		return startAction.runFrom(ctx, c, server)
	case want == powerStopped && server.Status == vpsorg.StatusActive:
		return stopAction.runFrom(ctx, c, server)
	default:
		return nil, fmt.Errorf("server %d is in status %q, from which it cannot be %s", server.ID, server.Status, verbFor(want))
	}
}

func verbFor(power string) string {
	if power == powerStopped {
		return "stopped"
	}
	return "started"
}

// powerAction is one of the API's power endpoints and the statuses it
// moves a server through: from, then transient, then to.
type powerAction struct {
	name                string
	send                func(*vpsorg.Client, context.Context, int64) (*vpsorg.ActionResult, error)
	from, transient, to string
}

var (
	startAction  = powerAction{"start", (*vpsorg.Client).StartServer, vpsorg.StatusStopped, vpsorg.StatusStarting, vpsorg.StatusActive}
	stopAction   = powerAction{"stop", (*vpsorg.Client).StopServer, vpsorg.StatusActive, vpsorg.StatusStopping, vpsorg.StatusStopped}
	rebootAction = powerAction{"reboot", (*vpsorg.Client).RebootServer, vpsorg.StatusActive, vpsorg.StatusRebooting, vpsorg.StatusActive}
)

// maxRefusals bounds how often an action refused while the server looked
// ready is sent again: each refusal is waited out first, so this is a
// guard against an API that refuses for a reason its reads never show.
const maxRefusals = 5

// run reads server id, then sends the action and sees it through (runFrom).
// alreadyThere is the API's refusal when the server was already where the
// action leads ("Server is already running."): nothing was done, and an
// action says so rather than report a change.
func (a powerAction) run(ctx context.Context, c *vpsorg.Client, id int64) (server *vpsorg.Server, alreadyThere *vpsorg.APIError, err error) {
	if server, err = c.GetServer(ctx, id); err != nil {
		return nil, nil, err
	}
	return a.see(ctx, c, server)
}

// runFrom sends the action to a server last seen as server, and returns
// only once the server has reached where the action leads, as seen by a GET.
//
// The API is eventually consistent: after the POST a read may show the old
// status for a while. That is "not yet", never a failure and never a
// reason to send the POST again. A reboot, whose end status is also its
// start, is done only with evidence it happened (vpsorg.WaitSpec.Since).
//
// An action whose answer is lost is never sent again: the server's status
// decides whether it took effect. An action refused (400/409) because
// another is under way is waited out and sent again; a refusal for a real
// reason (suspended, already there) is final or a success, as it says.
func (a powerAction) runFrom(ctx context.Context, c *vpsorg.Client, server *vpsorg.Server) (*vpsorg.Server, error) {
	server, _, err := a.see(ctx, c, server)
	return server, err
}

// see is runFrom that also returns the refusal when the server was already
// where the action leads (see run).
func (a powerAction) see(ctx context.Context, c *vpsorg.Client, server *vpsorg.Server) (*vpsorg.Server, *vpsorg.APIError, error) {
	for refusals := 0; ; refusals++ {
		since := time.Now()
		_, err := a.send(c, ctx, server.ID)
		if err == nil {
			server, err = a.waitDone(ctx, c, server, since)
			return server, nil, err
		}
		if vpsorg.MayHaveActed(err) {
			server, err = a.afterLostAnswer(ctx, c, server, since, err)
			return server, nil, err
		}
		if !isRefusal(err) || refusals >= maxRefusals {
			return nil, nil, err
		}
		// The refusal is what the user sees if this ends in failure: the
		// waits below must not overwrite it.
		refusal := err
		now, getErr := c.GetServer(ctx, server.ID)
		if getErr != nil {
			return nil, nil, refusal
		}
		switch {
		case now.Status == a.to && a.to != a.from:
			var already *vpsorg.APIError
			errors.As(refusal, &already) // isRefusal found it
			return now, already, nil     // already there: "Server is already running."
		case now.Status == a.transient:
			now, err = a.waitDone(ctx, c, now, since)
			return now, nil, err
		case isTransitional(now.Status):
			tflog.Info(ctx, "power action refused while another is under way; waiting for it to end",
				map[string]any{"id": server.ID, "action": a.name, "status": now.Status})
			if now, err = settle(ctx, c, now); err != nil {
				return nil, nil, err
			}
		case now.Status == a.from:
			// Refused although the server reads as ready: the refusal saw a
			// change the reads do not show yet. Wait until they do.
			tflog.Info(ctx, "power action refused although the server reads as ready; waiting for reads to catch up",
				map[string]any{"id": server.ID, "action": a.name, "status": now.Status})
			if now, err = c.WaitForStatus(ctx, server.ID, vpsorg.WaitSpec{
				Target:        settledStatuses,
				Pending:       transitionalStatuses,
				Since:         since,
				UpdatedBefore: now.UpdatedAt,
			}); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, refusal // suspended, stopped for a reboot, ...: the API's reason stands
		}
		switch {
		case now.Status == a.to && a.to != a.from:
			return now, nil, nil // another change got it there while this one waited
		case now.Status != a.from:
			return nil, nil, fmt.Errorf("%w; the server is now %q, from which it cannot be sent to %s", refusal, now.Status, a.to)
		}
		server = now
	}
}

// waitDone waits until the server reaches where the action leads.
func (a powerAction) waitDone(ctx context.Context, c *vpsorg.Client, before *vpsorg.Server, since time.Time) (*vpsorg.Server, error) {
	spec := vpsorg.WaitSpec{Target: []string{a.to}, Pending: []string{a.from, a.transient}}
	if a.to == a.from {
		spec.Since, spec.UpdatedBefore = since, before.UpdatedAt
	}
	return c.WaitForStatus(ctx, before.ID, spec)
}

// afterLostAnswer settles an action whose answer was lost after the API may
// have acted. It is never sent again: a reboot sent twice is a second
// outage. A start or stop took effect if, within the grace period, the
// server shows the transient status or where the action leads. A reboot
// ends where it began, so see rebootAfterLostAnswer.
func (a powerAction) afterLostAnswer(ctx context.Context, c *vpsorg.Client, before *vpsorg.Server, since time.Time, sendErr error) (*vpsorg.Server, error) {
	notRepeated := func() error {
		return fmt.Errorf("%w; the server shows no sign that the %s happened, and the request is not repeated", sendErr, a.name)
	}
	look, cancel := context.WithTimeout(ctx, vpsorg.DefaultChangeGrace)
	defer cancel()
	if a.to == a.from {
		return a.rebootAfterLostAnswer(ctx, look, c, before, since, notRepeated)
	}
	now, err := c.WaitForStatus(look, before.ID, vpsorg.WaitSpec{Target: []string{a.transient, a.to}, Pending: []string{a.from}})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, notRepeated()
	}
	tflog.Info(ctx, "power action took effect despite its lost answer", map[string]any{"id": before.ID, "status": now.Status})
	return a.waitDone(ctx, c, now, since)
}

// rebootAfterLostAnswer settles a reboot whose answer was lost. Its end
// status is also its start, so only evidence counts, and the client's
// evidence wait (vpsorg.WaitSpec.Since) knows both kinds: the transient
// status seen, or updated_at moved since the request. Either is enough; the
// API does not promise that a reboot moves updated_at. The wait is told
// never to trust the end status without evidence (its grace outlasts look),
// so that a success is always a reboot seen to happen. A reboot still under
// way when look ends is waited for as long as ctx allows; one that left no
// trace within look cannot be told from one that never happened, and fails.
func (a powerAction) rebootAfterLostAnswer(ctx, look context.Context, c *vpsorg.Client, before *vpsorg.Server, since time.Time, notRepeated func() error) (*vpsorg.Server, error) {
	now, err := c.WaitForStatus(look, before.ID, vpsorg.WaitSpec{
		Target: []string{a.to}, Pending: []string{a.transient},
		Since: since, UpdatedBefore: before.UpdatedAt, Grace: 2 * vpsorg.DefaultChangeGrace,
	})
	var timedOut *vpsorg.WaitTimeoutError
	switch {
	case err == nil:
		tflog.Info(ctx, "power action took effect despite its lost answer", map[string]any{"id": before.ID, "status": now.Status})
		return now, nil
	case ctx.Err() != nil || !errors.As(err, &timedOut):
		return nil, err
	case timedOut.LastStatus == a.transient:
		return c.WaitForStatus(ctx, before.ID, vpsorg.WaitSpec{Target: []string{a.to}, Pending: []string{a.transient}})
	default:
		return nil, notRepeated()
	}
}

// isRefusal reports whether the API refused an action without acting.
func isRefusal(err error) bool {
	var apiErr *vpsorg.APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusBadRequest || apiErr.StatusCode == http.StatusConflict)
}

var (
	transitionalStatuses = []string{vpsorg.StatusProvisioning, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusStopping}
	settledStatuses      = []string{vpsorg.StatusActive, vpsorg.StatusStopped, vpsorg.StatusSuspended}
)

func isTransitional(status string) bool {
	return slices.Contains(transitionalStatuses, status)
}
