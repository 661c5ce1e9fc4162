package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// BenchmarkFleet is the fleet benchmark. For each N in BENCH_N it starts an
// emulator in this process (servers provision in BENCH_PROVISIONING) and
// drives the real terraform CLI, with the provider built from this tree,
// through four phases on N vpsorg_server resources:
//
//	apply    terraform apply   (create N servers and wait until active)
//	plan     terraform plan -detailed-exitcode (refresh N; must be no changes)
//	update   terraform apply   (backups_enabled = true on all: N PATCH)
//	destroy  terraform destroy
//
// then creates and destroys the same N servers with terraform_data and
// local-exec curl calls on the same emulator (an account of its own), for
// comparison (phase local-exec). Every command runs with
// -parallelism=BENCH_PARALLELISM. It prints, in markdown, a machine header,
// per N the phase table (wall, lower bounds for the requests sent and for
// the fewest requests, requests, 429s), the requests by route and the
// comparison, then a summary table of every N and phase, and
// reports the key figures as benchmark metrics.
//
// A phase that fails (terraform exits non-zero — for plan, also exit 2,
// "changes" — or the emulator does not hold what the phase should have
// left) is reported as FAILED with terraform's first error, and the run goes
// on: the phases that need its result are reported as skipped.
//
// One run of the suite takes minutes (N=500: several), and its figures are
// the ones that matter, not ns/op: it runs once whatever b.N is (run it with
// -benchtime 1x; with a longer benchtime the testing package may call a
// sub-benchmark again, which then only reports the figures of its one run).
//
// Knobs: BENCH_N (comma list, default "10,100,500"), BENCH_PROVISIONING
// (default "2s"), BENCH_PARALLELISM (default 10); BENCH_LOG_DIR, when set,
// keeps every phase's terraform output and request log (one line per
// request: milliseconds since the phase began, method, path and query,
// status) in that directory, for a closer look. terraform is
// TF_ACC_TERRAFORM_PATH, else the one on PATH; it runs with a CLI
// configuration of the benchmark's own (dev_overrides only). The local-exec
// comparison needs curl and is skipped, with a note, without it.
//
// Knobs for a slow or rate-limited API (`make bench-ratelimit` runs the
// issue's scenarios):
//
//   - BENCH_RATE_LIMIT: the emulator's limit, requests per second per
//     account (a fraction is fine; default 0, no limit); over it, 429 with
//     Retry-After. BENCH_BURST: requests an account may send at once under
//     it (default the rate rounded up; needs BENCH_RATE_LIMIT).
//   - BENCH_LATENCY: added by the emulator to every request (default 0).
//   - The limit and the latency hold during measured phases only; each
//     phase starts with a full bucket.
//   - BENCH_MAX_RPS: when set, the provider block gets
//     max_requests_per_second = BENCH_MAX_RPS. The benchmark checks first,
//     with terraform validate, that the provider built from this tree takes
//     it, and stops with terraform's error if it does not.
//   - BENCH_PHASES: comma list of the phases to measure, out of apply,
//     plan, update, destroy and local-exec (default all); they run in that
//     order whatever the list's. When plan, update or destroy is asked for
//     without apply, an apply creates the servers first, without rate limit
//     or latency, and is not reported (with BENCH_PHASES=plan, the
//     provisioning time only makes that apply longer).
//
// Knobs for the requests a server costs (the summary's "requests per
// server" table puts them beside their floors):
//
//   - BENCH_MANNERS: comma list of the APIs to run each N against, out of
//     documented (the emulator accepts any status filter value; default)
//     and strict (it refuses those the API does not document with 400, as
//     an API that checks them does).
//   - BENCH_STOPPED: how many of the N servers have power_state =
//     "stopped", so that their create is followed by a stop (default 0).
func BenchmarkFleet(b *testing.B) {
	s, err := loadSettings()
	if err != nil {
		b.Fatal(err)
	}
	// An interrupt (or SIGTERM) cancels ctx, which kills the running
	// terraform and everything it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	h, err := newHarness(ctx, b, s)
	if err != nil {
		b.Fatal(err)
	}
	printHeader(os.Stdout, h)

	type run struct {
		n      int
		manner string
	}
	results := map[run]*fleetResult{}
	var all []*fleetResult
	for _, n := range s.ns {
		for _, manner := range s.manners {
			if ctx.Err() != nil {
				b.Fatal("interrupted")
			}
			b.Run(fmt.Sprintf("N=%d/filters=%s", n, manner), func(b *testing.B) {
				res, ok := results[run{n, manner}]
				if !ok {
					var err error
					res, err = h.runFleet(ctx, b, n, manner)
					if err != nil {
						b.Fatal(err)
					}
					results[run{n, manner}] = res
					all = append(all, res)
					printFleet(os.Stdout, h.settings, res)
				}
				reportMetrics(b, res)
			})
		}
	}
	printSummary(os.Stdout, s, all)
}

