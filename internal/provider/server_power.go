package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"

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
	switch server.Status {
	case vpsorg.StatusProvisioning, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusStopping:
		return c.WaitForStatus(ctx, server.ID, vpsorg.WaitSpec{
			Target:  []string{vpsorg.StatusActive, vpsorg.StatusStopped, vpsorg.StatusSuspended},
			Pending: []string{vpsorg.StatusProvisioning, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusStopping},
		})
	}
	return server, nil
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
		return startAction.run(ctx, c, server.ID)
	case want == powerStopped && server.Status == vpsorg.StatusActive:
		return stopAction.run(ctx, c, server.ID)
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
	send                func(*vpsorg.Client, context.Context, int64) (*vpsorg.ActionResult, error)
	from, transient, to string
}

var (
	startAction  = powerAction{(*vpsorg.Client).StartServer, vpsorg.StatusStopped, vpsorg.StatusStarting, vpsorg.StatusActive}
	stopAction   = powerAction{(*vpsorg.Client).StopServer, vpsorg.StatusActive, vpsorg.StatusStopping, vpsorg.StatusStopped}
	rebootAction = powerAction{(*vpsorg.Client).RebootServer, vpsorg.StatusActive, vpsorg.StatusRebooting, vpsorg.StatusActive}
)

// run sends a power action once and waits until the server reaches where it
// leads. When the answer is lost, or the API refuses because the server has
// moved on, the server's status decides whether the action took effect: an
// action is never sent twice. A reboot whose answer is lost and whose server
// is active again cannot be told from one that never happened; it fails
// rather than reboot twice.
func (a powerAction) run(ctx context.Context, c *vpsorg.Client, id int64) (*vpsorg.Server, error) {
	if _, err := a.send(c, ctx, id); err != nil {
		var apiErr *vpsorg.APIError
		unclear := ambiguous(err) || (errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest)
		if !unclear {
			return nil, err
		}
		server, getErr := c.GetServer(ctx, id)
		if getErr != nil {
			return nil, err
		}
		tookEffect := server.Status == a.transient || (server.Status == a.to && a.to != a.from)
		if !tookEffect {
			return nil, fmt.Errorf("%w; the server is now %q, and the request is not repeated", err, server.Status)
		}
		tflog.Info(ctx, "power action took effect despite its answer", map[string]any{"id": id, "status": server.Status})
	}
	return c.WaitForStatus(ctx, id, vpsorg.WaitSpec{
		Target:  []string{a.to},
		Pending: []string{a.from, a.transient},
	})
}
