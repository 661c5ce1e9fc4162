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
//
// A reboot_trigger change warns, naming the server, when the apply will
// reboot it: a running server that is to stay running (Update's rule).
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
	if reboot && state.Status.ValueString() == vpsorg.StatusActive && power != powerStopped {
		resp.Diagnostics.AddAttributeWarning(path.Root("reboot_trigger"), "The apply will reboot the server",
			fmt.Sprintf("reboot_trigger changes from %q to %q, so applying this plan reboots server %s (%q): it "+
				"goes down for the reboot and the apply waits until it is running again.",
				state.RebootTrigger.ValueString(), plan.RebootTrigger.ValueString(), state.ID.ValueString(), state.Name.ValueString()))
	}
}
