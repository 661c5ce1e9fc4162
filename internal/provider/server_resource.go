package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

var (
	_ resource.Resource                = (*serverResource)(nil)
	_ resource.ResourceWithConfigure   = (*serverResource)(nil)
	_ resource.ResourceWithImportState = (*serverResource)(nil)
)

// Defaults for the timeouts block. Provisioning "may take 2-5 minutes";
// these leave room for a slow day without hanging a pipeline for an hour.
const (
	defaultCreateTimeout = 15 * time.Minute
	defaultUpdateTimeout = 10 * time.Minute
	defaultDeleteTimeout = 10 * time.Minute
)

// notFoundAfterCreate is how long after a create the wait takes a 404 for
// "not visible yet": an eventually consistent API may not show a new
// server for seconds. Two minutes is far past any lag seen, and the create
// timeout bounds it anyway, as it bounds the whole wait.
const notFoundAfterCreate = 2 * time.Minute

// NewServerResource is the vpsorg_server resource's constructor.
func NewServerResource() resource.Resource {
	return &serverResource{}
}

type serverResource struct {
	client *vpsorg.Client
	// offline: skip_credentials_validation (see providerData).
	offline bool
}

func (r *serverResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server"
}

func (r *serverResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = serverResourceSchema(ctx)
}

func (r *serverResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := configuredData(req.ProviderData)
	r.client, r.offline = data.client, data.offline
	resp.Diagnostics.Append(diags...)
}

func (r *serverResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan serverResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	server, err := createServer(ctx, r.client, plan.createRequest())
	var unresolved *unresolvedError
	if errors.As(err, &unresolved) {
		saveUnresolved(ctx, plan, unresolved, resp)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, "Unable to create server", err, serverAttributePaths)
		return
	}

	// The server exists from here on: save it before waiting, so that a
	// failed or interrupted wait leaves it in state (tainted), never orphaned.
	wantPower := plan.PowerState
	resp.Diagnostics.Append(plan.fromAPI(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setServerIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, originKey, []byte(originCreated))...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "server created, waiting for provisioning", map[string]any{"id": server.ID})

	server, err = r.client.WaitForStatus(ctx, server.ID, vpsorg.WaitSpec{
		Target:      []string{vpsorg.StatusActive},
		Pending:     []string{vpsorg.StatusProvisioning},
		NotFoundFor: notFoundAfterCreate,
		FromCreate:  true,
		// A server stopped next is read back at the end of the stop's
		// wait: seen active in a shared list, it needs no GET before.
		ListMayEnd: wantPower.ValueString() == powerStopped,
	})
	if err != nil && interrupted(ctx) {
		// Terraform was interrupted (Ctrl-C), not the server: an error would
		// taint a server that may be healthy, and the next apply would
		// replace it. Saved as the API last showed it, the next refresh
		// reads how it is; power_state stays as planned, as a stop has
		// not been tried.
		if !wantPower.IsUnknown() {
			plan.PowerState = wantPower
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		resp.Diagnostics.AddWarning(fmt.Sprintf("Server %s was created; the wait for it to be provisioned was interrupted", plan.ID.ValueString()),
			fmt.Sprintf("It is saved in state, not tainted, with the status the API last showed (%q). The next plan reads "+
				"how it is now and replaces nothing; if it failed to provision, that refresh shows it.", plan.Status.ValueString()))
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Server %s was created but did not finish provisioning", plan.ID.ValueString()), err, nil)
		return
	}
	stopFailed := false
	if wantPower.ValueString() == powerStopped {
		stopped, err := setPower(ctx, r.client, server, powerStopped)
		if err != nil {
			// The server is healthy; only the stop failed. Tainting it
			// would replace it on the next apply. It is saved as it is
			// (its status says running), with a warning; the next refresh
			// derives power_state from that status, and the plan shows
			// the stop again, nothing else.
			stopFailed = true
			resp.Diagnostics.AddWarning(fmt.Sprintf("Server %s was created but could not be stopped", plan.ID.ValueString()),
				fmt.Sprintf("It is saved as it is (status %q), not tainted; the next plan shows the stop again. Stopping it failed: %s",
					server.Status, err.Error()))
			if current, getErr := r.client.GetServer(ctx, server.ID); getErr == nil {
				server = current
			}
		} else {
			server = stopped
		}
	}
	// A wait ends on a full GET of the server: that is the read-back.
	resp.Diagnostics.Append(plan.fromAPI(server)...)
	if stopFailed {
		// Terraform wants the planned power_state back from an apply;
		// status tells the truth until the next refresh.
		plan.PowerState = wantPower
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serverResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state serverResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.ID.IsNull() {
		r.readPending(ctx, req, resp, &state)
		return
	}
	id, ok := parseServerID(&resp.Diagnostics, path.Root("id"), state.ID.ValueString(), idFromState)
	if !ok {
		return
	}
	// The identity is set before the GET: when the server is gone, the
	// framework still wants one (a 404 after an import, or on state
	// written without identity).
	resp.Diagnostics.Append(setServerIdentity(ctx, resp.Identity, state.ID)...)
	server, err := r.client.GetServer(ctx, id)
	importing := beingImported(ctx, req.Private)
	if errors.Is(err, vpsorg.ErrNotFound) && importing {
		addServerNotFoundError(&resp.Diagnostics, path.Empty(), id, "Only an existing server can be imported. "+findServers)
		return
	}
	if vpsorg.Answered404(err) {
		// Only a 404 the API stands behind removes the server: a wrong
		// base path or a proxy's page would otherwise empty the state.
		if err := r.client.ConfirmGone(ctx, id, err); err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d", id), err, nil)
			return
		}
		tflog.Warn(ctx, "server no longer exists, removing it from state", map[string]any{"id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d", id), err, nil)
		return
	}
	if importing {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, importingKey, nil)...)
	}
	noteRefreshed(r.client, id) // no collision for the plan: it is in state
	resp.Diagnostics.Append(state.fromAPI(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *serverResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state serverResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, plan.Timeouts.Update, defaultUpdateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	id, ok := parseServerID(&resp.Diagnostics, path.Root("id"), state.ID.ValueString(), idFromState)
	if !ok {
		return
	}

	// latest is the server as last seen in full, if it was: a read-back
	// is needed only when nothing showed it whole after the changes.
	var latest *vpsorg.Server
	if patch := plan.updateRequest(&state); !patch.IsEmpty() {
		server, err := r.client.UpdateServer(ctx, id, patch)
		if err != nil {
			addUpdateError(&resp.Diagnostics, fmt.Sprintf("Unable to update server %d", id), id, err, serverAttributePaths)
			return
		}
		if isDetailView(server, id) {
			latest = server
		}
	}

	if power, reboot := plan.powerChange(&state); power != "" || reboot {
		if latest = r.changePower(ctx, id, &plan, &state, &resp.Diagnostics); latest == nil {
			r.saveUnfinished(ctx, id, plan, state, resp)
			return
		}
	}

	if latest == nil {
		server, err := r.client.GetServer(ctx, id)
		if err != nil {
			addUpdateError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d after changing it", id), id, err, nil)
			return
		}
		latest = server
	}
	planned := plan
	resp.Diagnostics.Append(plan.fromAPI(latest)...)
	keepPlanned(&resp.Diagnostics, &plan, &planned)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setServerIdentity(ctx, resp.Identity, plan.ID)...)
}

