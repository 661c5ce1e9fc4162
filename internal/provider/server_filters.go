package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The filters of the API's server list, offered alike by the vpsorg_servers
// data source and the vpsorg_server list resource: described, validated and
// sent one way.

const (
	statusFilterDescription = "Only servers in this status. The API documents `active`, `stopped` and " +
		"`suspended` as filter values and filters by them; other statuses (`provisioning`, `starting`, " +
		"`stopping`, `rebooting`) are filtered by the provider after reading the list."
	locationFilterDescription = "Only servers in this data-center location, such as `us-west`."
)

func statusFilterValidators() []validator.String {
	return []validator.String{stringvalidator.OneOf(documentedStatuses...)}
}

func locationFilterValidators() []validator.String {
	return []validator.String{stringvalidator.LengthAtLeast(1)}
}

// listOptions turns the filters into the list request's query parameters;
// an unset filter is not sent.
func listOptions(status, location types.String) vpsorg.ListServersOptions {
	return vpsorg.ListServersOptions{Status: status.ValueString(), Location: location.ValueString()}
}
