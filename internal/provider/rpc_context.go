package provider

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The framework's protocol server (terraform-plugin-framework 1.19,
// proto6server.registerContext) derives a cancellable context from each
// RPC's context and keeps its CancelFunc in a slice that only StopProvider
// empties, so that a Stop can cancel work in flight. Terraform calls Stop
// only when interrupted, so the slice grows by one per RPC for the life of
// the process, and each entry holds the whole context chain of its RPC:
// terraform-plugin-go's per-RPC loggers (tens of hclog loggers with their
// fields) and gRPC's stream. That is about 21 kB kept per RPC, 3,000 and
// more RPCs in a plan of 1,000 servers (issue 19: 160 MiB). The fix here
// hands the framework, for each RPC, a context that forgets its parent once
// the RPC has returned; what the framework keeps is then a few words.
//
// Only RPCs that are done when they return are wrapped: ListResource and
// InvokeAction answer with streams read after the return, which need the
// live context.

// ProtocolServer is the provider's protocol-6 server factory for
// tf6server.Serve: the framework's server, with each per-resource RPC given a
// context released when it returns. It fails, saying why, when the
// framework's server no longer has the shape the wrapper relies on (a
// framework upgrade), rather than serving nothing and failing on the first
// RPC.
func ProtocolServer(version string) (func() tfprotov6.ProviderServer, error) {
	return releasingFactory(providerserver.NewProtocol6WithError(New(version)()))
}

// releasingFactory builds the server once, from the framework's factory: tf6server
// asks its factory once per process.
func releasingFactory(framework func() (tfprotov6.ProviderServer, error)) (func() tfprotov6.ProviderServer, error) {
	server, err := releasing(framework)()
	if err != nil {
		return nil, fmt.Errorf("cannot serve the provider: %w", err)
	}
	return func() tfprotov6.ProviderServer { return server }, nil
}

// releasingProtocol6 is providerserver.NewProtocol6WithError for prov, with
// the framework's server wrapped in releasingServer.
func releasingProtocol6(prov provider.Provider) func() (tfprotov6.ProviderServer, error) {
	return releasing(providerserver.NewProtocol6WithError(prov))
}

// releasing wraps the servers of a framework factory in releasingServer.
func releasing(framework func() (tfprotov6.ProviderServer, error)) func() (tfprotov6.ProviderServer, error) {
	return func() (tfprotov6.ProviderServer, error) {
		server, err := framework()
		if err != nil {
			return nil, err
		}
		wrapped, ok := server.(frameworkServer)
		if !ok {
			return nil, fmt.Errorf("the framework's server (%T) no longer serves list resources and actions", server)
		}
		return releasingServer{wrapped}, nil
	}
}

// frameworkServer is what the framework's server implements that
// tf6server asks for: the provider RPCs, list resources and actions.
type frameworkServer interface {
	tfprotov6.ProviderServer
	tfprotov6.ListResourceServer
	tfprotov6.ActionServer
}

// releasingServer passes every RPC to the framework; those it names run
// with a context released after they return (see withRPCContext).
type releasingServer struct{ frameworkServer }

// withRPCContext runs call with a context that is ctx until call returns
// and then lets go of ctx, so that whatever the callee kept of it no longer
// keeps ctx's values alive.
func withRPCContext[Req, Resp any](ctx context.Context, req Req, call func(context.Context, Req) (Resp, error)) (Resp, error) {
	rc := newReleasableContext(ctx)
	defer rc.release()
	return call(rc, req)
}

func (s releasingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.ReadResource)
}

func (s releasingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.PlanResourceChange)
}

func (s releasingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.ApplyResourceChange)
}

func (s releasingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.UpgradeResourceState)
}

func (s releasingServer) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.UpgradeResourceIdentity)
}

func (s releasingServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.ImportResourceState)
}

func (s releasingServer) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.MoveResourceState)
}

func (s releasingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.ValidateResourceConfig)
}

func (s releasingServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.ReadDataSource)
}

func (s releasingServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.ValidateDataResourceConfig)
}

func (s releasingServer) GenerateResourceConfig(ctx context.Context, req *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.GenerateResourceConfig)
}

func (s releasingServer) PlanAction(ctx context.Context, req *tfprotov6.PlanActionRequest) (*tfprotov6.PlanActionResponse, error) {
	return withRPCContext(ctx, req, s.frameworkServer.PlanAction)
}

// releasableContext is its parent's deadline, values and cancellation until
// release, and after it a cancelled context with no values and no parent.
type releasableContext struct {
	mu     sync.Mutex
	parent context.Context // nil once released
	err    error           // set when done
	done   chan struct{}
	stop   func() bool // ends the watch on parent's cancellation
}

func newReleasableContext(parent context.Context) *releasableContext {
	c := &releasableContext{parent: parent, done: make(chan struct{})}
	c.stop = context.AfterFunc(parent, func() { c.finish(parent.Err(), false) })
	return c
}

// finish marks c done with err; forget also drops the parent.
func (c *releasableContext) finish(err error, forget bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
	if forget {
		c.parent, c.stop = nil, nil
	}
}

// release ends c: anything still holding it sees it cancelled. The watch
// on parent is dropped too: its stop function holds parent.
func (c *releasableContext) release() {
	c.stop()
	c.finish(context.Canceled, true)
}

func (c *releasableContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.parent == nil {
		return time.Time{}, false
	}
	return c.parent.Deadline()
}

func (c *releasableContext) Done() <-chan struct{} { return c.done }

func (c *releasableContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *releasableContext) Value(key any) any {
	c.mu.Lock()
	parent := c.parent
	c.mu.Unlock()
	if parent == nil {
		return nil
	}
	return parent.Value(key)
}
