package main

import (
	"context"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	vpsorgprovider "github.com/vpsorg/terraform-provider-vpsorg/internal/provider"
)

// The probe names the attributes whose change plans a replacement, at any
// depth of single nesting, and no others: not an attribute changed in
// place, not one with another plan modifier, not a computed-only one.
func TestRequiresReplace_namesTheAttributesWhoseChangeReplaces(t *testing.T) {
	got := probe(t, providerserver.NewProtocol6WithError(&probeProvider{}))
	want := map[string][]string{"probe_thing": {"always", "block.inner_bool", "list", "nested.inner"}}
	if !slices.Equal(got["probe_thing"], want["probe_thing"]) || len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRequiresReplace_provider(t *testing.T) {
	got := probe(t, providerserver.NewProtocol6WithError(vpsorgprovider.New("test")()))
	want := []string{"location", "os_id", "plan_id", "ssh_key_id"}
	if !slices.Equal(got["vpsorg_server"], want) || len(got) != 1 {
		t.Errorf("got %v, want vpsorg_server: %v", got, want)
	}
}

func probe(t *testing.T, newServer func() (tfprotov6.ProviderServer, error)) map[string][]string {
	t.Helper()
	server, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := requiresReplace(ctx, server, resp.ResourceSchemas)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

type probeProvider struct{}

func (*probeProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "probe"
}
func (*probeProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (*probeProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (*probeProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (*probeProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return probeResource{} }}
}

type probeResource struct{}

func (probeResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "probe_thing"
}

func (probeResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id":       schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"always":   schema.StringAttribute{Required: true, PlanModifiers: replace},
			"in_place": schema.StringAttribute{Optional: true},
			"kept":     schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"computed": schema.StringAttribute{Computed: true, PlanModifiers: replace},
			"list": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()}},
			"nested": schema.SingleNestedAttribute{Optional: true, Attributes: map[string]schema.Attribute{
				"inner": schema.Int64Attribute{Optional: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}},
				"other": schema.Int64Attribute{Optional: true},
			}},
		},
		Blocks: map[string]schema.Block{
			"block": schema.SingleNestedBlock{Attributes: map[string]schema.Attribute{
				"inner_bool": schema.BoolAttribute{Optional: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
			}},
		},
	}
}

func (probeResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {}
func (probeResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse)       {}
func (probeResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {}
func (probeResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
