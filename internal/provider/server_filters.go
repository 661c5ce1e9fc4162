package provider

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The filters of the API's server list, offered alike by the vpsorg_servers
// data source and the vpsorg_server list resource: described, validated and
// sent one way.

// statusFilterDescription lists every documented status. The API filters
// by those it documents as filter values; the client filters by the others
// (vpsorg.ListServers).
var statusFilterDescription = "Only servers in this status: one of " + codeList(vpsorg.Statuses) + ". " +
	"The API filters by " + codeList(vpsorg.FilterStatuses) + ", the values it documents as filters; " +
	"for any other the provider reads the whole list and filters it."

const locationFilterDescription = "Only servers in this data-center location, such as `us-west`."

func statusFilterValidators() []validator.String {
	return []validator.String{stringvalidator.OneOf(vpsorg.Statuses...)}
}

// codeList writes values as Markdown code, separated by commas.
func codeList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + v + "`"
	}
	return strings.Join(quoted, ", ")
}

func locationFilterValidators() []validator.String {
	return []validator.String{stringvalidator.LengthAtLeast(1)}
}

// listOptions turns the filters into the list request's query parameters;
// an unset filter is not sent.
func listOptions(status, location types.String) vpsorg.ListServersOptions {
	return vpsorg.ListServersOptions{Status: status.ValueString(), Location: location.ValueString()}
}
