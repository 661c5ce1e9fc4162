package provider

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// The protocol tests (TestProtocol*) drive the provider in process through
// its protocol-6 server, the way Terraform does, with no Terraform CLI: they
// call the RPCs that resource identity, the list resource, generated
// configuration and the actions use, which the CLI tests can only reach with
// Terraform 1.12 to 1.14 and later. Values cross the protocol as msgpack
// DynamicValues built from tftypes, as Terraform sends them. Like the
// acceptance tests they run against the emulator in process, or against the
// endpoint in VPSORG_ENDPOINT and VPSORG_API_TOKEN (see newTestEnv).

// Type names the tests ask for, as Terraform names them.
const (
	serverType       = "vpsorg_server"
	startActionType  = "vpsorg_server_start"
	stopActionType   = "vpsorg_server_stop"
	rebootActionType = "vpsorg_server_reboot"
)

// protocolServer is what providerserver serves: every RPC, list resources
// and actions included.
type protocolServer interface {
	tfprotov6.ProviderServer
	tfprotov6.ListResourceServer
	tfprotov6.ActionServer
}

// protoEnv is a configured provider server and the schemas it reported.
type protoEnv struct {
	*testEnv
	server   protocolServer
	schemas  *tfprotov6.GetProviderSchemaResponse
	identity tftypes.Object // of vpsorg_server
	// configured is what the emulator in process logged up to the end of
	// ConfigureProvider (the settings check).
	configured []emulator.Request
}

// newProtoEnv starts an emulator, unless the environment names an endpoint
// (see newTestEnv), and a provider server configured for it.
func newProtoEnv(t *testing.T) *protoEnv {
	t.Helper()
	env := newTestEnv(t)
	return env.serve(env.token)
}

// serve starts a provider server configured, as a provider block would, with
// this environment's endpoint and the given token.
func (e *testEnv) serve(token string) *protoEnv {
	e.t.Helper()
	return e.serveProvider(&vpsorgProvider{version: "test", tune: fastPolling}, token)
}

// serveUnchecked is serve with skip_credentials_validation = true: the
// provider does not check the token when configured, so an RPC after it
// meets what the API says of the token.
func (e *testEnv) serveUnchecked(token string) *protoEnv {
	e.t.Helper()
	return e.serveProvider(&vpsorgProvider{version: "test", tune: fastPolling}, token, "skip_credentials_validation")
}

// serveProvider is serve for a provider of the test's choosing, such as a
// release without identity (withoutIdentity); flags are provider arguments
// set to true.
func (e *testEnv) serveProvider(prov provider.Provider, token string, flags ...string) *protoEnv {
	e.t.Helper()
	p := startServing(e.t, prov)
	p.testEnv = e
	config := map[string]any{"endpoint": e.endpoint, "api_token": token}
	for _, flag := range flags {
		config[flag] = true
	}
	resp, err := p.server.ConfigureProvider(e.t.Context(), &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.14.0",
		Config:           p.dynamic(p.schemas.Provider.ValueType(), config),
	})
	requireNoRPCError(e.t, "ConfigureProvider", err)
	requireNoErrors(e.t, "ConfigureProvider", resp.Diagnostics)
	// Configure checks the settings with one list request (configured keeps
	// what it sent); the tests count what the RPCs after it send.
	if e.emulator != nil {
		p.configured = e.emulator.Requests()
	}
	p.resetRequests()
	return p
}

// sub is p for a subtest: its helpers report to t. Subtests that run in
// parallel must not seed servers (the seeded set is the parent's).
func (p *protoEnv) sub(t *testing.T) *protoEnv {
	env := *p.testEnv
	env.t = t
	q := *p
	q.testEnv = &env
	return &q
}

// startProtocolServer starts an unconfigured provider server, as Terraform
// does first, and reads its schemas.
func startProtocolServer(t *testing.T) *protoEnv {
	t.Helper()
	return startServing(t, &vpsorgProvider{version: "test", tune: fastPolling})
}

