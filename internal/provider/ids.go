package provider

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// parseID turns a state, import or data source id into the API's integer id.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// parseServerID parses id, given at attribute p, into the API's integer id; an
// id that is not a server id is reported on p, and ok is false.
func parseServerID(diags *diag.Diagnostics, p path.Path, id string) (n int64, ok bool) {
	if n, ok = parseID(id); !ok {
		addInvalidIDError(diags, p, id)
	}
	return n, ok
}

// addInvalidIDError is the one wording for an id that is not a server id,
// wherever it came from (state, an import, a data source argument).
func addInvalidIDError(diags *diag.Diagnostics, p path.Path, id string) {
	diags.AddAttributeError(p, "Invalid server id",
		fmt.Sprintf("%q is not a server id. Server ids are the positive integers the API reports, such as \"12345\"; "+
			"import a server with, for example: terraform import vpsorg_server.web 12345", id))
}
