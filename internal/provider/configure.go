package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// providerData is what the provider's Configure hands every resource, data
// source, list resource and action.
type providerData struct {
	client *vpsorg.Client
	// offline is skip_credentials_validation: plans that must not reach
	// the API, so a plan sends no request beyond the refresh Terraform asks
	// for (no look for servers that already exist under a planned name).
	offline bool
}

// configuredClient is the one Configure of every resource, data source, list
// resource and action: it turns the provider's data into the API client.
// Nil data is normal during validation, before the provider is configured;
// the client is then nil and the caller is not called to act.
func configuredClient(data any) (*vpsorg.Client, diag.Diagnostics) {
	d, diags := configuredData(data)
	return d.client, diags
}

// configuredData is configuredClient with the provider's other settings.
func configuredData(data any) (providerData, diag.Diagnostics) {
	var diags diag.Diagnostics
	if data == nil {
		return providerData{}, diags
	}
	d, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. Please report this issue to the provider developers.", data))
		return providerData{}, diags
	}
	return *d, diags
}
