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
	statusFilterDescription = "Only servers in this status: one of `provisioning`, `active`, `stopped`, " +
		"`suspended`, `starting`, `stopping`, `rebooting`."
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
