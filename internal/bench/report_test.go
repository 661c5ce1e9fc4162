package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The printed report: markdown, so that it can be pasted into an issue or a
// pull request as it is.

// printHeader prints the machine, the tools and the settings, then how to
// read the tables that follow.
func printHeader(w io.Writer, h *harness) {
	fmt.Fprintf(w, "\n# vpsorg fleet benchmark\n\n")
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(w, "| machine | %d CPUs (nproc), %s, %s RAM |\n", runtime.NumCPU(), cpuModel(), memTotal())
	fmt.Fprintf(w, "| load average at start | %s |\n", loadAverage())
	fmt.Fprintf(w, "| go | %s %s/%s |\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "| terraform | %s (%s) |\n", h.tfVersion, h.tf)
	fmt.Fprintf(w, "| provider | built from `%s` with -trimpath, run through dev_overrides |\n", h.revision)
	fmt.Fprintf(w, "| settings | N = %s; provisioning %s; transitions %s; page size %d; `-parallelism=%d` |\n",
		joinInts(h.ns), h.provisioning, h.transition, h.pageSize, h.parallelism)
	fmt.Fprintf(w, "| emulator | %s |\n", limitText(h.settings))
	fmt.Fprintf(w, "| provider block | %s |\n", maxRPSText(h.maxRPS))
	fmt.Fprintf(w, "| phases | %s |\n", strings.Join(h.phases, ", "))
	curl := h.curl
	if curl == "" {
		curl = "missing: the local-exec comparison is skipped"
	}
	fmt.Fprintf(w, "| curl (local-exec comparison) | %s |\n", curl)
	if h.logDir != "" {
		fmt.Fprintf(w, "| logs kept in | %s |\n", h.logDir)
	}
	fmt.Fprint(w, `
How to read the tables:

- **wall**: the terraform command from start to exit, so terraform's own
  start-up, graph walk and plan, and the provider's start, are included.
- **lower bound**: the least wall time the emulator allows, and what sets
  it: the larger of ⌈N / parallelism⌉ × (provisioning + round trips ×
  latency) (terraform works on at most parallelism servers at once; apply
  waits out the provisioning and one request's latency per server, plan
  one round trip, update and destroy two: the refresh, then the change)
  and, under a rate limit, the requests the limit let through (all but the
  429s, which take no token) ÷ the rate. The rate term leaves out the full
  bucket's head start (burst ÷ rate): wall / bound can dip below 1 by that
  much. n/a when nothing bounds the phase (plan, update and destroy
  without latency or limit: the emulator applies updates and deletes at
  once; their bound is in requests).
- **bound at fewest requests**: the same with the fewest requests the
  phase needs in place of those it let through (apply: N POST + N GET;
  plan: N GET; update and destroy: terraform's N GET refresh + N PATCH or
  DELETE). Under a rate limit, the lower bound above does not charge a
  client for needless requests; this one does. Without a limit the two
  are the same.
- **429s**: requests answered 429 Too Many Requests by the rate limit, and
  their share of all requests.
- **result**: ok, **FAILED** (terraform exited non-zero, or the emulator
  does not hold what the phase should have left; the first error follows
  the table and the figures are those of the failed command), or skipped
  (a phase it needs failed). A rate limit and latency hold only during
  measured phases, and each phase starts with a full bucket.
- **request bound**: the fewest requests the phase can do its job with.
  apply: N POST + N GET (one read-back of each server once it is active);
  plan: N GET (one refresh read each); update: N PATCH + N GET (the change
  and a read-back; terraform's own refresh before it, N GET more, is not in
  the bound); destroy: N DELETE (the refresh before it and the checks that
  a server is gone are not).
- **polls per created server** (apply): (all GET requests during apply − N)
  / N, the GETs beyond one read-back per server, list requests included.
- **poll slack** (apply): per server, from the moment it became active (its
  POST's arrival + provisioning time) to the first GET of it after that
  moment: the poll that saw it active, or the GET that a list poll
  triggered (the provider ends a wait only on a GET). POSTs and ids are
  paired in order, as the emulator assigns increasing ids in the order it
  handles creates: an approximation, exact but for concurrent POSTs within
  microseconds.
- **emulator CPU**: user+system CPU of the benchmark process during the
  phase (getrusage RUSAGE_SELF), less the memory sampler's thread: the
  emulator serving requests. Its share of one core over the wall time shows
  whether it could be the bottleneck. terraform and the provider are child
  processes and are not in it.
- **terraform + provider CPU**: user+system CPU of terraform and the
  children it waited for (providers; in the local-exec run, the shells and
  curl).
- **provider peak RSS**: the largest VmHWM of the provider processes that
  the phase's terraform started, from /proc every ~100 ms.
`)
}

// printFleet prints the tables for one N.
func printFleet(w io.Writer, s settings, res *fleetResult) {
	fmt.Fprintf(w, "\n## N = %d, %s filters\n\n", res.N, res.Manner)
	fmt.Fprintf(w, "%d `vpsorg_server` resources (count; %d of them stopped after their create), provisioning %s, `-parallelism=%d`; %s; %s; %s.\n\n",
		res.N, res.Stopped, s.provisioning, s.parallelism, mannerText(res.Manner), limitText(s), maxRPSText(s.maxRPS))
	if res.Setup != "" {
		fmt.Fprintf(w, "Apply not measured: %s.\n\n", res.Setup)
	}
	if phases := res.providerPhases(); len(phases) > 0 {
		phaseTable(w, phases)
		failures(w, phases)
		fmt.Fprintln(w)
		if a := res.Apply; a != nil && a.Skipped == "" && a.Failed == "" {
			fmt.Fprintf(w, "apply: **%.2f polls per created server**; poll slack %s.\n", a.pollsPerServer(), slackText(a, s.provisioning))
		}
		printDestroyFloor(w, res)
		if p := res.Plan; p != nil && p.Skipped == "" && p.Failed == "" {
			fmt.Fprintf(w, "plan: exit code 0 with -detailed-exitcode (no changes); %.2f GETs per server.\n", float64(p.gets())/float64(p.N))
		}
		fmt.Fprintf(w, "\nRequests by method and route (N = %d):\n\n", res.N)
		routeTable(w, ran(phases))
	}

	if !s.runs("local-exec") {
		return
	}
	fmt.Fprintf(w, "\nThe same %d servers with `terraform_data` + `local-exec` curl (POST, poll every second until active; DELETE at destroy), same emulator:\n\n", res.N)
	if res.LocalApply == nil {
		fmt.Fprintf(w, "_Skipped: %s._\n", res.LocalSkipped)
		return
	}
	local := res.localPhases()
	if ok(res.Apply) && ok(res.Destroy) && ok(res.LocalApply) && ok(res.LocalDestroy) {
		compareTable(w, res)
	} else {
		phaseTable(w, local)
		failures(w, local)
	}
	fmt.Fprintf(w, "\nRequests by method and route, local-exec (N = %d):\n\n", res.N)
	routeTable(w, ran(local))
}

// phaseTable prints one row per phase.
func phaseTable(w io.Writer, phases []*phase) {
	fmt.Fprintln(w, "| phase | result | wall | lower bound | wall / bound | bound at fewest requests | wall / it | requests | 429s | 429 share | request bound | requests / bound | requests / server | emulator CPU (% of a core) | terraform + provider CPU | provider peak RSS |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, p := range phases {
		if p.Skipped != "" {
			fmt.Fprintf(w, "| %s | skipped: %s | | | | | | | | | | | | | | |\n", p.Name, p.Skipped)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d | %d | %s | %d (%s) | %s | %.2f | %s | %s | %s |\n",
			p.Name, resultText(p), secs(p.Run.Wall), boundText(p.TimeBound, p.TimeBoundText), ratioText(p.timeRatio()),
			boundText(p.FewestBound, p.FewestBoundText), ratioText(p.fewestRatio()),
			p.total(), p.throttled(), percent(p.throttledShare()),
			p.RequestBound, p.RequestBoundText, ratioText(p.requestRatio()), p.perServer(),
			cpuText(p.EmulatorCPU, p.Run.Wall), secs(p.Run.ClientCPU), rssText(p.Run))
	}
}

// failures prints, under a phase table, why each failed phase failed.
func failures(w io.Writer, phases []*phase) {
	first := true
	for _, p := range phases {
		if p.Failed == "" {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintf(w, "- %s **FAILED**: %s\n", p.Name, oneLine(p.Failed))
	}
}

// printSummary prints one row per N and phase: the figures the issue
// asks for, ready for BENCHMARKS.md.
func printSummary(w io.Writer, s settings, results []*fleetResult) {
	fmt.Fprintf(w, "\n## Summary\n\n")
	fmt.Fprintf(w, "provisioning %s, `-parallelism=%d`; %s; %s.\n\n", s.provisioning, s.parallelism, limitText(s), maxRPSText(s.maxRPS))
	fmt.Fprintln(w, "| N | filters | phase | wall | lower bound | wall / bound | bound at fewest requests | wall / it | requests | 429s | 429 share |")
	fmt.Fprintln(w, "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, res := range results {
		for _, p := range append(res.providerPhases(), res.localPhases()...) {
			if p.Skipped != "" {
				fmt.Fprintf(w, "| %d | %s | %s | skipped: %s | | | | | | | |\n", res.N, res.Manner, p.Name, p.Skipped)
				continue
			}
			wall := secs(p.Run.Wall)
			if p.Failed != "" {
				wall += ", **FAILED**"
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %d | %d | %s |\n", res.N, res.Manner, p.Name, wall,
				boundText(p.TimeBound, p.TimeBoundText), ratioText(p.timeRatio()),
				boundText(p.FewestBound, p.FewestBoundText), ratioText(p.fewestRatio()),
				p.total(), p.throttled(), percent(p.throttledShare()))
		}
	}
	perServerTable(w, s, results)
	first := true
	for _, res := range results {
		for _, p := range append(res.providerPhases(), res.localPhases()...) {
			if p.Failed == "" {
				continue
			}
			if first {
				fmt.Fprintln(w)
				first = false
			}
			fmt.Fprintf(w, "- N = %d (%s filters), %s **FAILED**: %s\n", res.N, res.Manner, p.Name, oneLine(p.Failed))
		}
	}
}

// perServerTable prints, per N and manner, the GETs (list pages included)
// and the requests each created, changed and deleted server cost, beside
// their floors: a create's read-back (a stopped server's after its stop)
// and the stop, terraform's refresh GET before a change or a delete, the PATCH or
// DELETE, and for a delete the pages of one list that shows it gone.
func perServerTable(w io.Writer, s settings, results []*fleetResult) {
	fmt.Fprintf(w, "\nRequests per server, beside their floors (GETs include list pages):\n\n")
	fmt.Fprintln(w, "| N | filters | stopped after create | GETs / created | floor | requests / created | floor | GETs / changed | floor | requests / changed | floor | GETs / deleted | floor | requests / deleted | floor |")
	fmt.Fprintln(w, "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, res := range results {
		n := float64(res.N)
		pages := float64((res.N + s.pageSize - 1) / s.pageSize)
		cells := []string{
			perText(res.Apply, (*phase).gets), floorText(1),
			perText(res.Apply, (*phase).total), floorText(float64(2*res.N+res.Stopped) / n),
			perText(res.Update, (*phase).gets), floorText(1),
			perText(res.Update, (*phase).total), floorText(2),
			perText(res.Destroy, (*phase).gets), floorText(1 + pages/n),
			perText(res.Destroy, (*phase).total), floorText(2 + pages/n),
		}
		fmt.Fprintf(w, "| %d | %s | %d | %s |\n", res.N, res.Manner, res.Stopped, strings.Join(cells, " | "))
	}
}

// perText is count(p) per server of p, or why there is none.
func perText(p *phase, count func(*phase) int) string {
	switch {
	case p == nil:
		return "not run"
	case p.Skipped != "":
		return "skipped"
	case p.Failed != "":
		return fmt.Sprintf("%.2f (**FAILED**)", float64(count(p))/float64(p.N))
	}
	return fmt.Sprintf("**%.2f**", float64(count(p))/float64(p.N))
}

func floorText(f float64) string { return fmt.Sprintf("%.2f", f) }

// mannerText says what the emulator does with status filter values.
func mannerText(manner string) string {
	if manner == mannerStrict {
		return "the list refuses status filter values the API does not document (400)"
	}
	return "the list takes any status filter value"
}

// ran keeps the phases that ran (failed or not).
func ran(phases []*phase) []*phase {
	var out []*phase
	for _, p := range phases {
		if p.Skipped == "" {
			out = append(out, p)
		}
	}
	return out
}

// ok reports whether p ran and succeeded.
func ok(p *phase) bool { return p != nil && p.Skipped == "" && p.Failed == "" }

func resultText(p *phase) string {
	if p.Failed != "" {
		return "**FAILED**"
	}
	return "ok"
}

// boundText is a time bound and what sets it.
func boundText(d time.Duration, what string) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s (%s)", secs(d), what)
}

// limitText describes the emulator's rate limit and latency.
func limitText(s settings) string {
	limit := "no rate limit"
	if s.rateLimit > 0 {
		limit = fmt.Sprintf("rate limit %s requests/s per account (burst %d)", strconv.FormatFloat(s.rateLimit, 'g', -1, 64), s.burst)
	}
	if s.latency > 0 {
		return limit + ", latency " + s.latency.String() + " per request"
	}
	return limit + ", no latency"
}

func maxRPSText(maxRPS float64) string {
	if maxRPS <= 0 {
		return "`max_requests_per_second` unset"
	}
	return "`max_requests_per_second = " + strconv.FormatFloat(maxRPS, 'f', -1, 64) + "`"
}

func percent(share float64) string { return fmt.Sprintf("%.1f%%", 100*share) }

// oneLine makes a message fit a markdown list item.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// routeTable prints requests by "METHOD route" (one row each) and phase
// (one column each), with the answers outside 2xx and the totals.
func routeTable(w io.Writer, phases []*phase) {
	var keys []string
	for _, p := range phases {
		for k := range p.Counts {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		// By route, then method: POST, GET, PATCH, PUT, DELETE.
		ma, ra, _ := strings.Cut(a, " ")
		mb, rb, _ := strings.Cut(b, " ")
		if c := strings.Compare(ra, rb); c != 0 {
			return c
		}
		return methodOrder(ma) - methodOrder(mb)
	})
	fmt.Fprint(w, "| request |")
	for _, p := range phases {
		fmt.Fprintf(w, " %s |", p.Name)
	}
	fmt.Fprint(w, "\n|---|")
	for range phases {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w)
	for _, k := range keys {
		fmt.Fprintf(w, "| `%s` |", shortRoute(k))
		for _, p := range phases {
			if c := p.Counts[k]; c > 0 {
				fmt.Fprintf(w, " %d |", c)
			} else {
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| answers outside 2xx |")
	for _, p := range phases {
		fmt.Fprintf(w, " %s |", p.non2xx())
	}
	fmt.Fprint(w, "\n| **total** |")
	for _, p := range phases {
		fmt.Fprintf(w, " **%d** |", p.total())
	}
	fmt.Fprintln(w)
}

// compareTable puts the provider's apply and destroy next to the
// local-exec run's.
func compareTable(w io.Writer, res *fleetResult) {
	pa, pd, la, ld := res.Apply, res.Destroy, res.LocalApply, res.LocalDestroy
	fmt.Fprintf(w, "| N = %d | vpsorg provider | terraform_data + local-exec | local-exec / provider |\n", res.N)
	fmt.Fprintln(w, "|---|--:|--:|--:|")
	row := func(name, prov, local, ratio string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, prov, local, ratio)
	}
	row("apply wall", secs(pa.Run.Wall), secs(la.Run.Wall), ratioText(div(la.Run.Wall.Seconds(), pa.Run.Wall.Seconds())))
	row("apply wall / time bound", ratioText(pa.timeRatio()), ratioText(la.timeRatio()), "")
	row("apply requests", fmt.Sprint(pa.total()), fmt.Sprint(la.total()), ratioText(div(float64(la.total()), float64(pa.total()))))
	row("apply requests / server", fmt.Sprintf("%.2f", pa.perServer()), fmt.Sprintf("%.2f", la.perServer()), "")
	row("apply GETs / server", fmt.Sprintf("%.2f", float64(pa.gets())/float64(pa.N)), fmt.Sprintf("%.2f", float64(la.gets())/float64(la.N)), "")
	row("poll slack median / max", slackShort(pa), slackShort(la), "")
	row("destroy wall", secs(pd.Run.Wall), secs(ld.Run.Wall), ratioText(div(ld.Run.Wall.Seconds(), pd.Run.Wall.Seconds())))
	row("destroy requests", fmt.Sprint(pd.total()), fmt.Sprint(ld.total()), ratioText(div(float64(ld.total()), float64(pd.total()))))
	row("destroy requests / server", fmt.Sprintf("%.2f", pd.perServer()), fmt.Sprintf("%.2f", ld.perServer()), "")
	row("emulator CPU, apply + destroy", secs(pa.EmulatorCPU+pd.EmulatorCPU), secs(la.EmulatorCPU+ld.EmulatorCPU), "")
	row("terraform (+ provider / shells) CPU, apply + destroy", secs(pa.Run.ClientCPU+pd.Run.ClientCPU), secs(la.Run.ClientCPU+ld.Run.ClientCPU),
		ratioText(div((la.Run.ClientCPU+ld.Run.ClientCPU).Seconds(), (pa.Run.ClientCPU+pd.Run.ClientCPU).Seconds())))
	fmt.Fprintf(w, "\nlocal-exec polls with `sleep 1`: its slack is up to a second plus a curl start per poll; it reads nothing back (no state of the server's attributes) and its destroy does no refresh. The provider's destroy refreshes first (N GET) and then checks that each server is gone (a GET answered 404).\n")
}

func methodOrder(m string) int {
	switch m {
	case "POST":
		return 0
	case "GET":
		return 1
	case "PATCH":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	}
	return 5
}

// shortRoute drops the /api/v1 prefix the routes share.
func shortRoute(key string) string {
	return strings.Replace(key, " /api/v1/", " /", 1)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratioText(r float64) string {
	if r <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func cpuText(cpu, wall time.Duration) string {
	return fmt.Sprintf("%.2f s (%.1f%%)", cpu.Seconds(), 100*div(cpu.Seconds(), wall.Seconds()))
}

func rssText(r tfRun) string {
	if r.Providers == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(r.ProviderPeakKB)/1024)
}

func slackText(p *phase, provisioning time.Duration) string {
	if len(p.Slack) == 0 {
		return "not measured (POSTs and new servers could not be paired)"
	}
	med, mx := median(p.Slack), maxDuration(p.Slack)
	text := fmt.Sprintf("median %s, max %s (%.0f%% and %.0f%% of the %s provisioning)",
		secs(med), secs(mx), 100*med.Seconds()/provisioning.Seconds(), 100*mx.Seconds()/provisioning.Seconds(), provisioning)
	if p.SlackMissing > 0 {
		text += fmt.Sprintf("; %d servers without a noticing request", p.SlackMissing)
	}
	return text
}

func slackShort(p *phase) string {
	if len(p.Slack) == 0 {
		return "n/a"
	}
	return secs(median(p.Slack)) + " / " + secs(maxDuration(p.Slack))
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

// memTotal is MemTotal of /proc/meminfo, in GiB.
func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscan(rest, &kb); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

// loadAverage is the 1, 5 and 15 minute load: the machine may be shared.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
