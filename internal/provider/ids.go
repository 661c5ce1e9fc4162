package provider

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// idSource says where a server id came from. Its messages differ by it: the
// advice that helps in a data source (look it up by name) is no help in an
// import, and none of it belongs to an id in state.
type idSource int

const (
	idFromState      idSource = iota // a vpsorg_server's state
	idFromImport                     // terraform import, an import block's id or identity
	idFromDataSource                 // the vpsorg_server data source's id argument
	idFromAction                     // an action's server_id
)

// findServers is where to find a server's id, for messages about a wrong
// or unknown one.
const findServers = "Find a server's id with the vpsorg_server data source (by name) or the vpsorg_servers " +
	"data source (every server, with its id); with Terraform 1.14 or later, `terraform query` with the " +
	"vpsorg_server list resource lists them too."

// parseID turns a state, import or data source id into the API's integer id.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// parseServerID parses id, given at attribute p, into the API's integer id; an
// id that is not a server id is reported on p, and ok is false.
func parseServerID(diags *diag.Diagnostics, p path.Path, id string, from idSource) (n int64, ok bool) {
	if n, ok = parseID(id); !ok {
		addInvalidIDError(diags, p, id, from)
	}
	return n, ok
}

// addInvalidIDError is the one wording for an id that is not a server id,
// with the advice that fits where it came from.
func addInvalidIDError(diags *diag.Diagnostics, p path.Path, id string, from idSource) {
	const what = "Server ids are positive integers, such as 12345: the id the API reports."
	switch from {
	case idFromImport:
		diags.AddError("Invalid server id to import",
			fmt.Sprintf("The id to import, %q, is not a server id. %s %s", id, what, findServers))
	case idFromDataSource:
		diags.AddAttributeError(p, "Invalid server id",
			fmt.Sprintf("id = %q is not a server id. %s To look a server up by its name, set name = %q instead of id.",
				id, what, id))
	case idFromAction:
		diags.AddAttributeError(p, "Invalid server id",
			fmt.Sprintf("server_id = %q is not a server id. %s Refer to the server's resource, such as "+
				"vpsorg_server.web.id. %s", id, what, findServers))
	default:
		diags.AddAttributeError(p, "Invalid server id",
			fmt.Sprintf("The state holds id %q, which is not a server id. %s Remove the resource from state "+
				"(terraform state rm) and import the server by its id.", id, what))
	}
}

// addServerNotFoundError is the one wording for a server that does not
// exist, wherever it was looked for; context, when not empty, says what
// was being done and what to do next. The error is on p unless p is empty.
func addServerNotFoundError(diags *diag.Diagnostics, p path.Path, id int64, context string) {
	detail := fmt.Sprintf("No server with id %d exists for this API token.", id)
	if context != "" {
		detail += " " + context
	}
	if len(p.Steps()) == 0 {
		diags.AddError("Server not found", detail)
		return
	}
	diags.AddAttributeError(p, "Server not found", detail)
}
