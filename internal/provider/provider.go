// Package provider is the Terraform layer of the VPS.org provider: the
// provider configuration, the vpsorg_server resource, its list resource and
// power actions, and the server data sources. All API traffic goes through
// internal/vpsorg.
package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/vpsorg/vpsorg"

const (
	envEndpoint = "VPSORG_ENDPOINT"
	envToken    = "VPSORG_API_TOKEN"
)

var (
	_ provider.Provider                   = (*vpsorgProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*vpsorgProvider)(nil)
	_ provider.ProviderWithListResources  = (*vpsorgProvider)(nil)
	_ provider.ProviderWithActions        = (*vpsorgProvider)(nil)
)

type vpsorgProvider struct {
	version string
	// tune adjusts the client configuration before the client is built.
	// Tests use it to poll faster; users cannot reach it.
	tune func(*vpsorg.Config)
}

type vpsorgProviderModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	APIToken types.String `tfsdk:"api_token"`
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &vpsorgProvider{version: version} }
}

func (p *vpsorgProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "vpsorg"
	resp.Version = p.version
}

func (p *vpsorgProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The VPS.org provider manages servers on the [VPS.org](https://vps.org) cloud " +
			"through its Servers API v1.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of the API, including `/api/v1/`. May also be set with the `" +
					envEndpoint + "` environment variable. Defaults to `" + vpsorg.DefaultEndpoint + "`. " +
					"Plain `http://` is accepted only for a loopback host, such as the bundled emulator.",
				Optional: true,
			},
			"api_token": schema.StringAttribute{
				MarkdownDescription: "API token, sent as a bearer token. May also be set with the `" + envToken +
					"` environment variable, which keeps it out of configuration files.",
				Optional:  true,
				Sensitive: true,
			},
		},
	}
}

// ValidateConfig rejects a bad endpoint at plan time, before any request.
func (p *vpsorgProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var endpoint types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("endpoint"), &endpoint)...)
	if endpoint.IsNull() || endpoint.IsUnknown() {
		return
	}
	if err := checkEndpoint(endpoint.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid VPS.org API endpoint", err.Error())
	}
}

func (p *vpsorgProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config vpsorgProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if config.Endpoint.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Unknown VPS.org API endpoint",
			"The provider cannot build its API client while the endpoint is unknown. Set it to a known value, "+
				"apply the resource it depends on first with -target, or use the "+envEndpoint+" environment variable.")
	}
	if config.APIToken.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("api_token"), "Unknown VPS.org API token",
			"The provider cannot build its API client while the API token is unknown. Set it to a known value, "+
				"apply the resource it depends on first with -target, or use the "+envToken+" environment variable.")
	}
	if resp.Diagnostics.HasError() {
		return
	}

	endpoint := firstNonEmpty(config.Endpoint.ValueString(), os.Getenv(envEndpoint), vpsorg.DefaultEndpoint)
	token := firstNonEmpty(config.APIToken.ValueString(), os.Getenv(envToken))

	if err := checkEndpoint(endpoint); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid VPS.org API endpoint", err.Error())
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("api_token"), "Missing VPS.org API token",
			"The provider needs an API token. Set api_token in the provider block or, better, the "+
				envToken+" environment variable.")
	}
	if resp.Diagnostics.HasError() {
		return
	}

	cfg := vpsorg.Config{
		Endpoint:  endpoint,
		Token:     token,
		UserAgent: userAgent(p.version, req.TerraformVersion),
		Log: func(ctx context.Context, msg string, fields map[string]any) {
			ctx = tflog.MaskAllFieldValuesStrings(ctx, token)
			ctx = tflog.MaskMessageStrings(ctx, token)
			tflog.Debug(ctx, msg, fields)
			observeStatus(ctx, fields) // an action's progress
		},
	}
	if p.tune != nil {
		p.tune(&cfg)
	}
	client, err := vpsorg.New(cfg)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid VPS.org API endpoint", err.Error())
		return
	}
	resp.ResourceData = client
	resp.DataSourceData = client
	resp.ListResourceData = client
	resp.ActionData = client
}

func (p *vpsorgProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewServerResource}
}

func (p *vpsorgProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewServersDataSource, NewServerDataSource}
}

func (p *vpsorgProvider) ListResources(_ context.Context) []func() list.ListResource {
	return []func() list.ListResource{NewServerListResource}
}

func (p *vpsorgProvider) Actions(_ context.Context) []func() action.Action {
	return []func() action.Action{NewServerRebootAction, NewServerStartAction, NewServerStopAction}
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host:
// a token sent in clear text over a network is a token given away.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL; expected something like %s", raw, vpsorg.DefaultEndpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses plain http on a host that is not loopback; the API token would cross the "+
			"network in clear text. Use https, or http only with 127.0.0.1, ::1 or localhost (the emulator)", raw)
	default:
		return fmt.Errorf("%q has scheme %q; only https (and http on a loopback host) are allowed", raw, u.Scheme)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func userAgent(version, terraformVersion string) string {
	ua := "terraform-provider-vpsorg/" + version
	if terraformVersion != "" {
		ua += " Terraform/" + terraformVersion
	}
	return ua
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
