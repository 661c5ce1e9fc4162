package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

var (
	_ list.ListResource              = (*serverListResource)(nil)
	_ list.ListResourceWithConfigure = (*serverListResource)(nil)
)

// NewServerListResource is the vpsorg_server list resource's constructor:
// `terraform query` (Terraform 1.14 and later) finds servers with it, and
// -generate-config-out turns what it finds into import blocks and resource
// configuration.
func NewServerListResource() list.ListResource {
	return &serverListResource{}
}

type serverListResource struct {
	client *vpsorg.Client
}

// serverListConfigModel is the list block's config: the API's filters.
type serverListConfigModel struct {
	Status   types.String `tfsdk:"status"`
	Location types.String `tfsdk:"location"`
}

func (l *serverListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server"
}

func (l *serverListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the account's servers for `terraform query`, optionally filtered by status " +
			"and location; every page of the API's answer is read. `list` blocks go in a file whose name ends " +
			"in `.tfquery.hcl`, beside the configuration's `.tf` files, where `terraform query` (Terraform 1.14 " +
			"or later) reads them. Each result is a " +
			"server's identity (its numeric id) with its name as display name. " +
			"A list costs one request per page of servers; with `include_resource = true` (which " +
			"`-generate-config-out` implies), one more GET per result, because only the detail view has " +
			"`backups_enabled`, `ipv6_address` and `plan.bandwidth`. The resource object leaves `power_state` " +
			"null, so that configuration generated from it adopts a server without managing its power; set " +
			"`power_state` afterwards to have Terraform start or stop it.",
		Attributes: map[string]schema.Attribute{
			"status": schema.StringAttribute{
				MarkdownDescription: statusFilterDescription,
				Optional:            true,
				Validators:          statusFilterValidators(),
			},
			"location": schema.StringAttribute{
				MarkdownDescription: locationFilterDescription,
				Optional:            true,
				Validators:          locationFilterValidators(),
			},
		},
	}
}

func (l *serverListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	var diags diag.Diagnostics
	l.client, diags = configuredClient(req.ProviderData)
	resp.Diagnostics.Append(diags...)
}

func (l *serverListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var config serverListConfigModel
	if diags := req.Config.Get(ctx, &config); diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	stream.Results = func(push func(list.ListResult) bool) {
		// The query has no timeouts of its own: the list's pages are read
		// under the data sources' default.
		ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
		defer cancel()
		servers, err := l.client.ListServers(ctx, listOptions(config.Status, config.Location))
		if err != nil {
			var diags diag.Diagnostics
			addError(&diags, "Unable to list servers", err, nil)
			push(list.ListResult{Diagnostics: diags})
			return
		}
		sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })

		sent := int64(0)
		for i := range servers {
			if req.Limit > 0 && sent >= req.Limit {
				return
			}
			result, exists := l.result(ctx, req, &servers[i])
			if !exists {
				continue
			}
			sent++
			if !push(result) || result.Diagnostics.HasError() {
				return
			}
		}
	}
}

// result is one server found: its identity and name and, when Terraform
// asks for the resource object, the server as the resource would read it.
// exists is false for a server deleted since the list was read.
func (l *serverListResource) result(ctx context.Context, req list.ListRequest, listed *vpsorg.Server) (list.ListResult, bool) {
	result := req.NewListResult(ctx)
	result.DisplayName = listed.Name
	result.Diagnostics.Append(result.Identity.Set(ctx, serverIdentityModel{ID: types.Int64Value(listed.ID)})...)
	if !req.IncludeResource || result.Diagnostics.HasError() {
		return result, true
	}

	server, err := l.client.GetServer(ctx, listed.ID)
	if errors.Is(err, vpsorg.ErrNotFound) {
		return result, false
	}
	if err != nil {
		addError(&result.Diagnostics, fmt.Sprintf("Unable to read server %d", listed.ID), err, nil)
		return result, true
	}
	var model serverResourceModel
	// A null timeouts object of the schema's type.
	result.Diagnostics.Append(result.Resource.GetAttribute(ctx, path.Root("timeouts"), &model.Timeouts)...)
	result.Diagnostics.Append(model.fromAPI(server)...)
	// Generated configuration writes every optional value the object holds:
	// a power_state here would make adopting a server start managing its
	// power. Left null, it stays computed from the status, as on a server
	// imported into configuration without it.
	model.PowerState = types.StringNull()
	result.Diagnostics.Append(result.Resource.Set(ctx, &model)...)
	return result, true
}
