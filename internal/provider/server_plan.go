package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// What a plan of vpsorg_server says beyond the attributes' own modifiers:
// which computed values an update leaves as they are, and a warning when the
// apply will reboot the server.

var _ resource.ResourceWithModifyPlan = (*serverResource)(nil)

// ModifyPlan keeps status known through an update that changes no power
// (a rename, a hostname, backups): "known after apply" there is noise.
// It is not a UseStateForUnknown: a power change or a reboot changes
// status, and a known plan that the apply contradicts is an error. So the
// prior value is kept only when powerChange, the very test Update uses,
// says no power request will be sent, and only when the server had settled
// (a "starting" seen by the refresh will have ended by the apply).
// updated_at is kept too when the update sends no request at all
// (timeouts, shutdown_before_delete, a reboot_trigger set where it was null).
//
// A reboot_trigger change warns, naming the server, when the apply will
// reboot it (rebootPromised).
func (r *serverResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.planNoSecondServer(ctx, req, resp) // server_collisions.go
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return // a create (or a replacement's new server) or a destroy: nothing known to keep
	}
	var plan, state serverResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	power, reboot := plan.powerChange(&state)
	if power == "" && !reboot && plan.Status.IsUnknown() && slices.Contains(settledStatuses, state.Status.ValueString()) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), state.Status)...)
	}
	if plan.sendsNothing(&state) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("updated_at"), state.UpdatedAt)...)
	}
	if plan.rebootPromised(&state) {
		resp.Diagnostics.AddAttributeWarning(path.Root("reboot_trigger"), "The apply will reboot the server",
			fmt.Sprintf("reboot_trigger changes from %q to %q, so applying this plan reboots server %s (%q): it "+
				"goes down for the reboot and the apply waits until it is running again.",
				state.RebootTrigger.ValueString(), plan.RebootTrigger.ValueString(), state.ID.ValueString(), state.Name.ValueString()))
	}
}

// sendsNothing reports whether an update from state to the plan m sends the
// API no request: no setting, no power state, no reboot, no replacement. An
// unknown planned value may turn out to differ, so it counts as a change.
func (m *serverResourceModel) sendsNothing(state *serverResourceModel) bool {
	power, reboot := m.powerChange(state)
	return power == "" && !reboot && !m.PowerState.IsUnknown() &&
		m.Name.Equal(state.Name) && m.Hostname.Equal(state.Hostname) && m.BackupsEnabled.Equal(state.BackupsEnabled) &&
		m.PlanID.Equal(state.PlanID) && m.OSID.Equal(state.OSID) && m.Location.Equal(state.Location)
}

// rebootPromised reports whether a plan from state to m reboots the server:
// a reboot_trigger change while the server runs and is to stay running.
// The plan warns so; an apply that finds the server no longer running then
// fails rather than drop the reboot without a word.
func (m *serverResourceModel) rebootPromised(state *serverResourceModel) bool {
	power, reboot := m.powerChange(state)
	return reboot && state.Status.ValueString() == vpsorg.StatusActive && power != powerStopped
}