func (r *serverResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state serverResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	var id int64
	if state.ID.IsNull() {
		// An unresolved create's placeholder (server_unresolved.go).
		if id, ok = pendingToDelete(ctx, r.client, req.Private, &resp.Diagnostics); !ok {
			return
		}
	} else if id, ok = parseServerID(&resp.Diagnostics, path.Root("id"), state.ID.ValueString(), idFromState); !ok {
		return
	}

	if state.ShutdownBeforeDelete.ValueBool() {
		shutDownBeforeDelete(ctx, r.client, id, &resp.Diagnostics)
	}
	err := r.client.DeleteServer(ctx, id)
	if vpsorg.Answered404(err) {
		// Gone already, if the API stands behind its 404.
		if err := r.client.ConfirmGone(ctx, id, err); err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Unable to delete server %d", id), err, nil)
		}
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Unable to delete server %d", id), err, nil)
		return
	}
	if err := r.client.WaitForDeleted(ctx, id); err != nil {
		summary := fmt.Sprintf("Server %d was deleted but did not disappear", id)
		if interrupted(ctx) {
			summary = fmt.Sprintf("Server %d was deleted; the wait for it to disappear was interrupted", id)
		}
		addError(&resp.Diagnostics, summary, err, nil)
	}
}

// interrupted reports whether ctx was cancelled by Terraform (Ctrl-C, which
// the framework passes on as a cancellation): the operation's deadline
// from the timeouts block is not an interrupt.
func interrupted(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// ImportState accepts the numeric id, or the identity; Read then fills in
// the rest, or tells Terraform that no such server exists.
func (r *serverResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, diags := importedServerID(ctx, req)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, importingKey, importingMark)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, originKey, []byte(originImported))...)
}

// originKey records in private state whether this provider created the
// server or imported it: only a server it created got its ssh_key_id at
// creation (sshKeyReplaces). States written before it have neither.
const (
	originKey      = "origin"
	originCreated  = `"created"`
	originImported = `"imported"`
)

// serverOrigin is originCreated, originImported or "" (not recorded).
func serverOrigin(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) string {
	origin, _ := private.GetKey(ctx, originKey)
	return string(origin)
}

// withTimeout bounds ctx by the operation's value from the timeouts block:
// the one deadline every wait in the operation answers to.
func withTimeout(ctx context.Context, timeout func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc, bool) {
	d, timeoutDiags := timeout(ctx, def)
	diags.Append(timeoutDiags...)
	if diags.HasError() {
		return ctx, func() {}, false
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, true
}

// isDetailView reports whether an answer shows the server whole, as a GET
// does. The PUT/PATCH answer is undocumented: only a full view is trusted,
// so that a partial one can never null a value in state.
func isDetailView(s *vpsorg.Server, id int64) bool {
	return s != nil && s.ID == id && s.BackupsEnabled != nil && s.ResourceUsage != nil && s.Plan.Bandwidth != nil
}
