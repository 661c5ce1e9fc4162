package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// configuredClient is the one Configure of every resource, data source, list
// resource and action: it turns the provider's data into the API client.
// Nil data is normal during validation, before the provider is configured;
// the client is then nil and the caller is not called to act.
func configuredClient(data any) (*vpsorg.Client, diag.Diagnostics) {
	var diags diag.Diagnostics
	if data == nil {
		return nil, diags
	}
	client, ok := data.(*vpsorg.Client)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *vpsorg.Client, got %T. Please report this issue to the provider developers.", data))
	}
	return client, diags
}
