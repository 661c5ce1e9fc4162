package bench

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// What one phase (one terraform command) did, from the outside: its wall
// time and terraform's resource use (tfRun) and the emulator's request log
// and CPU time for the phase.

// phase is one measured terraform command.
type phase struct {
	Name string
	N    int
	Run  tfRun
	// Requests is the emulator's log for the phase alone.
	Requests []emulator.Request
	// Counts is emulator.RequestCounts for the phase: "METHOD ROUTE".
	Counts map[string]int
	// EmulatorCPU is the bench process's CPU time during the phase, less
	// the memory sampler's: the emulator answering requests.
	EmulatorCPU time.Duration
	// TimeBound is the least wall time the phase can take (0: none that
	// the emulator imposes).
	TimeBound time.Duration
	// RequestBound is the least number of requests the phase needs, and
	// what they are.
	RequestBound     int
	RequestBoundText string
	// Slack is, per created server, how late its poll noticed that it was
	// ready (apply phases only).
	Slack []time.Duration
	// SlackMissing counts created servers for which no noticing request
	// was found.
	SlackMissing int
}

func (p *phase) total() int { return len(p.Requests) }

// perServer is requests per server.
func (p *phase) perServer() float64 { return float64(p.total()) / float64(p.N) }

// gets counts GET requests of any route.
func (p *phase) gets() int {
	n := 0
	for _, r := range p.Requests {
		if r.Method == "GET" {
			n++
		}
	}
	return n
}

// pollsPerServer is (GETs − N) / N: the GETs beyond one read-back per
// created server. For the provider, the read-back is the GET after the wait
// that fills the state; every other GET (one per poll, or list pages) is
// polling.
func (p *phase) pollsPerServer() float64 {
	return float64(p.gets()-p.N) / float64(p.N)
}

// timeRatio is wall / TimeBound, 0 without a bound.
func (p *phase) timeRatio() float64 {
	if p.TimeBound <= 0 {
		return 0
	}
	return p.Run.Wall.Seconds() / p.TimeBound.Seconds()
}

// requestRatio is requests / RequestBound, 0 without a bound.
func (p *phase) requestRatio() float64 {
	if p.RequestBound <= 0 {
		return 0
	}
	return float64(p.total()) / float64(p.RequestBound)
}

// non2xx counts the answers outside 2xx by status, "404×10, 429×2"; 0 is a
// dropped connection.
func (p *phase) non2xx() string {
	counts := map[int]int{}
	for _, r := range p.Requests {
		if r.Status < 200 || r.Status > 299 {
			counts[r.Status]++
		}
	}
	if len(counts) == 0 {
		return "none"
	}
	statuses := make([]int, 0, len(counts))
	for s := range counts {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = fmt.Sprintf("%d×%d", s, counts[s])
	}
	return strings.Join(parts, ", ")
}

// applyBound is the least time an apply of n servers can take at the given
// parallelism: terraform creates at most parallelism at once, and each
// takes the provisioning time, so ⌈n / parallelism⌉ waves of it.
func applyBound(n, parallelism int, provisioning time.Duration) time.Duration {
	waves := (n + parallelism - 1) / parallelism
	return time.Duration(waves) * provisioning
}

// pollSlack measures, for each server the phase created, how long after it
// became active the client acted on it: the first GET of that server at or
// after that moment. That GET is the poll that saw the server active, or,
// when the poll was a list (which cannot end a wait in this provider: a
// server gone from a status-filtered list gets a GET of its own, and waits
// end on a GET's full view), the GET that the list triggered. For the
// local-exec run it is the curl poll that saw it active.
//
// The request log does not say which POST created which id, so POST answers
// (201, sorted by arrival) are paired with the new ids in increasing order:
// the emulator hands ids out in the order it handles creates, and creates
// are handled in arrival order but for a few microseconds of lock contention
// between concurrent ones. A server is taken to be active provisioning after
// its POST arrived (the emulator starts the clock while handling it,
// microseconds later). Servers without such a GET count as missing.
func pollSlack(reqs []emulator.Request, ids []int64, provisioning time.Duration) (slack []time.Duration, missing int) {
	var posts []time.Time
	for _, r := range reqs {
		if r.Method == "POST" && r.Route == emulator.RouteServers && r.Status == 201 {
			posts = append(posts, r.Time)
		}
	}
	slices.SortFunc(posts, func(a, b time.Time) int { return a.Compare(b) })
	ids = slices.Clone(ids)
	slices.Sort(ids)
	if len(posts) != len(ids) {
		// Pairing would be wrong: report nothing rather than nonsense.
		return nil, len(ids)
	}
	// Each server's successful GETs.
	gets := map[string][]time.Time{}
	for _, r := range reqs {
		if r.Method == "GET" && r.Route == emulator.RouteServer && r.Status == 200 {
			gets[r.Path] = append(gets[r.Path], r.Time)
		}
	}
	for i, id := range ids {
		ready := posts[i].Add(provisioning)
		var first time.Time
		for _, t := range gets[fmt.Sprintf("%s%d/", emulator.RouteServers, id)] {
			if !t.Before(ready) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		if first.IsZero() {
			missing++
			continue
		}
		slack = append(slack, first.Sub(ready))
	}
	return slack, missing
}

// median of ds (not sorted in place); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// maxDuration of ds; 0 for none.
func maxDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}