func startServing(t *testing.T, prov provider.Provider) *protoEnv {
	t.Helper()
	server, err := releasingProtocol6(prov)()
	if err != nil {
		t.Fatal(err)
	}
	p := &protoEnv{server: server.(protocolServer)}
	p.schemas, err = p.server.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	requireNoRPCError(t, "GetProviderSchema", err)
	requireNoErrors(t, "GetProviderSchema", p.schemas.Diagnostics)
	ids, err := p.server.GetResourceIdentitySchemas(t.Context(), &tfprotov6.GetResourceIdentitySchemasRequest{})
	requireNoRPCError(t, "GetResourceIdentitySchemas", err)
	requireNoErrors(t, "GetResourceIdentitySchemas", ids.Diagnostics)
	// A release without identity has none; TestProtocolSchema_* check ours.
	p.identity = ids.IdentitySchemas[serverType].ValueType().(tftypes.Object)
	return p
}

func (p *protoEnv) resourceType() tftypes.Object {
	return p.schemas.ResourceSchemas[serverType].ValueType().(tftypes.Object)
}

func (p *protoEnv) listConfigType() tftypes.Object {
	return p.schemas.ListResourceSchemas[serverType].ValueType().(tftypes.Object)
}

func (p *protoEnv) actionConfigType(action string) tftypes.Object {
	return p.schemas.ActionSchemas[action].Schema.ValueType().(tftypes.Object)
}

// unknown stands for a value Terraform does not know yet, such as the id of
// a server still to be created.
var unknown = struct{ unknown bool }{true}

// tfValue builds a value of type typ from Go values: strings, integers,
// bools, nil (null), unknown, tftypes.Values, and maps of attributes for
// objects, whose missing attributes are null.
func tfValue(typ tftypes.Type, v any) tftypes.Value {
	switch v := v.(type) {
	case nil:
		return tftypes.NewValue(typ, nil)
	case tftypes.Value:
		return v
	case map[string]any:
		obj := typ.(tftypes.Object)
		attrs := map[string]tftypes.Value{}
		for name, attrType := range obj.AttributeTypes {
			attrs[name] = tfValue(attrType, v[name])
		}
		for name := range v {
			if _, ok := obj.AttributeTypes[name]; !ok {
				panic(fmt.Sprintf("the schema has no attribute %q", name))
			}
		}
		return tftypes.NewValue(typ, attrs)
	case int:
		return tftypes.NewValue(typ, int64(v))
	}
	if v == unknown {
		return tftypes.NewValue(typ, tftypes.UnknownValue)
	}
	return tftypes.NewValue(typ, v)
}

// dynamic is tfValue encoded for the protocol.
func (p *protoEnv) dynamic(typ tftypes.Type, v any) *tfprotov6.DynamicValue {
	p.t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, tfValue(typ, v))
	if err != nil {
		p.t.Fatal(err)
	}
	return &dv
}

// identityData is a server's identity as Terraform sends it.
func (p *protoEnv) identityData(id any) *tfprotov6.ResourceIdentityData {
	return &tfprotov6.ResourceIdentityData{IdentityData: p.dynamic(p.identity, map[string]any{"id": id})}
}

// decode turns a DynamicValue the provider sent into plain Go values:
// map[string]any for objects, string, int64 (or float64 for a fraction),
// bool, and nil for null. A nil DynamicValue decodes to nil.
func (p *protoEnv) decode(typ tftypes.Type, dv *tfprotov6.DynamicValue) any {
	p.t.Helper()
	if dv == nil {
		return nil
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		p.t.Fatalf("decoding %s: %v", typ, err)
	}
	return goValue(p.t, v)
}

// object decodes an object; a null one is a test failure.
func (p *protoEnv) object(typ tftypes.Type, dv *tfprotov6.DynamicValue) map[string]any {
	p.t.Helper()
	obj, ok := p.decode(typ, dv).(map[string]any)
	if !ok {
		p.t.Fatalf("got a null %s, want an object", typ)
	}
	return obj
}