// settings are the benchmark's knobs.
type settings struct {
	ns           []int
	provisioning time.Duration
	transition   time.Duration
	parallelism  int
	pageSize     int
	logDir       string // BENCH_LOG_DIR: where to keep logs; "" for nowhere
	// rateLimit is the emulator's limit in requests per second per
	// account (0: none), with bursts of up to burst.
	rateLimit float64
	burst     int
	// latency is added by the emulator to every request.
	latency time.Duration
	// maxRPS is the provider's max_requests_per_second (0: not set).
	maxRPS float64
	// phases are the phases to measure, in the order they run.
	phases []string
	// manners are the APIs each N runs against (mannerDocumented,
	// mannerStrict).
	manners []string
	// stopped is how many servers have power_state = "stopped".
	stopped int
}

// The APIs a fleet runs against: one that accepts any status filter value,
// and one that refuses those the API does not document.
const (
	mannerDocumented = "documented"
	mannerStrict     = "strict"
)

// allPhases are the phases in the order they run: the provider's four,
// then the terraform_data + local-exec comparison (its apply and destroy).
var allPhases = []string{"apply", "plan", "update", "destroy", "local-exec"}

func (s settings) runs(name string) bool { return slices.Contains(s.phases, name) }

func loadSettings() (settings, error) {
	s := settings{
		provisioning: 2 * time.Second,
		transition:   2 * time.Second,
		parallelism:  10,
		pageSize:     emulator.DefaultPageSize,
		phases:       allPhases,
		manners:      []string{mannerDocumented},
	}
	list := os.Getenv("BENCH_N")
	if list == "" {
		list = "10,100,500"
	}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return s, fmt.Errorf("BENCH_N=%q: want a comma-separated list of positive integers", list)
		}
		s.ns = append(s.ns, n)
	}
	if v := os.Getenv("BENCH_PROVISIONING"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return s, fmt.Errorf("BENCH_PROVISIONING=%q: want a positive duration such as 2s", v)
		}
		s.provisioning = d
	}
	if v := os.Getenv("BENCH_PARALLELISM"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			return s, fmt.Errorf("BENCH_PARALLELISM=%q: want a positive integer", v)
		}
		s.parallelism = p
	}
	if v := os.Getenv("BENCH_LOG_DIR"); v != "" {
		if err := os.MkdirAll(v, 0o755); err != nil {
			return s, fmt.Errorf("BENCH_LOG_DIR: %w", err)
		}
		s.logDir = v
	}
	if v := os.Getenv("BENCH_RATE_LIMIT"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return s, fmt.Errorf("BENCH_RATE_LIMIT=%q: want requests per second, 0 (no limit) or more", v)
		}
		s.rateLimit = r
	}
	if v := os.Getenv("BENCH_BURST"); v != "" {
		burst, err := strconv.Atoi(v)
		switch {
		case err != nil || burst < 1:
			return s, fmt.Errorf("BENCH_BURST=%q: want a positive integer", v)
		case s.rateLimit == 0:
			return s, fmt.Errorf("BENCH_BURST=%q needs BENCH_RATE_LIMIT", v)
		}
		s.burst = burst
	} else if s.rateLimit > 0 {
		// The emulator command's default: the rate rounded up.
		s.burst = max(1, int(math.Min(math.Ceil(s.rateLimit), math.MaxInt32)))
	}
	if v := os.Getenv("BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, fmt.Errorf("BENCH_LATENCY=%q: want a duration such as 50ms, 0 or more", v)
		}
		s.latency = d
	}
	if v := os.Getenv("BENCH_MAX_RPS"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return s, fmt.Errorf("BENCH_MAX_RPS=%q: want a positive number of requests per second", v)
		}
		s.maxRPS = r
	}
	if v := os.Getenv("BENCH_MANNERS"); v != "" {
		s.manners = nil
		for _, f := range strings.Split(v, ",") {
			m := strings.TrimSpace(f)
			if m != mannerDocumented && m != mannerStrict {
				return s, fmt.Errorf("BENCH_MANNERS=%q: %q is not %s or %s", v, m, mannerDocumented, mannerStrict)
			}
			if !slices.Contains(s.manners, m) {
				s.manners = append(s.manners, m)
			}
		}
	}
	if v := os.Getenv("BENCH_STOPPED"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("BENCH_STOPPED=%q: want a number of servers, 0 or more", v)
		}
		s.stopped = n
	}
	if v := os.Getenv("BENCH_PHASES"); v != "" {
		s.phases = nil
		asked := map[string]bool{}
		for _, f := range strings.Split(v, ",") {
			name := strings.TrimSpace(f)
			if !slices.Contains(allPhases, name) {
				return s, fmt.Errorf("BENCH_PHASES=%q: %q is not one of %s", v, name, strings.Join(allPhases, ", "))
			}
			asked[name] = true
		}
		for _, name := range allPhases {
			if asked[name] {
				s.phases = append(s.phases, name)
			}
		}
	}
	return s, nil
}

