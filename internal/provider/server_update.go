package provider

// Update's parts: the power change and reboot, what a failed update saves,
// and the planned values the apply keeps.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// changePower sees the plan's power change and reboot through, from the
// server as the API shows it now, and returns the server as last seen in
// full; nil when it failed, with diags saying why.
func (r *serverResource) changePower(ctx context.Context, id int64, plan, state *serverResourceModel, diags *diag.Diagnostics) *vpsorg.Server {
	power, reboot := plan.powerChange(state)
	server, err := r.client.GetServer(ctx, id)
	if err != nil {
		addUpdateError(diags, fmt.Sprintf("Unable to read server %d", id), id, err, nil)
		return nil
	}
	if server, err = settle(ctx, r.client, server); err != nil {
		addError(diags, fmt.Sprintf("Unable to change the power state of server %d", id), err, nil)
		return nil
	}
	wasRunning := server.Status == vpsorg.StatusActive
	if reboot && !wasRunning && plan.rebootPromised(state) {
		diags.AddAttributeError(path.Root("reboot_trigger"), fmt.Sprintf("Server %d was not rebooted", id),
			fmt.Sprintf("The plan was to reboot it because it was running; it is now %q: its power changed outside Terraform "+
				"after the plan, and a server that is not running cannot be rebooted. This apply sent no power request; "+
				"the state keeps the old reboot_trigger. Run `terraform plan` again: it shows the reboot again if the "+
				"server runs, or else records the new reboot_trigger, as the server boots its new configuration when started.",
				server.Status))
		return nil
	}
	if power != "" {
		if server, err = setPower(ctx, r.client, server, power); err != nil {
			addError(diags, fmt.Sprintf("Unable to change the power state of server %d", id), err, nil)
			return nil
		}
	}
	// A reboot is owed only to a server that was running and stays
	// running: a start from stopped boots the new configuration anyway.
	if reboot && wasRunning && server.Status == vpsorg.StatusActive {
		if server, err = rebootAction.runFrom(ctx, r.client, server); err != nil {
			addError(diags, fmt.Sprintf("Unable to reboot server %d", id), err, nil)
			return nil
		}
	}
	return server
}

// saveUnfinished saves, after a power change or reboot failed, the server as
// the API shows it now, with the power_state and reboot_trigger it had
// before: what was not done stays owed, and the next plan shows it again.
// Left to the framework, the state would be the prior one, with the status
// and settings from before this apply (a PATCH may have gone through).
func (r *serverResource) saveUnfinished(ctx context.Context, id int64, plan, state serverResourceModel, resp *resource.UpdateResponse) {
	// The failure may be the deadline or an interrupt: the look gets time of its own.
	look, cancel := context.WithTimeout(context.WithoutCancel(ctx), unfinishedLook)
	defer cancel()
	server, err := r.client.GetServer(look, id)
	if err != nil {
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...) // the next refresh reads it
		return
	}
	plan.PowerState, plan.RebootTrigger = state.PowerState, state.RebootTrigger
	resp.Diagnostics.Append(plan.fromAPI(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// unfinishedLook bounds the read that saves a failed update's server.
const unfinishedLook = 10 * time.Second

// addUpdateError is addError for an update; a server deleted since the plan
// (404) gets the wording that says so and what to do.
func addUpdateError(diags *diag.Diagnostics, summary string, id int64, err error, paths map[string]path.Path) {
	if errors.Is(err, vpsorg.ErrNotFound) {
		diags.AddError(fmt.Sprintf("Server %d no longer exists", id),
			"It was deleted outside Terraform after the plan was made, so this apply cannot change it. Run `terraform plan` "+
				"again: its refresh removes the server from state, and the plan shows it to be created anew.")
		return
	}
	addError(diags, summary, err, paths)
}

// keepPlanned returns the values the plan knew of status, power_state and
// updated_at where the server shows others after an update that sent no
// request to change them: someone started, stopped or changed it between
// the plan and the apply. Terraform takes a planned value (null included)
// that the apply contradicts for a provider bug ("inconsistent result after
// apply"); the change is the world's, not this apply's, so a power change is
// a warning, and the next refresh records the new values.
func keepPlanned(diags *diag.Diagnostics, got, planned *serverResourceModel) {
	if !planned.UpdatedAt.IsUnknown() {
		got.UpdatedAt = planned.UpdatedAt // planned only when nothing is sent (sendsNothing)
	}
	statusMoved := !planned.Status.IsUnknown() && !got.Status.Equal(planned.Status)
	powerMoved := !planned.PowerState.IsUnknown() && !got.PowerState.Equal(planned.PowerState)
	if !statusMoved && !powerMoved {
		return
	}
	diags.AddWarning("The server's power changed outside this apply",
		fmt.Sprintf("Server %s (%q) now reports status %q, which this plan did not expect: it was started or stopped "+
			"by something other than Terraform after the plan. This apply changed only its settings; the next "+
			"refresh records the new status, and a plan then shows what power_state asks for.",
			got.ID.ValueString(), got.Name.ValueString(), got.Status.ValueString()))
	if statusMoved {
		got.Status = planned.Status
	}
	if powerMoved {
		got.PowerState = planned.PowerState
	}
}
