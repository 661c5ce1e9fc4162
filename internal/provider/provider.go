// Package provider is the Terraform layer of the VPS.org provider: the
// provider configuration, the vpsorg_server resource, its list resource and
// power actions, and the server data sources. All API traffic goes through
// internal/vpsorg.
package provider

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/vpsorg/vpsorg"

const (
	envEndpoint       = "VPSORG_ENDPOINT"
	envToken          = "VPSORG_API_TOKEN"
	envMaxRequestRate = "VPSORG_MAX_REQUESTS_PER_SECOND"
	envSkipCheck      = "VPSORG_SKIP_CREDENTIALS_VALIDATION"
	envCAFile         = "VPSORG_CA_FILE"
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
	Endpoint             types.String  `tfsdk:"endpoint"`
	APIToken             types.String  `tfsdk:"api_token"`
	MaxRequestsPerSecond types.Float64 `tfsdk:"max_requests_per_second"`
	SkipCredentialsCheck types.Bool    `tfsdk:"skip_credentials_validation"`
	CAFile               types.String  `tfsdk:"ca_file"`
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
					"` environment variable, which keeps it out of configuration files. Whitespace around it (the " +
					"newline `file(\"token.txt\")` keeps) is ignored.",
				Optional:  true,
				Sensitive: true,
			},
			"ca_file": schema.StringAttribute{
				MarkdownDescription: "Path of a PEM file of certificate authorities to trust for the endpoint, in addition " +
					"to the system's: a private CA, the CA of a TLS-inspecting proxy, or the one `vpsorg-emulator -tls` " +
					"writes. May also be set with the `" + envCAFile + "` environment variable.",
				Optional: true,
			},
			"max_requests_per_second": schema.Float64Attribute{
				MarkdownDescription: "A cap on the provider's own request rate, shared by every operation of one " +
					"Terraform run (polls included), for accounts whose API quota is shared with other tools. " +
					"May also be set with the `" + envMaxRequestRate + "` environment variable. Unset by default: " +
					"the provider then paces itself only when the API answers `429`, holding every request until the " +
					"`Retry-After` has passed and sending more slowly for a while after.",
				Optional:   true,
				Validators: []validator.Float64{float64validator.AtLeast(0.01)},
			},
			"skip_credentials_validation": schema.BoolAttribute{
				MarkdownDescription: "When the provider is configured it reads the first page of the server list " +
					"once, so that a refused token or a wrong endpoint is one error naming the setting and where its " +
					"value came from, before any resource is touched. Set `true` (or the `" + envSkipCheck +
					"` environment variable to `true`) to skip that request, for plans that must not reach the API. " +
					"Default `false`.",
				Optional: true,
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
	if config.CAFile.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("ca_file"), "Unknown CA bundle",
			"The provider cannot build its API client while ca_file is unknown. Set it to a known path "+
				"or use the "+envCAFile+" environment variable.")
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
	// A token read with file() ends with a newline, never part of it.
	token := firstNonEmpty(strings.TrimSpace(config.APIToken.ValueString()), strings.TrimSpace(os.Getenv(envToken)))

	if err := checkEndpoint(endpoint); err != nil {
		from := settingsFrom(config).endpoint
		addSettingError(&resp.Diagnostics, from, "Invalid VPS.org API endpoint",
			fmt.Sprintf("%s.\n\nThe endpoint came from %s.", strings.TrimSuffix(err.Error(), "."), from.from))
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("api_token"), "Missing VPS.org API token",
			"The provider needs an API token. Set api_token in the provider block or, better, the "+
				envToken+" environment variable.")
	} else if err := checkToken(token); err != nil {
		from := settingsFrom(config).token
		addSettingError(&resp.Diagnostics, from, "Invalid VPS.org API token", fmt.Sprintf("%s. Copy the token again without it.\n\nThe API token came from %s.", upperFirst(err.Error()), from.from))
	}
	maxRate, ok := maxRequestRate(config.MaxRequestsPerSecond, &resp.Diagnostics)
	roots := trustedRoots(firstNonEmpty(config.CAFile.ValueString(), os.Getenv(envCAFile)), &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}

	cfg := vpsorg.Config{
		MaxRequestsPerSecond: maxRate,
		RootCAs:              roots,
		PaceFile:             paceFile(),
		Endpoint:             endpoint,
		Token:                token,
		UserAgent:            userAgent(p.version, req.TerraformVersion),
		Log: func(ctx context.Context, msg string, fields map[string]any) {
			ctx = tflog.MaskAllFieldValuesStrings(ctx, token)
			ctx = tflog.MaskMessageStrings(ctx, token)
			tflog.Debug(ctx, msg, fields)
			observeStatus(ctx, fields) // an action's progress
		},
		Warn: func(ctx context.Context, msg string, fields map[string]any) {
			ctx = tflog.MaskAllFieldValuesStrings(ctx, token)
			ctx = tflog.MaskMessageStrings(ctx, token)
			tflog.Warn(ctx, msg, fields)
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
	skip, ok := skipCredentialsCheck(config.SkipCredentialsCheck, &resp.Diagnostics)
	if !ok {
		return
	}
	if !skip {
		checkCredentials(ctx, client, settingsFrom(config), &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	data := &providerData{client: client, offline: skip}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ListResourceData = data
	resp.ActionData = data
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

// maxRequestRate is max_requests_per_second, or else the environment
// variable's value, or 0 (unset). A bad environment value is an error on
// the attribute it stands for.
func maxRequestRate(v types.Float64, diags *diag.Diagnostics) (float64, bool) {
	if v.IsUnknown() {
		diags.AddAttributeError(path.Root("max_requests_per_second"), "Unknown maximum request rate",
			"The provider cannot build its API client while max_requests_per_second is unknown. Set it to a known value "+
				"or use the "+envMaxRequestRate+" environment variable.")
		return 0, false
	}
	if !v.IsNull() {
		return v.ValueFloat64(), true
	}
	raw := os.Getenv(envMaxRequestRate)
	if raw == "" {
		return 0, true
	}
	rate, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || rate < 0.01 || math.IsInf(rate, 0) {
		diags.AddAttributeError(path.Root("max_requests_per_second"), "Invalid maximum request rate",
			fmt.Sprintf("The %s environment variable is %q; it must be a number of requests per second, at least 0.01 "+
				"(for example 5 or 0.5).", envMaxRequestRate, raw))
		return 0, false
	}
	return rate, true
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host:
// a token sent in clear text over a network is a token given away. An
// endpoint with a user name or password is refused, and its messages never
// repeat them.
func checkEndpoint(raw string) error {
	shown := withoutCredentials(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL; expected something like %s", shown, vpsorg.DefaultEndpoint)
	}
	if u.User != nil {
		return fmt.Errorf("%q contains a user name or password; the API takes only a token: "+
			"remove them from the endpoint and set api_token (or %s)", shown, envToken)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if vpsorg.IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses plain http on a host that is not loopback; the API token would cross the "+
			"network in clear text. Use https, or http only with 127.0.0.1, ::1 or localhost (the emulator)", shown)
	default:
		return fmt.Errorf("%q has scheme %q; only https (and http on a loopback host) are allowed", shown, u.Scheme)
	}
}

// withoutCredentials hides whatever stands before an "@" in a URL's
// authority, parsable or not, so that an error can show the rest.
func withoutCredentials(raw string) string {
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	return scheme + "***@" + rest[at+1:]
}

// checkToken refuses a token that HTTP cannot carry in a header: a control
// character inside it (whitespace around it is trimmed before). Its
// message never shows the token.
func checkToken(token string) error {
	for i, r := range token {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("the API token holds a control character (such as a newline or a tab) at byte %d, "+
				"which cannot be sent in an HTTP header", i+1)
		}
	}
	return nil
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
