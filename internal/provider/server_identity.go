package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A server's resource identity (Terraform 1.12 and later) is the API's
// integer id, the one thing that names a server and never changes: updates,
// power changes and reboots keep it. The resource's "id" attribute holds the
// same number as a string, as it always has.

var _ resource.ResourceWithIdentity = (*serverResource)(nil)

// serverIdentityModel is the identity stored beside a server's state.
type serverIdentityModel struct {
	ID types.Int64 `tfsdk:"id"`
}

func (r *serverResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"id": identityschema.Int64Attribute{
				Description:       "The server's numeric id, as the API reports it.",
				RequiredForImport: true,
			},
		},
	}
}

// setServerIdentity records the identity of the server with the given state
// id. A nil identity (the resource served without identity support) is left
// alone.
func setServerIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, stateID types.String) diag.Diagnostics {
	if identity == nil {
		return nil
	}
	id, err := strconv.ParseInt(stateID.ValueString(), 10, 64)
	if err != nil {
		return nil // Read reports an id that is not a number; nothing to record.
	}
	return identity.Set(ctx, serverIdentityModel{ID: types.Int64Value(id)})
}

// importedServerID is the server id an import names: the string of
// `terraform import` and of an import block's id, or an import block's
// identity. The framework's ImportStatePassthroughWithIdentity wants a
// string identity attribute; ours is the API's integer.
func importedServerID(ctx context.Context, req resource.ImportStateRequest) (string, diag.Diagnostics) {
	var diags diag.Diagnostics
	if req.ID != "" || req.Identity == nil {
		parseServerID(&diags, path.Root("id"), req.ID, idFromImport)
		return req.ID, diags
	}
	var identity serverIdentityModel
	diags.Append(req.Identity.Get(ctx, &identity)...)
	if diags.HasError() {
		return "", diags
	}
	id := strconv.FormatInt(identity.ID.ValueInt64(), 10)
	if identity.ID.IsNull() || identity.ID.IsUnknown() || identity.ID.ValueInt64() <= 0 {
		addInvalidIDError(&diags, path.Root("id"), identity.ID.String(), idFromImport)
	}
	return id, diags
}

// importingKey marks, in private state, a server imported but not yet read.
// Read removes a server that is gone, which after an import would leave
// Terraform's generic "Cannot import non-existent remote object", with no
// id and no advice; with the mark, Read reports the provider's own error.
const importingKey = "importing"

var importingMark = []byte(`true`)

// beingImported reports whether private state carries the import mark.
func beingImported(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) bool {
	mark, _ := private.GetKey(ctx, importingKey)
	return len(mark) > 0
}
