package provider

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// BenchmarkRefreshOf1000 is the refresh of a plan or destroy of 1,000
// servers as the provider process sees it (issue 19): ReadResource 1,000
// times, ten at a time like Terraform's default parallelism, entering
// over gRPC into terraform-plugin-go's server (tf6server), as Terraform
// calls it. It reports the heap in use after the refreshes (after a GC)
// and what each read left in it: memory kept per RPC shows there, and it
// is what the provider process's peak RSS grows with; goroutines shows
// that none is left behind per RPC either. make bench runs it with the
// micro-benchmarks (about ten seconds).
//
// framework_server is the framework's server as providerserver.Serve
// serves it; main_go is what main.go serves (ProtocolServer).
func BenchmarkRefreshOf1000(b *testing.B) {
	b.Run("framework_server", func(b *testing.B) {
		benchRefreshOf1000(b, func() tfprotov6.ProviderServer { return providerserver.NewProtocol6(New("test")())() })
	})
	b.Run("main_go", func(b *testing.B) {
		serve, err := ProtocolServer("test")
		if err != nil {
			b.Fatal(err)
		}
		benchRefreshOf1000(b, serve)
	})
}

func benchRefreshOf1000(b *testing.B, serve func() tfprotov6.ProviderServer) {
	const n, parallel = 1000, 10
	// Quiet, as main.go makes the provider when Terraform shows no logs.
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_VPSORG"} {
		b.Setenv(name, "off")
	}
	emu, err := emulator.Start(emulator.Options{Tokens: map[string]string{testToken: "acc"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { emu.Close() })

	grpcSide, typ := benchPluginServer(b, serve, emu.URL())
	states := make([][]byte, n)
	for i := range states {
		srv, err := emu.AddServer("acc", emulator.ServerSpec{
			Name: fmt.Sprintf("bench-%d", i), PlanID: catalog.plans[0], OSID: catalog.systems[0],
			Location: catalog.locations[0], Status: "active",
		})
		if err != nil {
			b.Fatal(err)
		}
		states[i] = benchMsgpack(b, typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, strconv.FormatInt(srv.ID, 10))})
	}
	read := func(state []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp := grpcSide.call(ctx, b, "ReadResource", map[string]any{"type_name": serverType, "current_state": state})
		if d := resp.Get(resp.Descriptor().Fields().ByName("diagnostics")).List(); d.Len() != 0 {
			b.Fatalf("ReadResource answered diagnostics: %v", d.Get(0))
		}
	}
	refresh := func() {
		work := make(chan []byte)
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				for s := range work {
					read(s)
				}
			})
		}
		for _, s := range states {
			work <- s
		}
		close(work)
		wg.Wait()
	}
	refresh() // warm: the first reads settle what is built once
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	rounds := 0
	for b.Loop() {
		refresh()
		rounds++
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap_inuse_MiB")
	b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
	b.ReportMetric((float64(after.HeapInuse)-float64(before.HeapInuse))/float64(rounds*n), "kept_B/read")
}

// pluginServer calls the provider over gRPC, as Terraform does: the
// provider served by terraform-plugin-go in process (its debug mode, on a
// unix socket) and a gRPC client. terraform-plugin-go's message types are
// internal to it, so they are taken from its service implementation by
// reflection and filled through protobuf reflection.
type pluginServer struct {
	types reflect.Value // tf6server.New's service: the RPCs' message types
	conn  *grpc.ClientConn
}

// call runs method with a request whose fields are set from fields (by
// protobuf name: strings, and []byte for DynamicValue msgpack fields).
func (s pluginServer) call(ctx context.Context, b *testing.B, method string, fields map[string]any) protoreflect.Message {
	m := s.types.MethodByName(method)
	req := reflect.New(m.Type().In(1).Elem()).Interface().(proto.Message)
	msg := req.ProtoReflect()
	for name, v := range fields {
		fd := msg.Descriptor().Fields().ByName(protoreflect.Name(name))
		switch v := v.(type) {
		case string:
			msg.Set(fd, protoreflect.ValueOfString(v))
		case []byte:
			dv := msg.Mutable(fd).Message()
			dv.Set(dv.Descriptor().Fields().ByName("msgpack"), protoreflect.ValueOfBytes(v))
		}
	}
	resp := reflect.New(m.Type().Out(0).Elem()).Interface().(proto.Message)
	if err := s.conn.Invoke(ctx, "/tfplugin6.Provider/"+method, req, resp); err != nil {
		b.Fatalf("%s: %v", method, err)
	}
	return resp.ProtoReflect()
}

// benchPluginServer serves the provider over gRPC as main.go does,
// configured for endpoint, and returns it with the resource's value type.
func benchPluginServer(b *testing.B, serve func() tfprotov6.ProviderServer, endpoint string) (pluginServer, tftypes.Object) {
	fw := serve()
	schemas, err := fw.GetProviderSchema(b.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	reattach, closed := make(chan *plugin.ReattachConfig, 1), make(chan struct{})
	go func() {
		_ = tf6server.Serve(Address, func() tfprotov6.ProviderServer { return fw }, tf6server.WithDebug(ctx, reattach, closed), tf6server.WithGoPluginLogger(hclog.NewNullLogger()))
	}()
	cfg := <-reattach
	conn, err := grpc.NewClient("unix:"+cfg.Addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Close()
		stop()
		<-closed
	})
	s := pluginServer{types: reflect.ValueOf(tf6server.New(Address, fw)), conn: conn}
	config := map[string]tftypes.Value{
		"endpoint":  tftypes.NewValue(tftypes.String, endpoint),
		"api_token": tftypes.NewValue(tftypes.String, testToken),
	}
	resp := s.call(b.Context(), b, "ConfigureProvider", map[string]any{
		"terraform_version": "1.11.4", "config": benchMsgpack(b, schemas.Provider.ValueType().(tftypes.Object), config),
	})
	if d := resp.Get(resp.Descriptor().Fields().ByName("diagnostics")).List(); d.Len() != 0 {
		b.Fatalf("ConfigureProvider answered diagnostics: %v", d.Get(0))
	}
	return s, schemas.ResourceSchemas[serverType].ValueType().(tftypes.Object)
}

// benchMsgpack is an object of typ with the given attributes and every other
// one null, as msgpack.
func benchMsgpack(b *testing.B, typ tftypes.Object, set map[string]tftypes.Value) []byte {
	vals := map[string]tftypes.Value{}
	for name, t := range typ.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(t, nil)
		}
	}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		b.Fatal(err)
	}
	return dv.MsgPack
}
