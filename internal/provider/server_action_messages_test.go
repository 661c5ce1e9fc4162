package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// What an action says must be what happened. These call Invoke directly, so
// that they run on every Terraform (actions need 1.14 to run from the CLI).

// invokeAction runs a power action on serverID and returns its progress
// messages and diagnostics.
func invokeAction(t *testing.T, env *testEnv, a action.Action, serverID string) ([]string, diag.Diagnostics) {
	t.Helper()
	ctx := context.Background()
	pa := a.(*serverPowerAction)
	pa.client = env.client
	var schemaResp action.SchemaResponse
	pa.Schema(ctx, action.SchemaRequest{}, &schemaResp)
	objType := schemaResp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	config := tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(objType, map[string]tftypes.Value{
		"server_id": tftypes.NewValue(tftypes.String, serverID),
		"timeouts":  tftypes.NewValue(objType.AttributeTypes["timeouts"], nil),
	})}
	var messages []string
	resp := action.InvokeResponse{SendProgress: func(e action.InvokeProgressEvent) { messages = append(messages, e.Message) }}
	pa.Invoke(ctx, action.InvokeRequest{Config: config}, &resp)
	return messages, resp.Diagnostics
}

// A start the API refuses because the server is already running reports
// that, not "active after 0s" as if it had started it.
func TestServerStartAction_onARunningServerSaysItWasAlreadyRunning(t *testing.T) {
	env := newTestEnv(t)
	id := env.seedServers(serverSpec{name: "up"})[0].ID
	messages, diags := invokeAction(t, env, NewServerStartAction(), fmt.Sprint(id))
	if diags.HasError() {
		t.Fatalf("the start failed: %v", diags)
	}
	last := messages[len(messages)-1]
	want := fmt.Sprintf("Server %d was already running: the API refused the start (", id)
	if !strings.HasPrefix(last, want) || !strings.HasSuffix(last, "), and nothing was changed") {
		t.Errorf("the last message is %q, want %q...\"), and nothing was changed\"", last, want)
	}
	for _, m := range messages {
		if strings.Contains(m, " after ") {
			t.Errorf("a message reports a change that did not happen: %q", m)
		}
	}
}

// A start of a server that does not exist has the one wording for a missing
// server, on server_id.
func TestServerStartAction_onAServerThatDoesNotExist(t *testing.T) {
	env := newTestEnv(t)
	_, diags := invokeAction(t, env, NewServerStartAction(), "999999999")
	if len(diags) != 1 || diags[0].Summary() != "Server not found" ||
		!strings.HasPrefix(diags[0].Detail(), "No server with id 999999999 exists for this API token. The start was not sent.") {
		t.Fatalf("want one \"Server not found\" error, got %v", diags)
	}
	if wp, ok := diags[0].(diag.DiagnosticWithPath); !ok || !wp.Path().Equal(path.Root("server_id")) {
		t.Errorf("the error is not on server_id: %v", diags)
	}
}