// harness is what every N shares: terraform, the provider built once, the
// CLI configuration and a temporary directory, removed at the end.
type harness struct {
	settings
	tf        string
	tfVersion string
	cliConfig string
	tmp       string
	curl      string // "" when curl is missing
	revision  string
}

func newHarness(ctx context.Context, b *testing.B, s settings) (*harness, error) {
	h := &harness{settings: s, tmp: b.TempDir()}
	var err error
	if h.tf, err = findTerraform(); err != nil {
		return nil, err
	}
	h.tfVersion = terraformVersion(ctx, h.tf)
	h.curl, _ = exec.LookPath("curl")
	h.revision = gitRevision(ctx)

	bin := filepath.Join(h.tmp, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		return nil, err
	}
	if err := buildProvider(ctx, bin); err != nil {
		return nil, err
	}
	h.cliConfig = filepath.Join(h.tmp, "terraformrc")
	if err := writeCLIConfig(h.cliConfig, bin); err != nil {
		return nil, err
	}
	if h.maxRPS > 0 {
		if err := h.checkMaxRPS(ctx); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// checkMaxRPS makes sure, before anything is measured, that the provider
// takes the max_requests_per_second that BENCH_MAX_RPS puts in its block:
// a provider built from a tree without it would otherwise fail every phase
// on "Unsupported argument".
func (h *harness) checkMaxRPS(ctx context.Context) error {
	dir := filepath.Join(h.tmp, "check-max-rps")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(providerConfig(1, 0, false, h.maxRPS)), 0o600); err != nil {
		return err
	}
	// validate reads the provider's schema and calls no API: no endpoint
	// needed.
	env := terraformEnv(h.cliConfig, "http://127.0.0.1:1/api/v1/", "unused")
	run, err := runTerraform(ctx, h.tf, env, dir, filepath.Join(dir, "validate.log"), "validate", "-no-color")
	if err != nil {
		return fmt.Errorf("BENCH_MAX_RPS: terraform validate: %w", err)
	}
	if run.Exit != 0 {
		return fmt.Errorf("BENCH_MAX_RPS=%s: the provider built from this tree does not take max_requests_per_second = %s (%s); unset BENCH_MAX_RPS to measure it without",
			os.Getenv("BENCH_MAX_RPS"), strconv.FormatFloat(h.maxRPS, 'f', -1, 64), firstError(run.Log, run.Exit))
	}
	return nil
}

// fleetResult is everything measured for one N. A phase not asked for in
// BENCH_PHASES is nil; one that could not run is there with Skipped set.
type fleetResult struct {
	N int
	// Manner is the API the fleet ran against (mannerDocumented,
	// mannerStrict); Stopped how many of its servers were stopped after
	// their create.
	Manner  string
	Stopped int
	Apply   *phase
	Plan    *phase
	Update  *phase
	Destroy *phase
	// Setup, when apply was not asked for but a later phase was, says how
	// the servers were created.
	Setup string
	// LocalApply and LocalDestroy are the terraform_data + local-exec run;
	// nil when it was not asked for or skipped (LocalSkipped says why).
	LocalApply   *phase
	LocalDestroy *phase
	LocalSkipped string
	// DataDestroy is Terraform's own destroy of N terraform_data: the
	// destroy's floor (floor_test.go); nil when destroy was not measured.
	DataDestroy *phase
	// SizedDataDestroy is the destroy of N terraform_data padded to as
	// much state as the servers' (floor_test.go); nil when not measured.
	SizedDataDestroy *phase
	// The state files' sizes before each destroy, in bytes.
	ServerStateBytes, DataStateBytes, SizedDataStateBytes int64
}

// providerPhases are the provider's phases that were asked for, in order.
func (r *fleetResult) providerPhases() []*phase {
	return nonNil(r.Apply, r.Plan, r.Update, r.Destroy)
}

// localPhases are the local-exec phases that were asked for, in order.
func (r *fleetResult) localPhases() []*phase {
	return nonNil(r.LocalApply, r.LocalDestroy)
}

func nonNil(phases ...*phase) []*phase {
	var out []*phase
	for _, p := range phases {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// commandTimeout bounds one terraform command: far above what any phase
// needs, so that only a hang reaches it.
func (h *harness) commandTimeout(n int) time.Duration {
	return 15*time.Minute + 20*applyBound(n, h.parallelism, h.provisioning)
}

// The emulator's two accounts: the provider's fleet, and the local-exec
// comparison's, so that each starts empty and has a rate limit of its own
// whatever the other left behind.
const (
	account      = "bench"
	localAccount = "bench-local"
)

// runFleet runs the suite for n servers on a fresh emulator of the given
// manner. A phase that
// fails (terraform exits non-zero, or the emulator does not hold what it
// should afterwards) is recorded as failed and the suite goes on, skipping
// the phases that need what it should have done; only a benchmark that
// cannot go on at all (interrupted, nothing to measure with) returns an
// error.
func (h *harness) runFleet(ctx context.Context, b *testing.B, n int, manner string) (*fleetResult, error) {
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	localToken, err := randomToken()
	if err != nil {
		return nil, err
	}
	emu, err := emulator.Start(emulator.Options{
		Tokens:           map[string]string{token: account, localToken: localAccount},
		ProvisioningTime: h.provisioning,
		TransitionTime:   h.transition,
		PageSize:         h.pageSize,
		Credits:          n + 10,
		StrictFilters:    manner == mannerStrict,
	})
	if err != nil {
		return nil, err
	}
	defer emu.Close()
	env := terraformEnv(h.cliConfig, emu.URL(), token)

	stopped := min(h.stopped, n)
	dir := filepath.Join(h.tmp, fmt.Sprintf("provider-%d-%s", n, manner))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	writeConfig := func(backups bool) error {
		return os.WriteFile(filepath.Join(dir, "main.tf"), []byte(providerConfig(n, stopped, backups, h.maxRPS)), 0o600)
	}
	if err := writeConfig(false); err != nil {
		return nil, err
	}
	res := &fleetResult{N: n, Manner: manner, Stopped: stopped}
	// powered: the server is as its power_state says (the first stopped
	// of them stopped, the others active).
	powered := func(s emulator.Server) bool {
		if idx, err := strconv.Atoi(strings.TrimPrefix(s.Name, "bench-")); err == nil && idx < stopped {
			return s.Status == emulator.StatusStopped
		}
		return s.Status == emulator.StatusActive
	}
	p := "-parallelism=" + strconv.Itoa(h.parallelism)
	applyArgs := []string{"apply", "-auto-approve", "-input=false", "-no-color", p}
	run := func(name string, args ...string) (*phase, error) {
		b.Logf("N=%d: %s", n, name)
		return h.measure(ctx, emu, env, dir, name, n, args...)
	}
	// check turns a wrong fleet after a successful command into a failure
	// of the phase.
	check := func(ph *phase, ok func(emulator.Server) bool, want int) []int64 {
		if ph.Failed != "" {
			return nil
		}
		ids, err := checkFleet(emu, account, want, ok)
		if err != nil {
			ph.Failed = "after " + ph.Name + ": " + err.Error()
		}
		return ids
	}
	// fleet: the servers exist, active, and terraform's state holds them.
	fleet := false
	skipped := func(name string) *phase { return &phase{Name: name, N: n, Skipped: "apply failed"} }

	switch {
	case h.runs("apply"):
		// apply: N POST; the least is N GET more, to read each server back
		// (and a stop for each stopped one, read back once stopped).
		if res.Apply, err = run("apply", applyArgs...); err != nil {
			return nil, err
		}
		h.setTimeBound(res.Apply, true, 1, 2*n+stopped)
		res.Apply.RequestBound, res.Apply.RequestBoundText = 2*n+stopped, "N POST + N GET + a stop each stopped"
		ids := check(res.Apply, func(s emulator.Server) bool { return powered(s) && !s.BackupsEnabled }, n)
		if res.Apply.Failed == "" {
			res.Apply.Slack, res.Apply.SlackMissing = pollSlack(res.Apply.Requests, ids, h.provisioning)
			fleet = true
		}
	case h.runs("plan") || h.runs("update") || h.runs("destroy"):
		// The later phases need the servers: an apply creates them, with
		// neither the rate limit nor the latency, and is not reported.
		b.Logf("N=%d: apply (setup, not measured)", n)
		setup, err := h.measureWith(ctx, emu, env, dir, "setup apply", n, false, applyArgs...)
		if err != nil {
			return nil, err
		}
		check(setup, powered, n)
		if setup.Failed != "" {
			return nil, fmt.Errorf("N=%d: the apply that creates the servers for the phases asked for failed: %s\n%s", n, setup.Failed, setup.Run.output())
		}
		res.Setup = fmt.Sprintf("the %d servers were created first by an apply that is not reported, run without rate limit or latency (%s, %d requests)",
			n, secs(setup.Run.Wall), setup.total())
		fleet = true
	}

	if h.runs("plan") {
		// plan: a refresh reads each server once; nothing may change (exit
		// 0 with -detailed-exitcode; 2 means changes).
		if !fleet {
			res.Plan = skipped("plan")
		} else {
			if res.Plan, err = run("plan", "plan", "-input=false", "-no-color", "-detailed-exitcode", p); err != nil {
				return nil, err
			}
			if res.Plan.Run.Exit == 2 {
				res.Plan.Failed = "the plan is not empty (exit code 2 with -detailed-exitcode)"
			}
			h.setTimeBound(res.Plan, false, 1, n)
			res.Plan.RequestBound, res.Plan.RequestBoundText = n, "N GET"
		}
	}

	if h.runs("update") {
		// update: one attribute on every server, a PATCH each, after
		// terraform's refresh.
		if !fleet {
			res.Update = skipped("update")
		} else {
			if err := writeConfig(true); err != nil {
				return nil, err
			}
			if res.Update, err = run("update", applyArgs...); err != nil {
				return nil, err
			}
			h.setTimeBound(res.Update, false, 2, 2*n)
			res.Update.RequestBound, res.Update.RequestBoundText = 2*n, "N PATCH + N GET"
			check(res.Update, func(s emulator.Server) bool { return s.BackupsEnabled }, n)
		}
	}

	if h.runs("destroy") {
		// destroy: terraform's refresh, then N DELETE. Deletes are
		// immediate in the emulator.
		if !fleet {
			res.Destroy = skipped("destroy")
		} else {
			serverState := stateSize(dir)
			if res.Destroy, err = run("destroy", "destroy", "-auto-approve", "-input=false", "-no-color", p); err != nil {
				return nil, err
			}
			h.setTimeBound(res.Destroy, false, 2, 2*n)
			res.Destroy.RequestBound, res.Destroy.RequestBoundText = n, "N DELETE"
			check(res.Destroy, nil, 0)
			if err := h.measureDataFloors(ctx, b, emu, env, res, serverState); err != nil {
				return nil, err
			}
		}
	}

	if !h.runs("local-exec") || manner != h.manners[0] {
		return res, nil // the comparison does not depend on the manner
	}
	if h.curl == "" {
		res.LocalSkipped = "curl is not on PATH"
		return res, nil
	}
	if err := h.runLocalExec(ctx, b, emu, terraformEnv(h.cliConfig, emu.URL(), localToken), res); err != nil {
		return nil, err
	}
	return res, nil
}

// runLocalExec creates and destroys the same fleet through terraform_data
// and local-exec curl calls, on the same emulator (an account of its own).
func (h *harness) runLocalExec(ctx context.Context, b *testing.B, emu *emulator.Emulator, env []string, res *fleetResult) error {
	n := res.N
	dir := filepath.Join(h.tmp, fmt.Sprintf("local-exec-%d", n))
	idDir := filepath.Join(dir, "ids")
	if err := os.MkdirAll(idDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(localExecConfig(n, idDir)), 0o600); err != nil {
		return err
	}
	p := "-parallelism=" + strconv.Itoa(h.parallelism)

	b.Logf("N=%d: local-exec apply", n)
	apply, err := h.measure(ctx, emu, env, dir, "local-exec apply", n, "apply", "-auto-approve", "-input=false", "-no-color", p)
	if err != nil {
		return err
	}
	res.LocalApply = apply
	h.setTimeBound(apply, true, 1, 2*n)
	apply.RequestBound, apply.RequestBoundText = 2*n, "N POST + N GET"
	if apply.Failed == "" {
		ids, err := checkFleet(emu, localAccount, n, func(s emulator.Server) bool { return s.Status == emulator.StatusActive })
		if err != nil {
			apply.Failed = "after local-exec apply: " + err.Error()
		} else {
			apply.Slack, apply.SlackMissing = pollSlack(apply.Requests, ids, h.provisioning)
		}
	}
	if apply.Failed != "" {
		res.LocalDestroy = &phase{Name: "local-exec destroy", N: n, Skipped: "local-exec apply failed"}
		return nil
	}

	b.Logf("N=%d: local-exec destroy", n)
	destroy, err := h.measure(ctx, emu, env, dir, "local-exec destroy", n, "destroy", "-auto-approve", "-input=false", "-no-color", p)
	if err != nil {
		return err
	}
	res.LocalDestroy = destroy
	// No refresh before it: terraform_data has nothing to read.
	h.setTimeBound(destroy, false, 1, n)
	destroy.RequestBound, destroy.RequestBoundText = n, "N DELETE"
	if destroy.Failed == "" {
		if _, err := checkFleet(emu, localAccount, 0, nil); err != nil {
			destroy.Failed = "after local-exec destroy: " + err.Error()
		}
	}
	return nil
}

// setTimeBound fills in a measured phase's time bounds (see lowerBound):
// provisioned when each server waits out the provisioning time, roundTrips
// the requests each server needs one after the other, fewest the fewest
// requests the phase can do its work with through a rate limit: apply N
// POST + N GET, plan N GET, update and destroy N GET (terraform's refresh)
// + N PATCH or DELETE; local-exec: its apply as the provider's, its destroy
// N DELETE (no refresh).
func (h *harness) setTimeBound(ph *phase, provisioned bool, roundTrips, fewest int) {
	var provisioning time.Duration
	if provisioned {
		provisioning = h.provisioning
	}
	ph.TimeBound, ph.TimeBoundText = lowerBound(ph.N, h.parallelism, provisioning, h.latency, roundTrips, ph.passed(), h.rateLimit)
	ph.FewestBound, ph.FewestBoundText = lowerBound(ph.N, h.parallelism, provisioning, h.latency, roundTrips, fewest, h.rateLimit)
	if !provisioned {
		return
	}
	// Servers stopped after their create hold their slot for the stop too.
	d := stopsBound(ph.N, h.parallelism, min(h.stopped, ph.N), provisioning, h.transition)
	if d > ph.TimeBound {
		ph.TimeBound, ph.TimeBoundText = d, "provisioning + stops"
	}
	if d > ph.FewestBound {
		ph.FewestBound, ph.FewestBoundText = d, "provisioning + stops"
	}
}

// measure runs one terraform command as a measured phase, under the
// emulator's rate limit and latency (see measureWith).
func (h *harness) measure(ctx context.Context, emu *emulator.Emulator, env []string, dir, name string, n int, args ...string) (*phase, error) {
	return h.measureWith(ctx, emu, env, dir, name, n, true, args...)
}

// measureWith runs one terraform command as a phase: the request log
// emptied before, read after; the bench process's CPU time around it. With
// faults, the emulator's rate limit (its buckets full: every phase starts
// alike, whatever the one before left) and latency are on during the
// command, else off. A command that exits non-zero, or runs into its
// timeout, is a failed phase; the error is for what stops the benchmark
// (an interrupt, terraform that cannot start).
func (h *harness) measureWith(ctx context.Context, emu *emulator.Emulator, env []string, dir, name string, n int, faults bool, args ...string) (*phase, error) {
	phaseCtx, cancel := context.WithTimeoutCause(ctx, h.commandTimeout(n),
		fmt.Errorf("%s of %d servers took longer than %s", name, n, h.commandTimeout(n)))
	defer cancel()
	logPath := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".log")

	if faults {
		emu.SetRateLimit(h.rateLimit, h.burst)
		emu.SetLatency(h.latency)
	}
	emu.ResetRequests()
	began := time.Now()
	cpu0 := processCPU()
	run, err := runTerraform(phaseCtx, h.tf, env, dir, logPath, args...)
	cpu := processCPU() - cpu0
	emu.SetRateLimit(0, 0)
	emu.SetLatency(0)
	h.keepLogs(n, name, began, logPath, emu.Requests())
	ph := &phase{
		Name:        name,
		N:           n,
		Run:         run,
		Requests:    emu.Requests(),
		Counts:      emu.RequestCounts(),
		EmulatorCPU: max(cpu-run.SamplerCPU, 0),
	}
	switch {
	case err != nil && ctx.Err() == nil && phaseCtx.Err() != nil:
		ph.Failed = err.Error()
	case err != nil:
		return nil, fmt.Errorf("N=%d %s: %w\n%s", n, name, err, run.output())
	case run.Exit != 0:
		ph.Failed = firstError(run.Log, run.Exit)
	}
	return ph, nil
}

// keepLogs copies a phase's terraform output and writes its request log
// into BENCH_LOG_DIR, if set. Failing to is not worth failing the run for.
func (h *harness) keepLogs(n int, name string, began time.Time, tfLog string, reqs []emulator.Request) {
	if h.logDir == "" {
		return
	}
	base := filepath.Join(h.logDir, fmt.Sprintf("N%d-%s", n, strings.ReplaceAll(name, " ", "-")))
	if data, err := os.ReadFile(tfLog); err == nil {
		_ = os.WriteFile(base+".terraform.log", data, 0o644)
	}
	var buf strings.Builder
	for _, r := range reqs {
		target := r.Path
		if r.RawQuery != "" {
			target += "?" + r.RawQuery
		}
		fmt.Fprintf(&buf, "%.1f\t%s\t%s\t%d\n", float64(r.Time.Sub(began).Microseconds())/1000, r.Method, target, r.Status)
	}
	_ = os.WriteFile(base+".requests.tsv", []byte(buf.String()), 0o644)
}

// checkFleet checks that the account holds exactly n servers, each passing
// ok (nil: any), and returns their ids.
func checkFleet(emu *emulator.Emulator, account string, n int, ok func(emulator.Server) bool) ([]int64, error) {
	servers := emu.Servers(account)
	if len(servers) != n {
		return nil, fmt.Errorf("the emulator holds %d servers, want %d", len(servers), n)
	}
	ids := make([]int64, len(servers))
	for i, s := range servers {
		if ok != nil && !ok(s) {
			return nil, fmt.Errorf("server %d (%s) is not as expected: status %q, backups %t", s.ID, s.Name, s.Status, s.BackupsEnabled)
		}
		ids[i] = s.ID
	}
	return ids, nil
}

// reportMetrics reports the key figures of one N to the testing package:
// per provider phase that ran, its wall time, wall / lower bound (_ratio:
// for the requests sent; _ratio_fewest: for the fewest), requests, 429s
// and, if it failed, <phase>_failed = 1.
func reportMetrics(b *testing.B, res *fleetResult) {
	for _, p := range res.providerPhases() {
		if p.Skipped != "" {
			continue
		}
		b.ReportMetric(p.Run.Wall.Seconds(), p.Name+"_s")
		if r := p.timeRatio(); r > 0 {
			b.ReportMetric(r, p.Name+"_ratio")
		}
		if r := p.fewestRatio(); r > 0 {
			b.ReportMetric(r, p.Name+"_ratio_fewest")
		}
		b.ReportMetric(float64(p.total()), p.Name+"_requests")
		b.ReportMetric(float64(p.throttled()), p.Name+"_429s")
		if p.Failed != "" {
			b.ReportMetric(1, p.Name+"_failed")
		}
	}
	for _, m := range []struct {
		p    *phase
		unit string
	}{{res.Apply, "apply_GETs/created"}, {res.Update, "update_GETs/changed"}, {res.Destroy, "destroy_GETs/deleted"}} {
		if ok(m.p) {
			b.ReportMetric(float64(m.p.gets())/float64(m.p.N), m.unit)
		}
	}
	if d := res.Destroy; ok(d) {
		b.ReportMetric(d.perServer(), "destroy_req/deleted")
	}
	if a := res.Apply; a != nil && a.Skipped == "" && a.Failed == "" {
		b.ReportMetric(a.pollsPerServer(), "polls/server")
		b.ReportMetric(a.perServer(), "apply_req/server")
		b.ReportMetric(float64(a.Run.ProviderPeakKB)/1024, "provider_peak_MiB")
	}
	if floor, _ := destroyFloor(res); floor > 0 {
		b.ReportMetric(res.DataDestroy.Run.Wall.Seconds(), "terraform_data_destroy_s")
		b.ReportMetric(res.Destroy.Run.Wall.Seconds()/floor.Seconds(), "destroy_floor_ratio")
		if sized := res.SizedDataDestroy; ok(sized) {
			b.ReportMetric(sized.Run.Wall.Seconds(), "terraform_data_sized_destroy_s")
			b.ReportMetric(res.Destroy.Run.Wall.Seconds()/sized.Run.Wall.Seconds(), "destroy_sized_floor_ratio")
		}
	}
	if la := res.LocalApply; la != nil && la.Failed == "" {
		b.ReportMetric(la.Run.Wall.Seconds(), "localexec_apply_s")
	}
}

func randomToken() (string, error) {
	var buf [16]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", err
	}
	return "bench-" + hex.EncodeToString(buf[:]), nil
}

// terraformVersion is `terraform version`'s first line, or why not.
func terraformVersion(ctx context.Context, tf string) string {
	cmd := exec.CommandContext(ctx, tf, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
}

// gitRevision describes the tree the provider was built from, when git can
// tell.
func gitRevision(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
