package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A state whose id is not a server id (hand-edited, or written by a broken
// tool) must never become a request to servers/0/: Update and Delete stop
// with an error on id and send nothing.
func TestServerResource_badIDInStateSendsNoRequest(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's request log: that nothing was sent is not visible through the API")
	r := &serverResource{client: env.client}
	ctx := context.Background()

	stateWithID := func(id, name string) tfsdk.State {
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		st := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
		for p, v := range map[string]any{"id": id, "name": name} {
			if d := st.SetAttribute(ctx, path.Root(p), v); d.HasError() {
				t.Fatal(d)
			}
		}
		return st
	}

	for _, id := range []string{"abc", "0", "-3", ""} {
		state := stateWithID(id, "old")
		plan := stateWithID(id, "new")

		var del resource.DeleteResponse
		r.Delete(ctx, resource.DeleteRequest{State: state}, &del)
		expectErrorOnID(t, "Delete", id, del.Diagnostics)

		upd := resource.UpdateResponse{State: state}
		r.Update(ctx, resource.UpdateRequest{State: state, Plan: tfsdk.Plan(plan)}, &upd)
		expectErrorOnID(t, "Update", id, upd.Diagnostics)
	}
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("bad ids led to %d requests, want none: %+v", n, emu.Requests())
	}
}

func expectErrorOnID(t *testing.T, op, id string, diags diag.Diagnostics) {
	t.Helper()
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(path.Root("id")) && d.Summary() == "Invalid server id" {
			return
		}
	}
	t.Errorf("%s with id %q: want an \"Invalid server id\" error on id, got %v", op, id, diags)
}
