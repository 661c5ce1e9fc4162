package provider

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

var (
	_ datasource.DataSource                     = (*serverDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*serverDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*serverDataSource)(nil)
)

// NewServerDataSource is the vpsorg_server data source's constructor.
func NewServerDataSource() datasource.DataSource {
	return &serverDataSource{}
}

type serverDataSource struct {
	client *vpsorg.Client
}

func (d *serverDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server"
}

func (d *serverDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := dataSourceComputed(serverDetailViewFields)
	attrs["id"] = schema.StringAttribute{
		MarkdownDescription: "The id of the server to look up. Exactly one of `id` and `name` must be set.",
		Optional:            true,
		Computed:            true,
	}
	attrs["name"] = schema.StringAttribute{
		MarkdownDescription: "The name of the server to look up; it must match exactly one server. " +
			"Exactly one of `id` and `name` must be set.",
		Optional: true,
		Computed: true,
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one server by id or by name and gives its full detail view, " +
			"resource usage included.",
		Attributes: attrs,
		Blocks:     map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx)},
	}
}

func (d *serverDataSource) ConfigValidators(_ context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *serverDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	var diags diag.Diagnostics
	d.client, diags = configuredClient(req.ProviderData)
	resp.Diagnostics.Append(diags...)
}

func (d *serverDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var data serverDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, data.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	var id int64
	// lookedUpBy is the argument the user gave: a server that is not found
	// is reported there.
	lookedUpBy, notFound := path.Root("id"), findServers
	if !data.ID.IsNull() {
		var ok bool
		if id, ok = parseServerID(&resp.Diagnostics, path.Root("id"), data.ID.ValueString(), idFromDataSource); !ok {
			return
		}
	} else {
		// The API has no name filter: read the whole list.
		servers, err := d.client.ListServers(ctx, vpsorg.ListServersOptions{})
		if err != nil {
			addError(&resp.Diagnostics, "Unable to list servers", err, nil)
			return
		}
		name := data.Name.ValueString()
		ids := idsByName(servers, name)
		switch len(ids) {
		case 0:
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Server not found", fmt.Sprintf("No server is named %q "+
				"for this API token. Names are matched exactly; the vpsorg_servers data source lists every server.", name))
			return
		case 1:
			id = ids[0]
		default:
			list := make([]string, len(ids))
			for i, id := range ids {
				list[i] = fmt.Sprint(id)
			}
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Several servers have that name",
				fmt.Sprintf("%d servers are named %q (ids %s); look one up by id instead.", len(ids), name, strings.Join(list, ", ")))
			return
		}
		lookedUpBy = path.Root("name")
		notFound = "It was listed under the name " + strconv.Quote(data.Name.ValueString()) +
			", then deleted while it was being looked up."
	}

	server, err := d.client.GetServer(ctx, id)
	if vpsorg.Answered404(err) {
		// "No such server" only when the API stands behind its 404.
		if err := d.client.ConfirmGone(ctx, id, err); err != nil {
			addError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d", id), err, nil)
			return
		}
		addServerNotFoundError(&resp.Diagnostics, lookedUpBy, id, notFound)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, fmt.Sprintf("Unable to read server %d", id), err, nil)
		return
	}
	resp.Diagnostics.Append(data.fromAPI(server)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

// idsByName lists the ids of the servers with that exact name, in order.
func idsByName(servers []vpsorg.Server, name string) []int64 {
	var ids []int64
	for _, s := range servers {
		if s.Name == name {
			ids = append(ids, s.ID)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// defaultReadTimeout bounds a data source's read, every page of a list
// included, unless its timeouts say otherwise.
const defaultReadTimeout = 5 * time.Minute
