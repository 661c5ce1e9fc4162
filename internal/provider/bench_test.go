package provider

import (
	"fmt"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Micro-benchmarks of the model mapping: what the resource does with every
// server it reads ((*serverResourceModel).fill) and what the vpsorg_servers
// data source does with a whole fleet ((*serverListFields).fill per
// server). `make bench` runs them after the fleet benchmark.

func benchPtr[T any](v T) *T { return &v }

// benchDetailServer is a server as GetServer returns it (detail view).
func benchDetailServer() *vpsorg.Server {
	return &vpsorg.Server{
		ID: 12345, Name: "bench-0", Hostname: benchPtr("bench-0.example.com"), Status: vpsorg.StatusActive,
		IPAddress: benchPtr("203.0.113.1"), IPv6Address: benchPtr("2001:db8::3039"), Location: "us-west",
		Plan:           vpsorg.Plan{ID: 1, Name: "Standard VPS", VCPUs: 2, Memory: 4096, Storage: 80, Bandwidth: benchPtr(int64(2048))},
		OS:             vpsorg.OS{ID: 5, Name: "Ubuntu 22.04 LTS"},
		BackupsEnabled: benchPtr(false),
		ResourceUsage:  &vpsorg.ResourceUsage{CPUPercent: 23.5, MemoryUsed: 2048, DiskUsed: 35, BandwidthUsed: 450},
		CreatedAt:      "2025-01-16T15:30:00Z", UpdatedAt: "2025-01-16T15:30:05Z",
	}
}

// benchListServers is a fleet as ListServers returns it (list view).
func benchListServers(n int) []vpsorg.Server {
	servers := make([]vpsorg.Server, n)
	for i := range servers {
		servers[i] = vpsorg.Server{
			ID: int64(12345 + i), Name: fmt.Sprintf("bench-%d", i), Status: vpsorg.StatusActive,
			IPAddress: benchPtr(fmt.Sprintf("203.0.113.%d", i%250+1)), Location: "us-west",
			Plan:      vpsorg.Plan{ID: 1, Name: "Standard VPS", VCPUs: 2, Memory: 4096, Storage: 80},
			OS:        vpsorg.OS{ID: 5, Name: "Ubuntu 22.04 LTS"},
			CreatedAt: "2025-01-16T15:30:00Z", UpdatedAt: "2025-01-16T15:30:05Z",
		}
	}
	return servers
}

func BenchmarkFillResourceModel(b *testing.B) {
	server := benchDetailServer()
	b.ReportAllocs()
	for b.Loop() {
		var m serverResourceModel
		if diags := m.fromAPI(server); diags.HasError() {
			b.Fatal(diags)
		}
	}
}

func BenchmarkFillListOf500(b *testing.B) {
	servers := benchListServers(500)
	b.ReportAllocs()
	for b.Loop() {
		list := make([]serverListFields, len(servers))
		for i := range servers {
			list[i].fromAPI(&servers[i])
		}
	}
}
