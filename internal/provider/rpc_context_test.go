package provider

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

type rpcValueKey struct{}

// rpcValue is a value an RPC's context carries (a logger, say) that must
// not outlive the RPC.
type rpcValue struct{ payload []byte }

func TestReleasableContext_IsItsParentUntilReleased(t *testing.T) {
	deadline := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), rpcValueKey{}, "logger"), deadline)
	defer cancel()
	rc := newReleasableContext(parent)
	defer rc.release()

	if got := rc.Value(rpcValueKey{}); got != "logger" {
		t.Errorf("Value = %v, want the parent's value %q", got, "logger")
	}
	if got, ok := rc.Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("Deadline = %v, %v; want the parent's %v, true", got, ok, deadline)
	}
	if rc.Err() != nil {
		t.Errorf("Err = %v before the parent ended, want nil", rc.Err())
	}
	cancel()
	<-rc.Done() // a parent's cancellation reaches the RPC's work
	if !errors.Is(rc.Err(), context.Canceled) {
		t.Errorf("Err = %v after the parent was cancelled, want context.Canceled", rc.Err())
	}
}

func TestReleasableContext_AfterReleaseIsCancelledAndEmpty(t *testing.T) {
	parent := context.WithValue(context.Background(), rpcValueKey{}, "logger")
	rc := newReleasableContext(parent)
	rc.release()

	select {
	case <-rc.Done():
	default:
		t.Fatal("Done is open after release; whatever still holds the context would wait forever")
	}
	if !errors.Is(rc.Err(), context.Canceled) {
		t.Errorf("Err = %v after release, want context.Canceled", rc.Err())
	}
	if got := rc.Value(rpcValueKey{}); got != nil {
		t.Errorf("Value = %v after release, want nil", got)
	}
	if _, ok := rc.Deadline(); ok {
		t.Error("Deadline reports one after release, want none")
	}
}

// What the framework does with each RPC's context (proto6server
// registerContext): a child of it, whose CancelFunc it keeps until
// StopProvider. Once released, the context must not keep the RPC's values
// alive through that child.
func TestReleasableContext_AChildKeptAfterReleaseDoesNotKeepTheRPCsValues(t *testing.T) {
	value := &rpcValue{payload: make([]byte, 1<<16)}
	gone := weak.Make(value)
	rpc, endRPC := context.WithCancel(context.WithValue(context.Background(), rpcValueKey{}, value))
	value = nil //nolint:ineffassign // dropping the reference is the point: only the contexts may hold the value now

	rc := newReleasableContext(rpc)
	_, keptCancel := context.WithCancel(rc) // kept, as the framework keeps it
	rc.release()
	endRPC()  // gRPC ends the RPC's context
	rpc = nil //nolint:ineffassign // as value above: only what the framework kept may hold the RPC's context

	runtime.GC()
	if gone.Value() != nil {
		t.Error("the RPC's context value is still reachable after release: a kept child context holds the RPC's whole context")
	}
	runtime.KeepAlive(keptCancel)
}

// spyServer records the context the framework's server was given.
type spyServer struct {
	frameworkServer
	got *context.Context
}

// record keeps the context the framework was given and checks that the
// RPC's values reached it.
func (s spyServer) record(ctx context.Context) error {
	*s.got = ctx
	if ctx.Value(rpcValueKey{}) != "logger" {
		return errors.New("the RPC's values did not reach the framework")
	}
	return nil
}

func (s spyServer) ReadResource(ctx context.Context, _ *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{}, s.record(ctx)
}

func (s spyServer) GenerateResourceConfig(ctx context.Context, _ *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return &tfprotov6.GenerateResourceConfigResponse{}, s.record(ctx)
}

// Each wrapped RPC lets go of the context it gave the framework when it
// returns; terraform query -generate-config-out calls
// GenerateResourceConfig once per resource found.
func TestReleasingServer_releasesTheContextItGaveTheFramework(t *testing.T) {
	var got context.Context
	server := releasingServer{spyServer{got: &got}}
	for rpc, call := range map[string]func(context.Context) error{
		"ReadResource": func(ctx context.Context) error {
			_, err := server.ReadResource(ctx, &tfprotov6.ReadResourceRequest{})
			return err
		},
		"GenerateResourceConfig": func(ctx context.Context) error {
			_, err := server.GenerateResourceConfig(ctx, &tfprotov6.GenerateResourceConfigRequest{})
			return err
		},
	} {
		t.Run(rpc, func(t *testing.T) {
			ctx := context.WithValue(t.Context(), rpcValueKey{}, "logger")
			if err := call(ctx); err != nil {
				t.Fatal(err)
			}
			if got.Value(rpcValueKey{}) != nil || got.Err() == nil {
				t.Errorf("after %s returned, the framework's context has value %v and error %v; want nil and cancelled", rpc, got.Value(rpcValueKey{}), got.Err())
			}
			if ctx.Err() != nil {
				t.Errorf("the RPC's own context was cancelled (%v); only the framework's copy should be", ctx.Err())
			}
		})
	}
}

// onlyProviderServer is a framework server of another shape: no list
// resources, no actions.
type onlyProviderServer struct{ tfprotov6.ProviderServer }

// A framework whose server no longer has the shape the wrapper needs is
// refused when the server is built, saying why: not served as nothing, to
// panic on the first RPC.
func TestProtocolServer_aFrameworkServerOfAnotherShapeIsRefusedSayingWhy(t *testing.T) {
	serve, err := releasingFactory(func() (tfprotov6.ProviderServer, error) { return onlyProviderServer{}, nil })
	if err == nil || serve != nil || !strings.Contains(err.Error(), "no longer serves list resources and actions") {
		t.Fatalf("releasingFactory returned a server: %v, error %v; want none and an error saying why", serve != nil, err)
	}
	failing := errors.New("framework says no")
	if _, err := releasingFactory(func() (tfprotov6.ProviderServer, error) { return nil, failing }); !errors.Is(err, failing) {
		t.Fatalf("the framework's own error was lost: %v", err)
	}
}

// tf6server serves list resources and actions only to a server that
// implements them; the wrapper must keep them.
func TestProtocolServer_StillServesListResourcesAndActions(t *testing.T) {
	serve, err := ProtocolServer("test")
	if err != nil {
		t.Fatal(err)
	}
	server := serve()
	if _, ok := server.(tfprotov6.ProviderServerWithListResource); !ok { //nolint:staticcheck // tf6server checks this very interface
		t.Error("ProtocolServer's server does not implement ProviderServerWithListResource: tf6server would answer ListResource as unimplemented")
	}
	if _, ok := server.(tfprotov6.ProviderServerWithActions); !ok { //nolint:staticcheck // tf6server checks this very interface
		t.Error("ProtocolServer's server does not implement ProviderServerWithActions: tf6server would answer actions as unimplemented")
	}
}
