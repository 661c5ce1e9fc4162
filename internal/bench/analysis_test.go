package bench

import (
	"fmt"
	"net/http"
	"os"
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
	// the emulator imposes), and what sets it (see lowerBound).
	TimeBound     time.Duration
	TimeBoundText string
	// FewestBound is the same bound for a client that sends the fewest
	// requests the phase needs (differs from TimeBound under a rate limit
	// only), and what sets it.
	FewestBound     time.Duration
	FewestBoundText string
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
	// Failed, when not "", says why the phase failed: terraform's first
	// error, or what the emulator holds that it should not. Its figures
	// are those of the failed command.
	Failed string
	// Skipped, when not "", says why the phase did not run; it has no
	// figures.
	Skipped string
}

func (p *phase) total() int { return len(p.Requests) }

// throttled counts the requests answered 429.
func (p *phase) throttled() int {
	n := 0
	for _, r := range p.Requests {
		if r.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// throttledShare is throttled / total, 0 without requests.
func (p *phase) throttledShare() float64 {
	return div(float64(p.throttled()), float64(p.total()))
}

// passed counts the requests that got past the rate limit: all but those
// answered 429, which take no token from the emulator's bucket, and those
// that got no answer (status 0: dropped while the latency was being waited
// out, before the limit).
func (p *phase) passed() int {
	n := 0
	for _, r := range p.Requests {
		if r.Status != http.StatusTooManyRequests && r.Status != 0 {
			n++
		}
	}
	return n
}

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

// fewestRatio is wall / FewestBound, 0 without a bound.
func (p *phase) fewestRatio() float64 {
	if p.FewestBound <= 0 {
		return 0
	}
	return p.Run.Wall.Seconds() / p.FewestBound.Seconds()
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

// stopsBound is the least time an apply of n servers can take when
// stopped of them are stopped after their create, each stop taking the
// transition time: the slots' work, n provisionings and the stops, spread
// over parallelism slots, and at least one server's provisioning and stop
// one after the other. 0 without stops.
func stopsBound(n, parallelism, stopped int, provisioning, transition time.Duration) time.Duration {
	if stopped == 0 {
		return 0
	}
	work := (time.Duration(n)*provisioning + time.Duration(stopped)*transition) / time.Duration(parallelism)
	return max(work, provisioning+transition)
}

// lowerBound is the least wall time a phase of n servers can take on this
// emulator, and what sets it; 0 and "" when nothing does. It is the larger
// of:
//
//   - the emulator's clock: terraform works on at most parallelism servers
//     at once, and each server needs the provisioning time (apply; 0
//     otherwise) plus roundTrips requests one after the other, each held
//     for latency by the emulator before it is handled:
//     ⌈n / parallelism⌉ × (provisioning + roundTrips × latency). An apply
//     needs one round trip beyond the provisioning (the POST's; the GET that
//     sees the server active can be on its way during it); a refresh
//     (plan) one; an update or a destroy two, as terraform refreshes every
//     server before it changes or deletes any.
//   - the rate limit, rate requests per second (0: none): passed requests
//     through it take passed ÷ rate. It leaves out the head start of the
//     full bucket (burst ÷ rate, 1 s at a burst equal to the rate), so a
//     run can beat it by that much.
//
// The benchmark computes it twice. With passed = the requests the phase
// got past the limit (all but the 429s, which take no token: counting
// them would reward a client for being refused), it is the issue's
// "requests ÷ rate": how close the run came to what the limit allows for
// the requests it chose to send. A client that sends needless requests is
// not charged for them there; with passed = the fewest requests the phase
// needs (setTimeBound) it is.
func lowerBound(n, parallelism int, provisioning, latency time.Duration, roundTrips, passed int, rate float64) (time.Duration, string) {
	var bound time.Duration
	var text string
	if provisioning > 0 || latency > 0 {
		bound = applyBound(n, parallelism, provisioning+time.Duration(roundTrips)*latency)
		switch {
		case latency == 0:
			text = "provisioning"
		case provisioning == 0:
			text = "latency"
		default:
			text = "provisioning + latency"
		}
	}
	if rate > 0 {
		if d := time.Duration(float64(passed) / rate * float64(time.Second)); d > bound {
			bound, text = d, "requests ÷ rate"
		}
	}
	return bound, text
}

// firstError is how a failed terraform command is reported: its first
// error (see parseFirstError), or the exit code when there is none.
func firstError(logPath string, exit int) string {
	data, err := os.ReadFile(logPath)
	if err == nil {
		if msg := parseFirstError(string(data)); msg != "" {
			return msg
		}
	}
	return fmt.Sprintf("terraform exited %d", exit)
}

// parseFirstError finds terraform's first error diagnostic in its output
// (boxed in │ or not) and returns its summary and the first paragraph of
// its detail (for this provider's API errors, the one that names the
// request and the HTTP status), joined into one line, with the number of
// errors when there are more. The detail starts at the first unindented
// line after the summary: the indented ones ("with …", "on … line …", the
// source excerpt) say where, not what. terraform wraps long lines; a
// paragraph ends at a blank line.
func parseFirstError(out string) string {
	var summary string
	var detail []string
	count := 0
	// inFirst: within the first error's detail, not yet past its first
	// paragraph; firstBoxed: that error is in a box, which ends at the
	// first line outside it.
	inFirst, firstBoxed := false, false
	for _, line := range strings.Split(out, "\n") {
		text, boxed := strings.CutPrefix(line, "│")
		text = strings.TrimRight(strings.TrimPrefix(text, " "), " \r")
		if firstBoxed && !boxed {
			inFirst = false
		}
		if msg, ok := strings.CutPrefix(text, "Error: "); ok {
			count++
			if count == 1 {
				summary, inFirst, firstBoxed = "Error: "+strings.TrimSpace(msg), true, boxed
			} else {
				inFirst = false
			}
			continue
		}
		if !inFirst {
			continue
		}
		switch {
		case text == "" && len(detail) > 0:
			inFirst = false
		case text != "" && (len(detail) > 0 || !strings.HasPrefix(text, " ")):
			detail = append(detail, strings.TrimSpace(text))
		}
	}
	if summary == "" {
		return ""
	}
	msg := summary
	if len(detail) > 0 {
		const most = 200
		d := strings.Join(detail, " ")
		if len(d) > most {
			d = d[:most] + "…"
		}
		msg += ": " + d
	}
	if count > 1 {
		msg += fmt.Sprintf(" (%d errors in all)", count)
	}
	return msg
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
