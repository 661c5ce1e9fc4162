package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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
// local-exec curl calls on the same emulator, for comparison. Every command
// runs with -parallelism=BENCH_PARALLELISM. It prints, in markdown, a
// machine header, and per N the phase table, the requests by route and the
// comparison, and reports the key figures as benchmark metrics.
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

	results := map[int]*fleetResult{}
	for _, n := range s.ns {
		if ctx.Err() != nil {
			b.Fatal("interrupted")
		}
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			res, ok := results[n]
			if !ok {
				var err error
				res, err = h.runFleet(ctx, b, n)
				if err != nil {
					b.Fatal(err)
				}
				results[n] = res
				printFleet(os.Stdout, h.settings, res)
			}
			reportMetrics(b, res)
		})
	}
}

// settings are the benchmark's knobs.
type settings struct {
	ns           []int
	provisioning time.Duration
	transition   time.Duration
	parallelism  int
	pageSize     int
	logDir       string // BENCH_LOG_DIR: where to keep logs; "" for nowhere
}

func loadSettings() (settings, error) {
	s := settings{
		provisioning: 2 * time.Second,
		transition:   2 * time.Second,
		parallelism:  10,
		pageSize:     emulator.DefaultPageSize,
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
	return h, nil
}

// fleetResult is everything measured for one N.
type fleetResult struct {
	N       int
	Apply   *phase
	Plan    *phase
	Update  *phase
	Destroy *phase
	// LocalApply and LocalDestroy are the terraform_data + local-exec run;
	// nil when it was skipped (LocalSkipped says why).
	LocalApply   *phase
	LocalDestroy *phase
	LocalSkipped string
}

// commandTimeout bounds one terraform command: far above what any phase
// needs, so that only a hang reaches it.
func (h *harness) commandTimeout(n int) time.Duration {
	return 15*time.Minute + 20*applyBound(n, h.parallelism, h.provisioning)
}

// runFleet runs the whole suite for n servers on a fresh emulator.
func (h *harness) runFleet(ctx context.Context, b *testing.B, n int) (*fleetResult, error) {
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	const account = "bench"
	emu, err := emulator.Start(emulator.Options{
		Tokens:           map[string]string{token: account},
		ProvisioningTime: h.provisioning,
		TransitionTime:   h.transition,
		PageSize:         h.pageSize,
		Credits:          n + 10,
	})
	if err != nil {
		return nil, err
	}
	defer emu.Close()
	env := terraformEnv(h.cliConfig, emu.URL(), token)

	dir := filepath.Join(h.tmp, fmt.Sprintf("provider-%d", n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(providerConfig(n, false)), 0o600); err != nil {
		return nil, err
	}
	res := &fleetResult{N: n}
	p := "-parallelism=" + strconv.Itoa(h.parallelism)
	// cmd runs one phase, which must succeed: exit code 0 (for plan with
	// -detailed-exitcode, that is also "no changes").
	cmd := func(name string, args ...string) (*phase, error) {
		b.Logf("N=%d: %s", n, name)
		ph, err := h.measure(ctx, emu, env, dir, name, n, args...)
		if err != nil {
			return nil, err
		}
		if ph.Run.Exit != 0 {
			return nil, fmt.Errorf("N=%d %s: terraform exited %d, want 0\n%s", n, name, ph.Run.Exit, ph.Run.output())
		}
		return ph, nil
	}

	// apply: N POST; the least is N GET more, to read each server back.
	if res.Apply, err = cmd("apply", "apply", "-auto-approve", "-input=false", "-no-color", p); err != nil {
		return nil, err
	}
	res.Apply.TimeBound = applyBound(n, h.parallelism, h.provisioning)
	res.Apply.RequestBound, res.Apply.RequestBoundText = 2*n, "N POST + N GET"
	ids, err := checkFleet(emu, account, n, func(s emulator.Server) bool { return s.Status == emulator.StatusActive && !s.BackupsEnabled })
	if err != nil {
		return nil, fmt.Errorf("N=%d after apply: %w", n, err)
	}
	res.Apply.Slack, res.Apply.SlackMissing = pollSlack(res.Apply.Requests, ids, h.provisioning)

	// plan: a refresh reads each server once; nothing may change (exit 0).
	if res.Plan, err = cmd("plan", "plan", "-input=false", "-no-color", "-detailed-exitcode", p); err != nil {
		return nil, err
	}
	res.Plan.RequestBound, res.Plan.RequestBoundText = n, "N GET"

	// update: one attribute on every server, a PATCH each.
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(providerConfig(n, true)), 0o600); err != nil {
		return nil, err
	}
	if res.Update, err = cmd("update", "apply", "-auto-approve", "-input=false", "-no-color", p); err != nil {
		return nil, err
	}
	res.Update.RequestBound, res.Update.RequestBoundText = 2*n, "N PATCH + N GET"
	if _, err := checkFleet(emu, account, n, func(s emulator.Server) bool { return s.BackupsEnabled }); err != nil {
		return nil, fmt.Errorf("N=%d after update: %w", n, err)
	}

	// destroy: N DELETE. Deletes are immediate in the emulator: no time
	// bound.
	if res.Destroy, err = cmd("destroy", "destroy", "-auto-approve", "-input=false", "-no-color", p); err != nil {
		return nil, err
	}
	res.Destroy.RequestBound, res.Destroy.RequestBoundText = n, "N DELETE"
	if _, err := checkFleet(emu, account, 0, nil); err != nil {
		return nil, fmt.Errorf("N=%d after destroy: %w", n, err)
	}

	if h.curl == "" {
		res.LocalSkipped = "curl is not on PATH"
		return res, nil
	}
	if err := h.runLocalExec(ctx, b, emu, env, account, res); err != nil {
		return nil, err
	}
	return res, nil
}

// runLocalExec creates and destroys the same fleet through terraform_data
// and local-exec curl calls, on the same emulator.
func (h *harness) runLocalExec(ctx context.Context, b *testing.B, emu *emulator.Emulator, env []string, account string, res *fleetResult) error {
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
	if apply.Run.Exit != 0 {
		return fmt.Errorf("N=%d local-exec apply: terraform exited %d\n%s", n, apply.Run.Exit, apply.Run.output())
	}
	apply.TimeBound = applyBound(n, h.parallelism, h.provisioning)
	apply.RequestBound, apply.RequestBoundText = 2*n, "N POST + N GET"
	ids, err := checkFleet(emu, account, n, func(s emulator.Server) bool { return s.Status == emulator.StatusActive })
	if err != nil {
		return fmt.Errorf("N=%d after local-exec apply: %w", n, err)
	}
	apply.Slack, apply.SlackMissing = pollSlack(apply.Requests, ids, h.provisioning)
	res.LocalApply = apply

	b.Logf("N=%d: local-exec destroy", n)
	destroy, err := h.measure(ctx, emu, env, dir, "local-exec destroy", n, "destroy", "-auto-approve", "-input=false", "-no-color", p)
	if err != nil {
		return err
	}
	if destroy.Run.Exit != 0 {
		return fmt.Errorf("N=%d local-exec destroy: terraform exited %d\n%s", n, destroy.Run.Exit, destroy.Run.output())
	}
	destroy.RequestBound, destroy.RequestBoundText = n, "N DELETE"
	if _, err := checkFleet(emu, account, 0, nil); err != nil {
		return fmt.Errorf("N=%d after local-exec destroy: %w", n, err)
	}
	res.LocalDestroy = destroy
	return nil
}

// measure runs one terraform command as a phase: the request log emptied
// before, read after; the bench process's CPU time around it.
func (h *harness) measure(ctx context.Context, emu *emulator.Emulator, env []string, dir, name string, n int, args ...string) (*phase, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, h.commandTimeout(n),
		fmt.Errorf("%s of %d servers took longer than %s", name, n, h.commandTimeout(n)))
	defer cancel()
	logPath := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".log")

	emu.ResetRequests()
	began := time.Now()
	cpu0 := processCPU()
	run, err := runTerraform(ctx, h.tf, env, dir, logPath, args...)
	cpu := processCPU() - cpu0
	h.keepLogs(n, name, began, logPath, emu.Requests())
	if err != nil {
		return nil, fmt.Errorf("N=%d %s: %w\n%s", n, name, err, run.output())
	}
	return &phase{
		Name:        name,
		N:           n,
		Run:         run,
		Requests:    emu.Requests(),
		Counts:      emu.RequestCounts(),
		EmulatorCPU: max(cpu-run.SamplerCPU, 0),
	}, nil
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

// reportMetrics reports the key figures of one N to the testing package.
func reportMetrics(b *testing.B, res *fleetResult) {
	b.ReportMetric(res.Apply.Run.Wall.Seconds(), "apply_s")
	b.ReportMetric(res.Apply.timeRatio(), "apply_ratio")
	b.ReportMetric(res.Apply.pollsPerServer(), "polls/server")
	b.ReportMetric(res.Apply.perServer(), "apply_req/server")
	b.ReportMetric(res.Plan.Run.Wall.Seconds(), "plan_s")
	b.ReportMetric(res.Update.Run.Wall.Seconds(), "update_s")
	b.ReportMetric(res.Destroy.Run.Wall.Seconds(), "destroy_s")
	b.ReportMetric(float64(res.Apply.Run.ProviderPeakKB)/1024, "provider_peak_MiB")
	if res.LocalApply != nil {
		b.ReportMetric(res.LocalApply.Run.Wall.Seconds(), "localexec_apply_s")
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
