package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

// notFoundAfterCreate is how many 404s in a row the wait after a create
// tolerates: a just-created server may not be readable at once.
const notFoundAfterCreate = 5

// clockSkew is how much earlier than our own clock a server's created_at may
// be and still count as made by our request, when a create's answer is lost.
const clockSkew = 5 * time.Second

var (
	nameRegexp     = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	hostnameRegexp = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))+$`)
)

// serverAttributePaths maps the API's field names to attribute paths, so
// that the API's field messages land on the attribute the user wrote.
var serverAttributePaths = map[string]path.Path{
	"name":            path.Root("name"),
	"hostname":        path.Root("hostname"),
	"plan_id":         path.Root("plan_id"),
	"os_id":           path.Root("os_id"),
	"location":        path.Root("location"),
	"ssh_key_id":      path.Root("ssh_key_id"),
	"backups_enabled": path.Root("backups_enabled"),
}

// NewServerResource is the vpsorg_server resource's constructor.
func NewServerResource() resource.Resource {
	return &serverResource{}
}

type serverResource struct {
	client *vpsorg.Client
}

type serverResourceModel struct {
	serverDetailFields
	PlanID        types.Int64    `tfsdk:"plan_id"`
	OSID          types.Int64    `tfsdk:"os_id"`
	SSHKeyID      types.Int64    `tfsdk:"ssh_key_id"`
	PowerState    types.String   `tfsdk:"power_state"`
	RebootTrigger types.String   `tfsdk:"reboot_trigger"`
	Timeouts      timeouts.Value `tfsdk:"timeouts"`
}

func (r *serverResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server"
}

func (r *serverResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A VPS.org server. Terraform creates it, waits until it is provisioned, keeps its " +
			"settings and (when `power_state` is set) its power state equal to the configuration, and deletes it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The server's numeric id, as a string.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "The server's name: 1 to 64 letters, digits and hyphens. Changes in place.",
				Required:            true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 64),
					stringvalidator.RegexMatches(nameRegexp, "must contain only letters, digits and hyphens"),
				},
			},
			"plan_id": schema.Int64Attribute{
				MarkdownDescription: "Id of the VPS plan (size). The API cannot change it: a change replaces the server.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"os_id": schema.Int64Attribute{
				MarkdownDescription: "Id of the operating system image. The API cannot change it: a change replaces the server.",
				Required:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"location": schema.StringAttribute{
				MarkdownDescription: "Data-center location code, such as `us-west` or `us-east`. " +
					"The API cannot change it: a change replaces the server.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"ssh_key_id": schema.Int64Attribute{
				MarkdownDescription: "Id of an SSH key to install at creation. The API does not report it back, " +
					"so it is kept as configured. Changing it replaces the server, except on an imported server, " +
					"where setting it only records the value.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
						resp.RequiresReplace = !req.StateValue.IsNull()
					},
					"Replaces the server when a recorded SSH key changes.",
					"Replaces the server when a recorded SSH key changes.",
				)},
			},
			"hostname": schema.StringAttribute{
				MarkdownDescription: "Fully qualified domain name, such as `web01.example.com`. Changes in place. " +
					"When unset, the value the API reports is kept.",
				Optional: true,
				Computed: true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(3, 253),
					stringvalidator.RegexMatches(hostnameRegexp, "must be a fully qualified domain name such as web01.example.com: "+
						"two or more dot-separated labels of letters, digits and hyphens, no label starting or ending with a hyphen"),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"backups_enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether automatic backups are enabled. Defaults to `false`. Changes in place.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"power_state": schema.StringAttribute{
				MarkdownDescription: "Desired power state: `running` or `stopped`. When set, Terraform starts or " +
					"stops the server to match. When unset, power is not managed: Terraform never switches the " +
					"server on or off, and the attribute reports where the server's status leads " +
					"(`starting` and `rebooting` count as `running`, `stopping` and `suspended` as `stopped`).",
				Optional:      true,
				Computed:      true,
				Validators:    []validator.String{stringvalidator.OneOf(powerRunning, powerStopped)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"reboot_trigger": schema.StringAttribute{
				MarkdownDescription: "Any string; when it changes from one non-null value to another while the " +
					"server is to stay running, Terraform reboots the server and waits until it is running again. " +
					"For example `reboot_trigger = sha1(local.app_config)`. Setting it where it was null (a new or " +
					"imported server) only records the value: adopting a server never restarts it.",
				Optional: true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "The status the API reports: `provisioning`, `active`, `stopped`, `suspended`, " +
					"`starting`, `stopping` or `rebooting`.",
				Computed: true,
			},
			"ip_address": schema.StringAttribute{
				MarkdownDescription: "Public IPv4 address, assigned once provisioning ends.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ipv6_address": schema.StringAttribute{
				MarkdownDescription: "Public IPv6 address, when the server has one.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"plan": schema.SingleNestedAttribute{
				MarkdownDescription: "The plan the server runs on, as the API describes it.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Object{objectplanmodifier.UseStateForUnknown()},
				Attributes:          planAttributes(true),
			},
			"os": schema.SingleNestedAttribute{
				MarkdownDescription: "The server's operating system, as the API describes it.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Object{objectplanmodifier.UseStateForUnknown()},
				Attributes:          osAttributes(),
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "When the server was created (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the server last changed (RFC 3339).",
				Computed:            true,
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
				Create:            true,
				CreateDescription: "How long to wait for a new server to be provisioned (and stopped, if asked). Default `15m`.",
				Update:            true,
				UpdateDescription: "How long an update may take, power changes and reboots included. Default `10m`.",
				Delete:            true,
				DeleteDescription: "How long to wait for a server to be gone. Default `10m`.",
			}),
		},
	}
}

func (r *serverResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, err := clientFrom(req.ProviderData)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected provider data", err.Error())
		return
	}
	r.client = client
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

	server, err := r.create(ctx, plan.createRequest())
	if err != nil {
		addError(&resp.Diagnostics, "Unable to create server", err, serverAttributePaths)
		return
	}

	// The server exists from here on: save it before waiting, so that a
	// failed or interrupted wait leaves it in state (tainted), never orphaned.
	wantPower := plan.PowerState
	resp.Diagnostics.Append(plan.fill(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "server created, waiting for provisioning", map[string]any{"id": server.ID})

	server, err = r.client.WaitForStatus(ctx, server.ID, vpsorg.WaitSpec{
		Target:            []string{vpsorg.StatusActive},
		Pending:           []string{vpsorg.StatusProvisioning},
		NotFoundTolerance: notFoundAfterCreate,
	})
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Server %s was created but did not finish provisioning", plan.ID.ValueString()), err, nil)
		return
	}
	if wantPower.ValueString() == powerStopped {
		if server, err = r.setPower(ctx, server, powerStopped); err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Server %s was created but could not be stopped", plan.ID.ValueString()), err, nil)
			return
		}
	}
	// A wait ends on a full GET of the server: that is the read-back.
	resp.Diagnostics.Append(plan.fill(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *serverResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state serverResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, ok := parseID(state.ID.ValueString())
	if !ok {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Invalid server id",
			fmt.Sprintf("The id %q is not a positive integer. Import servers by their numeric id, for example: terraform import vpsorg_server.web 12345", state.ID.ValueString()))
		return
	}
	server, err := r.client.GetServer(ctx, id)
	if errors.Is(err, vpsorg.ErrNotFound) {
		tflog.Warn(ctx, "server no longer exists, removing it from state", map[string]any{"id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d", id), err, nil)
		return
	}
	resp.Diagnostics.Append(state.fill(server)...)
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
	id, _ := parseID(state.ID.ValueString())

	// latest is the server as last seen in full, if it was: a read-back
	// is needed only when nothing showed it whole after the changes.
	var latest *vpsorg.Server
	if patch := plan.updateRequest(&state); !patch.IsEmpty() {
		server, err := r.client.UpdateServer(ctx, id, patch)
		if err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Unable to update server %d", id), err, serverAttributePaths)
			return
		}
		if isDetailView(server, id) {
			latest = server
		}
	}

	if wantsPower, wantsReboot := plan.powerChange(&state); wantsPower != "" || wantsReboot {
		server, err := r.client.GetServer(ctx, id)
		if err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d", id), err, nil)
			return
		}
		if server, err = r.settle(ctx, server); err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Unable to change the power state of server %d", id), err, nil)
			return
		}
		wasRunning := server.Status == vpsorg.StatusActive
		if wantsPower != "" {
			if server, err = r.setPower(ctx, server, wantsPower); err != nil {
				addError(&resp.Diagnostics, fmt.Sprintf("Unable to change the power state of server %d", id), err, nil)
				return
			}
		}
		// A reboot is owed only to a server that was running and stays
		// running: a start from stopped boots the new configuration anyway.
		if wantsReboot && wasRunning && server.Status == vpsorg.StatusActive {
			if server, err = r.act(ctx, server.ID, rebootAction); err != nil {
				addError(&resp.Diagnostics, fmt.Sprintf("Unable to reboot server %d", id), err, nil)
				return
			}
		}
		latest = server
	}

	if latest == nil {
		r.readInto(ctx, id, &plan, &resp.Diagnostics)
	} else {
		resp.Diagnostics.Append(plan.fill(latest)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
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
	id, _ := parseID(state.ID.ValueString())

	err := r.client.DeleteServer(ctx, id)
	if errors.Is(err, vpsorg.ErrNotFound) {
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Unable to delete server %d", id), err, nil)
		return
	}
	if err := r.client.WaitForDeleted(ctx, id); err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Server %d was deleted but did not disappear", id), err, nil)
	}
}

// ImportState accepts the numeric id; Read then fills in the rest, or tells
// Terraform that no such server exists.
func (r *serverResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if _, ok := parseID(req.ID); !ok {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("The import id %q is not a server id. Use the numeric id the API reports, for example: terraform import vpsorg_server.web 12345", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// create sends the POST. When its answer is lost after the API may have
// acted (a 5xx, a dropped connection, an interrupt), it never sends the POST
// again: it looks for the server the request made and adopts it.
func (r *serverResource) create(ctx context.Context, req vpsorg.CreateServerRequest) (*vpsorg.Server, error) {
	began := time.Now()
	server, err := r.client.CreateServer(ctx, req)
	if err == nil || !ambiguous(err) {
		return server, err
	}
	tflog.Warn(ctx, "the answer to a create was lost; looking for the server it may have made", map[string]any{"name": req.Name, "error": err.Error()})

	// An interrupt must not stop us from finding a server that may exist.
	lookup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	servers, listErr := r.client.ListServers(lookup, vpsorg.ListServersOptions{Location: req.Location})
	if listErr != nil {
		return nil, fmt.Errorf("%w; looking for the server it may have created also failed: %w", err, listErr)
	}
	made, pickErr := pickCreated(servers, req, began)
	if pickErr != nil {
		return nil, fmt.Errorf("%w; %w", err, pickErr)
	}
	tflog.Info(ctx, "adopted the server the lost create made", map[string]any{"id": made.ID})
	return made, nil
}

// pickCreated finds the one server a create made, among those listed after
// its answer was lost: same name, plan, OS and location, created after the
// request began (less clockSkew, as created_at has whole seconds and clocks
// differ). Older servers of the same name are someone else's.
func pickCreated(servers []vpsorg.Server, req vpsorg.CreateServerRequest, began time.Time) (*vpsorg.Server, error) {
	var made []vpsorg.Server
	for _, s := range servers {
		if s.Name != req.Name || s.Plan.ID != req.PlanID || s.OS.ID != req.OSID || s.Location != req.Location {
			continue
		}
		if created, err := time.Parse(time.RFC3339, s.CreatedAt); err == nil && !created.Before(began.Add(-clockSkew)) {
			made = append(made, s)
		}
	}
	switch len(made) {
	case 1:
		return &made[0], nil
	case 0:
		return nil, fmt.Errorf("no server named %q was created since the request began, so none was made", req.Name)
	}
	return nil, fmt.Errorf("%d servers named %q were created since the request began, and which one this "+
		"request made cannot be told. Import the right one and delete the others:\n%s", len(made), req.Name, importCommands(made))
}

// ambiguous reports whether a failed create may still have made a server.
func ambiguous(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	var apiErr *vpsorg.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.StatusCode == 0, apiErr.StatusCode >= http.StatusInternalServerError,
			apiErr.StatusCode == http.StatusRequestTimeout:
			return true
		case apiErr.StatusCode >= 200 && apiErr.StatusCode < 300:
			return true // the API acted, but its answer could not be read
		}
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func importCommands(servers []vpsorg.Server) string {
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	lines := make([]string, 0, len(servers))
	for _, s := range servers {
		lines = append(lines, fmt.Sprintf("  server %d (created %s): terraform import <address> %d", s.ID, s.CreatedAt, s.ID))
	}
	return strings.Join(lines, "\n")
}

// settle waits out a transition in progress, so that power decisions are
// taken on a status that will not change under them.
func (r *serverResource) settle(ctx context.Context, server *vpsorg.Server) (*vpsorg.Server, error) {
	switch server.Status {
	case vpsorg.StatusProvisioning, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusStopping:
		return r.client.WaitForStatus(ctx, server.ID, vpsorg.WaitSpec{
			Target:  []string{vpsorg.StatusActive, vpsorg.StatusStopped, vpsorg.StatusSuspended},
			Pending: []string{vpsorg.StatusProvisioning, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusStopping},
		})
	}
	return server, nil
}

// setPower starts or stops a settled server and waits for the result; a
// server already in the wanted state is left alone.
func (r *serverResource) setPower(ctx context.Context, server *vpsorg.Server, want string) (*vpsorg.Server, error) {
	switch {
	case server.Status == vpsorg.StatusSuspended:
		return nil, fmt.Errorf("server %d is suspended (for example for billing), so it cannot be %s; "+
			"contact VPS.org to lift the suspension, or remove power_state from the configuration", server.ID, verbFor(want))
	case want == powerRunning && server.Status == vpsorg.StatusActive,
		want == powerStopped && server.Status == vpsorg.StatusStopped:
		return server, nil
	case want == powerRunning && server.Status == vpsorg.StatusStopped:
		return r.act(ctx, server.ID, startAction)
	case want == powerStopped && server.Status == vpsorg.StatusActive:
		return r.act(ctx, server.ID, stopAction)
	default:
		return nil, fmt.Errorf("server %d is in status %q, from which it cannot be %s", server.ID, server.Status, verbFor(want))
	}
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

// act sends a power action once and waits until the server reaches where it
// leads. When the answer is lost, or the API refuses because the server has
// moved on, the server's status decides whether the action took effect: an
// action is never sent twice. A reboot whose answer is lost and whose server
// is active again cannot be told from one that never happened; it fails
// rather than reboot twice.
func (r *serverResource) act(ctx context.Context, id int64, a powerAction) (*vpsorg.Server, error) {
	if _, err := a.send(r.client, ctx, id); err != nil {
		var apiErr *vpsorg.APIError
		unclear := ambiguous(err) || (errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest)
		if !unclear {
			return nil, err
		}
		server, getErr := r.client.GetServer(ctx, id)
		if getErr != nil {
			return nil, err
		}
		tookEffect := server.Status == a.transient || (server.Status == a.to && a.to != a.from)
		if !tookEffect {
			return nil, fmt.Errorf("%w; the server is now %q, and the request is not repeated", err, server.Status)
		}
		tflog.Info(ctx, "power action took effect despite its answer", map[string]any{"id": id, "status": server.Status})
	}
	return r.client.WaitForStatus(ctx, id, vpsorg.WaitSpec{
		Target:  []string{a.to},
		Pending: []string{a.from, a.transient},
	})
}

// readInto reads the detail view into the model after a change.
func (r *serverResource) readInto(ctx context.Context, id int64, m *serverResourceModel, diags *diag.Diagnostics) {
	server, err := r.client.GetServer(ctx, id)
	if err != nil {
		addError(diags, fmt.Sprintf("Unable to read server %d after changing it", id), err, nil)
		return
	}
	diags.Append(m.fill(server)...)
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

func verbFor(power string) string {
	if power == powerStopped {
		return "stopped"
	}
	return "started"
}

// fill maps the API server into the resource model. A status the provider
// does not know is a warning, never a failed refresh: the power state then
// keeps its prior value.
func (m *serverResourceModel) fill(s *vpsorg.Server) diag.Diagnostics {
	var diags diag.Diagnostics
	m.serverDetailFields.fill(s)
	m.PlanID = types.Int64Value(s.Plan.ID)
	m.OSID = types.Int64Value(s.OS.ID)
	if m.BackupsEnabled.IsUnknown() {
		m.BackupsEnabled = types.BoolNull()
	}
	if power, ok := powerStateOf(s.Status); ok {
		m.PowerState = types.StringValue(power)
	} else {
		diags.AddWarning("Unknown server status",
			fmt.Sprintf("Server %d reports status %q, which this provider version does not know. "+
				"Its power state is left as it was; the rest of its state was refreshed.", s.ID, s.Status))
		if m.PowerState.IsUnknown() {
			m.PowerState = types.StringNull()
		}
	}
	return diags
}

// createRequest builds the POST body from the plan.
func (m *serverResourceModel) createRequest() vpsorg.CreateServerRequest {
	return vpsorg.CreateServerRequest{
		Name:           m.Name.ValueString(),
		PlanID:         m.PlanID.ValueInt64(),
		OSID:           m.OSID.ValueInt64(),
		Location:       m.Location.ValueString(),
		Hostname:       knownString(m.Hostname),
		SSHKeyID:       knownInt64(m.SSHKeyID),
		BackupsEnabled: knownBool(m.BackupsEnabled),
	}
}

// updateRequest builds the PATCH body: only the settings the plan changes.
func (m *serverResourceModel) updateRequest(state *serverResourceModel) vpsorg.UpdateServerRequest {
	var req vpsorg.UpdateServerRequest
	if !m.Name.Equal(state.Name) {
		req.Name = m.Name.ValueStringPointer()
	}
	if !m.Hostname.Equal(state.Hostname) {
		req.Hostname = knownString(m.Hostname)
	}
	if !m.BackupsEnabled.Equal(state.BackupsEnabled) {
		req.BackupsEnabled = knownBool(m.BackupsEnabled)
	}
	return req
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

// knownString and its kin give nil for null and unknown values alike: an
// unknown value must never reach the API as a zero value.
func knownString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueStringPointer()
}

func knownInt64(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueInt64Pointer()
}

func knownBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueBoolPointer()
}
