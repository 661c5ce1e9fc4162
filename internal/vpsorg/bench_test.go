package vpsorg

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
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

// BenchmarkRateLimited runs ten goroutines of GETs through one client
// against the emulator limited to 10 requests/s (burst 10), as Terraform's
// parallel operations do, until 300 have succeeded. It reports the share
// of the requests reaching the API that were refused with 429, and the
// successful requests per second: first with the client pacing itself from
// the 429s, then with MaxRequestsPerSecond set to the limit.
//
// Requests already on their way when the API's burst runs out are refused
// before the client can know: up to one a goroutine, the first moment.
// "%429" counts them; "later%429" counts the requests that arrived after
// the first second, the client's steady pace.
func BenchmarkRateLimited(b *testing.B) {
	for _, bc := range []struct {
		name         string
		maxPerSecond float64
	}{
		{"adaptive", 0},
		{"MaxRequestsPerSecond=10", 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const goroutines, successes = 10, 300
			var refused, reached, refusedLater, reachedLater int
			var took time.Duration
			for range b.N {
				emu, err := emulator.Start(emulator.Options{})
				if err != nil {
					b.Fatal(err)
				}
				s, err := emu.AddServer(emulator.DefaultAccount, emulator.ServerSpec{Name: "bench", PlanID: 1, OSID: 5, Location: "us-west"})
				if err != nil {
					b.Fatal(err)
				}
				emu.SetRateLimit(10, 10)
				c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken, MaxRequestsPerSecond: bc.maxPerSecond})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
				var left atomic.Int64
				left.Store(successes)
				start := time.Now()
				var wg sync.WaitGroup
				for range goroutines {
					wg.Go(func() {
						for left.Add(-1) >= 0 {
							if _, err := c.GetServer(ctx, s.ID); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				took += time.Since(start)
				cancel()
				for _, r := range emu.Requests() {
					later := r.Time.Sub(start) > time.Second
					reached++
					if later {
						reachedLater++
					}
					if r.Status == http.StatusTooManyRequests {
						refused++
						if later {
							refusedLater++
						}
					}
				}
				emu.Close()
			}
			b.ReportMetric(100*float64(refused)/float64(reached), "%429")
			b.ReportMetric(100*float64(refusedLater)/float64(reachedLater), "later%429")
			b.ReportMetric(float64(successes*b.N)/took.Seconds(), "ok/s")
		})
	}
}
