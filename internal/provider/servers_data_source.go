package provider

import (
	"context"
	"net/url"
	"sort"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

var (
	_ datasource.DataSource              = (*serversDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*serversDataSource)(nil)
)

// NewServersDataSource is the vpsorg_servers data source's constructor.
func NewServersDataSource() datasource.DataSource {
	return &serversDataSource{}
}

type serversDataSource struct {
	client *vpsorg.Client
}

type serversDataSourceModel struct {
	ID       types.String       `tfsdk:"id"`
	Status   types.String       `tfsdk:"status"`
	Location types.String       `tfsdk:"location"`
	Servers  []serverListFields `tfsdk:"servers"`
	Timeouts dstimeouts.Value   `tfsdk:"timeouts"`
}

func (d *serversDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_servers"
}

func (d *serversDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the account's servers, optionally filtered by status and location. " +
			"The filters are applied by the API where it documents them; every page of the answer is read, " +
			"and a list of several pages is read again until two reads agree, so a server created or deleted meanwhile " +
			"never hides one that stayed; a list that keeps changing fails, saying so. " +
			"A filter that matches nothing gives an empty list.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "A stable id derived from the filters, such as `location=us-west&status=active` (`all` without filters).",
				Computed:            true,
			},
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
			"servers": schema.ListNestedAttribute{
				MarkdownDescription: "The matching servers, sorted by id, with the fields the API's list view gives.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: dataSourceComputed(serverListViewFields)},
			},
		},
		Blocks: map[string]schema.Block{"timeouts": dataSourceTimeoutsBlock(ctx)},
	}
}

func (d *serversDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	var diags diag.Diagnostics
	d.client, diags = configuredClient(req.ProviderData)
	resp.Diagnostics.Append(diags...)
}

func (d *serversDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var data serversDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, data.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	opts := listOptions(data.Status, data.Location)
	servers, err := d.client.ListServers(ctx, opts)
	if err != nil {
		addError(&resp.Diagnostics, "Unable to list servers", err, nil)
		return
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })

	data.Servers = make([]serverListFields, len(servers))
	for i := range servers {
		resp.Diagnostics.Append(data.Servers[i].fromAPI(&servers[i])...)
	}
	data.ID = types.StringValue(filterID(opts))
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

func filterID(opts vpsorg.ListServersOptions) string {
	q := url.Values{}
	if opts.Status != "" {
		q.Set("status", opts.Status)
	}
	if opts.Location != "" {
		q.Set("location", opts.Location)
	}
	if len(q) == 0 {
		return "all"
	}
	return q.Encode()
}
