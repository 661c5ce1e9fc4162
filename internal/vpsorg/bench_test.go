package vpsorg

import (
	"fmt"
	"strings"
	"testing"
)

// Micro-benchmarks of the client's decoding: the code GetServer and
// ListServers run on every answer (decodeServer, decodeList), on bodies
// shaped like the API's (and the emulator's) compact JSON. `make bench` runs
// them after the fleet benchmark.

// benchDetailBody is one server's detail view.
const benchDetailBody = `{"id":12345,"name":"bench-0","hostname":"bench-0.example.com","status":"active",` +
	`"ip_address":"203.0.113.1","ipv6_address":"2001:db8::3039","location":"us-west",` +
	`"plan":{"id":1,"name":"Standard VPS","vcpus":2,"memory":4096,"storage":80,"bandwidth":2048},` +
	`"os":{"id":5,"name":"Ubuntu 22.04 LTS"},"backups_enabled":false,` +
	`"resource_usage":{"cpu_percent":23.5,"memory_used":2048,"disk_used":35,"bandwidth_used":450},` +
	`"created_at":"2025-01-16T15:30:00Z","updated_at":"2025-01-16T15:30:05Z"}`

// benchListPage is a full page of the list view: 50 servers of a fleet of
// 500, with a next link.
func benchListPage(size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"count":500,"next":"http://127.0.0.1:8080/api/v1/servers/?page=2","previous":null,"results":[`)
	for i := range size {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"bench-%d","hostname":null,"status":"active","ip_address":"203.0.113.%d",`+
			`"location":"us-west","plan":{"id":1,"name":"Standard VPS","vcpus":2,"memory":4096,"storage":80},`+
			`"os":{"id":5,"name":"Ubuntu 22.04 LTS"},"created_at":"2025-01-16T15:30:00Z","updated_at":"2025-01-16T15:30:05Z"}`,
			12345+i, i, i%250+1)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkDecodeServer(b *testing.B) {
	body := []byte(benchDetailBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := decodeServer(body)
		if err != nil || s.ID != 12345 {
			b.Fatalf("decodeServer: %v, %+v", err, s)
		}
	}
}

func BenchmarkDecodeListPage(b *testing.B) {
	body := benchListPage(50)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		page, err := decodeList(body)
		if err != nil || len(page.results) != 50 || page.next == "" {
			b.Fatalf("decodeList: %v, %d results, next %q", err, len(page.results), page.next)
		}
	}
}
