package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// A create that cannot be settled (DESIGN.md): its answer was lost, and
// the server it may have made did not show in time. Its resource is saved
// as a placeholder (no id; the create's request in private state), tainted
// by the failed create. Every later refresh looks for the server again:
// found, it is adopted into state; not found, the refresh fails with what
// to check and how to import. So no plan ever creates a second server
// without the user having looked.

// privateState is what Create, Read and Delete need of their private state.
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

// pendingCreate reads the unresolved create recorded in private state, if
// any.
func pendingCreate(ctx context.Context, private privateState) (*unresolvedCreate, diag.Diagnostics) {
	if private == nil {
		return nil, nil
	}
	raw, diags := private.GetKey(ctx, unresolvedCreateKey)
	if diags.HasError() || len(raw) == 0 {
		return nil, diags
	}
	var u unresolvedCreate
	if err := json.Unmarshal(raw, &u); err != nil || u.Name == "" {
		return nil, diags
	}
	return &u, diags
}

// saveUnresolved saves the placeholder for an unresolved create: the
// planned settings, every computed value null, no id.
func saveUnresolved(ctx context.Context, plan serverResourceModel, e *unresolvedError, resp *resource.CreateResponse) {
	plan.ID = types.StringNull()
	plan.Status = types.StringNull()
	plan.IPAddress = types.StringNull()
	plan.IPv6Address = types.StringNull()
	plan.Plan = types.ObjectNull(detailPlanAttrTypes)
	plan.OS = types.ObjectNull(osAttrTypes)
	plan.CreatedAt = types.StringNull()
	plan.UpdatedAt = types.StringNull()
	if plan.Hostname.IsUnknown() {
		plan.Hostname = types.StringNull()
	}
	if plan.BackupsEnabled.IsUnknown() {
		plan.BackupsEnabled = types.BoolNull()
	}
	if plan.PowerState.IsUnknown() {
		plan.PowerState = types.StringNull()
	}
	resp.Diagnostics.AddError("Unable to tell whether the create made a server", e.Error())
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, unresolvedCreateKey, e.pending.marshal())...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// adoptedAdvice is the warning of a refresh that found the server of an
// unresolved create. A refresh within a plan saves nothing: the placeholder
// stays in state until an apply saves the refresh.
const adoptedAdvice = "This refresh adopts it in place of the placeholder. A plan saves no state: the placeholder stays in state " +
	"(terraform state show still shows it, with no id) until an apply saves this refresh. The failed apply left the resource tainted, " +
	"so applying this plan replaces the server. To keep it instead, run terraform apply -refresh-only (which saves the adoption), " +
	"then terraform untaint ADDRESS, where ADDRESS is this resource's address as Terraform shows it above, after \"with\"."

// resolvePending looks once more for the server of an unresolved create.
// It returns the server when exactly one is listed that nothing else
// accounts for; otherwise an error diagnostic with the advice.
func resolvePending(ctx context.Context, c *vpsorg.Client, u *unresolvedCreate) (*vpsorg.Server, diag.Diagnostics) {
	var diags diag.Diagnostics
	began, err := time.Parse(time.RFC3339, u.Began)
	if err != nil {
		began = time.Time{}
	}
	ended, err := time.Parse(time.RFC3339, u.Ended)
	if err != nil {
		ended = time.Time{} // an older placeholder: no upper bound
	}
	servers, err := c.ListServers(ctx, vpsorg.ListServersOptions{Location: u.Location})
	if err == nil {
		var made *vpsorg.Server
		// began and ended are already on the API's clock.
		if made, err = pickCreated(servers, u.request(), began, ended, accountedFor(c)); err == nil {
			return made, nil
		}
	}
	var ambiguous *ambiguousCreate
	if errors.As(err, &ambiguous) {
		u.Candidates = ambiguous.servers
	}
	detail := u.advice()
	if !errors.Is(err, errNoneListed) && ambiguous == nil {
		detail = fmt.Sprintf("%s\n\nLooking again failed: %v", detail, err)
	}
	diags.AddError("A create that may have made a server is unresolved", detail)
	return nil, diags
}

// refusePlaceholderPlan stops a plan of a placeholder that Terraform shows
// the provider (one that was untainted): only a plan made without a refresh
// reaches it, since the refresh adopts the server or fails. Planned as it
// is, a replacement with create_before_destroy would create a server before
// the placeholder's delete could look for the one its create made.
func refusePlaceholderPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if !id.IsNull() {
		return
	}
	pending, diags := pendingCreate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if pending == nil {
		return
	}
	resp.Diagnostics.AddError("A create that may have made a server is unresolved", pending.advice()+
		"\n\nThis plan did not look for it (made with -refresh=false): plan again with a refresh, which looks for the server and adopts it if it is listed.")
}

// pendingToDelete is the server the delete of an unresolved create's
// placeholder deletes: the one server the create made, found now. Delete
// runs without a refresh (-refresh=false) and, with create_before_destroy,
// after the replacement's create: refusing then would leave two servers,
// and the placeholder, deposed, would stop every later plan. The
// replacement is this process's own create (Client.CreatedHere), so it is
// never taken for the placeholder's server. When the server cannot be told
// (none listed, several), the delete fails with the advice: deleting the
// placeholder alone would let an apply create a second server.
func pendingToDelete(ctx context.Context, c *vpsorg.Client, private privateState, diags *diag.Diagnostics) (int64, bool) {
	pending, getDiags := pendingCreate(ctx, private)
	diags.Append(getDiags...)
	if pending == nil {
		return 0, false
	}
	server, findDiags := resolvePending(ctx, c, pending)
	diags.Append(findDiags...)
	if server == nil {
		return 0, false
	}
	tflog.Info(ctx, "deleting the server an unresolved create made, found by the delete of its placeholder", map[string]any{"id": server.ID})
	return server.ID, true
}

// readPending refreshes an unresolved create's placeholder: the server it
// made is adopted if the API lists it now; otherwise the refresh fails with
// what to check, so that no plan creates a second server.
func (r *serverResource) readPending(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse, state *serverResourceModel) {
	pending, diags := pendingCreate(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if pending == nil {
		parseServerID(&resp.Diagnostics, path.Root("id"), "", idFromState)
		return
	}
	server, diags := resolvePending(ctx, r.client, pending)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("Found server %d, made by a create whose answer was lost", server.ID), adoptedAdvice)
	resp.Diagnostics.Append(state.fromAPI(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	resp.Diagnostics.Append(setServerIdentity(ctx, resp.Identity, state.ID)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, unresolvedCreateKey, nil)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, originKey, []byte(originCreated))...)
}