// identityID is the id of an identity the provider sent.
func (p *protoEnv) identityID(data *tfprotov6.ResourceIdentityData) any {
	p.t.Helper()
	if data == nil {
		return nil
	}
	return p.object(p.identity, data.IdentityData)["id"]
}

func goValue(t *testing.T, v tftypes.Value) any {
	t.Helper()
	if v.IsNull() {
		return nil
	}
	if !v.IsKnown() {
		return unknown
	}
	switch {
	case v.Type().Is(tftypes.String):
		var s string
		must(t, v.As(&s))
		return s
	case v.Type().Is(tftypes.Bool):
		var b bool
		must(t, v.As(&b))
		return b
	case v.Type().Is(tftypes.Number):
		var n big.Float
		must(t, v.As(&n))
		if i, acc := n.Int64(); acc == big.Exact {
			return i
		}
		f, _ := n.Float64()
		return f
	case v.Type().Is(tftypes.Object{}):
		var attrs map[string]tftypes.Value
		must(t, v.As(&attrs))
		out := map[string]any{}
		for name, attr := range attrs {
			out[name] = goValue(t, attr)
		}
		return out
	}
	t.Fatalf("decoding a %s: not a type these tests use", v.Type())
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// requireNoRPCError fails on an error returned beside the response: the
// provider server returns one only when it cannot answer at all.
func requireNoRPCError(t *testing.T, rpc string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s returned an error: %v", rpc, err)
	}
}

// requireNoErrors fails when diagnostics hold an error.
func requireNoErrors(t *testing.T, what string, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("%s: unexpected diagnostics:\n%s", what, diagText(diags))
		}
	}
}

// expectError checks that diagnostics hold exactly one error, on the
// attribute at (nil: none), whose summary and detail match pattern, and
// returns its text.
func expectError(t *testing.T, what string, diags []*tfprotov6.Diagnostic, at *tftypes.AttributePath, pattern string) string {
	t.Helper()
	var errs []*tfprotov6.Diagnostic
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			errs = append(errs, d)
		}
	}
	if len(errs) != 1 {
		t.Errorf("%s: %d errors, want 1 matching %q:\n%s", what, len(errs), pattern, diagText(diags))
		return ""
	}
	d := errs[0]
	text := d.Summary + ": " + d.Detail
	if !regexp.MustCompile(pattern).MatchString(text) {
		t.Errorf("%s: the error says %q, want it to match %q", what, text, pattern)
	}
	if !d.Attribute.Equal(at) {
		t.Errorf("%s: the error is on attribute %v, want %v", what, d.Attribute, at)
	}
	return text
}

func diagText(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s: %s: %s (attribute %v)\n", d.Severity, d.Summary, d.Detail, d.Attribute)
	}
	return b.String()
}

// attrPath is the path of a top-level attribute.
func attrPath(name string) *tftypes.AttributePath {
	return tftypes.NewAttributePath().WithAttributeName(name)
}

// listRequest is a list block as Terraform evaluates it.
type listRequest struct {
	config          map[string]any // the list block's config: status, location
	includeResource bool
	limit           int64
	// stopAfter, if positive, stops reading the stream after that many
	// results, as Terraform does when it has what it needs.
	stopAfter int
}

// list runs ListResource and reads its stream.
func (p *protoEnv) list(req listRequest) []tfprotov6.ListResourceResult {
	p.t.Helper()
	stream, err := p.server.ListResource(p.t.Context(), &tfprotov6.ListResourceRequest{
		TypeName:        serverType,
		Config:          p.dynamic(p.listConfigType(), req.config),
		IncludeResource: req.includeResource,
		Limit:           req.limit,
	})
	requireNoRPCError(p.t, "ListResource", err)
	var results []tfprotov6.ListResourceResult
	for r := range stream.Results {
		results = append(results, r)
		if len(results) == req.stopAfter {
			break
		}
	}
	return results
}

// invocation is what an InvokeAction stream carried: the progress messages
// and the diagnostics of the completed event, which must come once, last.
type invocation struct {
	progress  []string
	completed []*tfprotov6.Diagnostic
}

// invoke runs InvokeAction with config and reads its stream to the end.
func (p *protoEnv) invoke(action string, config map[string]any) invocation {
	p.t.Helper()
	stream, err := p.server.InvokeAction(p.t.Context(), &tfprotov6.InvokeActionRequest{
		ActionType: action,
		Config:     p.dynamic(p.actionConfigType(action), config),
	})
	requireNoRPCError(p.t, "InvokeAction", err)
	var inv invocation
	done := false
	for event := range stream.Events {
		if done {
			p.t.Errorf("InvokeAction sent an event after the completed event: %#v", event.Type)
		}
		switch e := event.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			inv.progress = append(inv.progress, e.Message)
		case tfprotov6.CompletedInvokeActionEventType:
			inv.completed, done = e.Diagnostics, true
		}
	}
	if !done {
		p.t.Fatalf("InvokeAction's stream ended without a completed event; progress: %q", inv.progress)
	}
	return inv
}

// importState runs ImportResourceState with a string id, or with an
// identity whose id is identity (nil: no identity).
func (p *protoEnv) importState(id string, identity any) *tfprotov6.ImportResourceStateResponse {
	p.t.Helper()
	req := &tfprotov6.ImportResourceStateRequest{TypeName: serverType, ID: id}
	if identity != nil {
		req.Identity = p.identityData(identity)
	}
	resp, err := p.server.ImportResourceState(p.t.Context(), req)
	requireNoRPCError(p.t, "ImportResourceState", err)
	return resp
}

// importAndRead imports a server as Terraform does, by string id or by
// identity, then reads it; it returns the state and identity after the read.
func (p *protoEnv) importAndRead(id string, identity any) (*tfprotov6.DynamicValue, *tfprotov6.ResourceIdentityData) {
	p.t.Helper()
	imp := p.importState(id, identity)
	requireNoErrors(p.t, "ImportResourceState", imp.Diagnostics)
	if len(imp.ImportedResources) != 1 {
		p.t.Fatalf("ImportResourceState imported %d resources, want 1", len(imp.ImportedResources))
	}
	imported := imp.ImportedResources[0]
	return p.read(imported.State, imported.Identity)
}

// read runs ReadResource, as a refresh does, and fails on an error.
func (p *protoEnv) read(state *tfprotov6.DynamicValue, identity *tfprotov6.ResourceIdentityData) (*tfprotov6.DynamicValue, *tfprotov6.ResourceIdentityData) {
	p.t.Helper()
	resp, err := p.server.ReadResource(p.t.Context(), &tfprotov6.ReadResourceRequest{
		TypeName: serverType, CurrentState: state, CurrentIdentity: identity,
	})
	requireNoRPCError(p.t, "ReadResource", err)
	requireNoErrors(p.t, "ReadResource", resp.Diagnostics)
	return resp.NewState, resp.NewIdentity
}

// expectNoRequests checks, in process, that the emulator got no request since
// its log was last cleared; what names the check for the record.
func (p *protoEnv) expectNoRequests(what string) {
	p.t.Helper()
	err := p.onEmulator(what+" (the emulator's request log)", func(emu *emulator.Emulator) error {
		if reqs := emu.Requests(); len(reqs) != 0 {
			return fmt.Errorf("%s sent %d requests, want none; the first: %s %s", what, len(reqs), reqs[0].Method, reqs[0].Path)
		}
		return nil
	})
	if err != nil {
		p.t.Error(err)
	}
}

// resetRequests clears the emulator's request log, in process.
func (p *protoEnv) resetRequests() {
	if p.emulator != nil {
		p.emulator.ResetRequests()
	}
}

// ctx is a context for the test's own calls through the API.
func (p *protoEnv) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.t.Context(), accTimeout())
}
