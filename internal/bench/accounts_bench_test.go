package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// BenchmarkSharedAccount measures the refusals of an account under a rate
// limit that several Terraform commands share, in the two cases:
//
//	single  one workspace of 24 servers, 4 requests/s with bursts of 8
//	three   three workspaces of 10 servers each, 6 requests/s (bursts of
//	        6), running at the same time (a CI matrix, Atlantis)
//
// Each workspace runs terraform apply, plan -detailed-exitcode and destroy
// one after the other (provisioning 1s, -parallelism=10); every command
// starts providers of its own. The account's bucket is never refilled by
// the benchmark: what one command leaves, the next meets, as on a real
// account. Each case runs twice: an API that documents nothing about its
// limit (only 429 with Retry-After), then one whose answers carry the IETF
// draft's RateLimit and RateLimit-Policy fields.
//
// It prints per case the requests, the 429s and their share, the wall time
// from the first command's start to the last one's end, and the floor: the
// requests the limit let through ÷ the rate (the burst's head start left
// out). BENCH_ACCOUNT_CASES (comma list of single, three; default both)
// chooses the cases. `make bench` runs it after the fleet benchmark.
func BenchmarkSharedAccount(b *testing.B) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := settings{provisioning: time.Second, parallelism: 10, pageSize: emulator.DefaultPageSize, logDir: os.Getenv("BENCH_LOG_DIR")}
	if s.logDir != "" {
		if err := os.MkdirAll(s.logDir, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	h, err := newHarness(ctx, b, s)
	if err != nil {
		b.Fatal(err)
	}
	cases := []accountCase{
		{name: "single", workspaces: 1, servers: 24, rate: 4, burst: 8},
		{name: "three", workspaces: 3, servers: 10, rate: 6, burst: 6},
	}
	if v := os.Getenv("BENCH_ACCOUNT_CASES"); v != "" {
		var chosen []accountCase
		for _, c := range cases {
			if strings.Contains(","+v+",", ","+c.name+",") {
				chosen = append(chosen, c)
			}
		}
		cases = chosen
	}
	fmt.Printf("\n## One account, several commands, under a rate limit\n\n")
	fmt.Println("| case | rate-limit headers | result | requests | 429s | 429 share | wall | floor (passed ÷ rate) | wall / floor |")
	fmt.Println("|---|---|---|--:|--:|--:|--:|--:|--:|")
	for _, c := range cases {
		for _, headers := range []string{emulator.RateLimitHeadersNone, emulator.RateLimitHeadersDraft} {
			c.headers = headers
			name := c.name + "/headers=" + map[bool]string{true: "none", false: headers}[headers == ""]
			b.Run(name, func(b *testing.B) {
				r, err := h.runAccount(ctx, b, c)
				if err != nil {
					b.Fatal(err)
				}
				fmt.Printf("| %d workspace(s) × %d servers, %g requests/s (burst %d) | %s | %s | %d | %d | %s | %s | %s | %.2f× |\n",
					c.workspaces, c.servers, c.rate, c.burst, map[bool]string{true: "none", false: headers}[headers == ""],
					r.result, r.requests, r.refused, percent(div(float64(r.refused), float64(r.requests))),
					secs(r.wall), secs(r.floor), r.wall.Seconds()/r.floor.Seconds())
				b.ReportMetric(float64(r.refused), "429s")
				b.ReportMetric(100*div(float64(r.refused), float64(r.requests)), "429_pct")
				b.ReportMetric(r.wall.Seconds()/r.floor.Seconds(), "floor_ratio")
			})
		}
	}
}

// accountCase is one case of BenchmarkSharedAccount.
type accountCase struct {
	name       string
	workspaces int
	servers    int
	rate       float64
	burst      int
	headers    string
}

type accountResult struct {
	requests, refused int
	wall, floor       time.Duration
	result            string
}

// runAccount runs a case on a fresh emulator: every workspace applies,
// plans and destroys, all at once.
func (h *harness) runAccount(ctx context.Context, b *testing.B, c accountCase) (accountResult, error) {
	token, err := randomToken()
	if err != nil {
		return accountResult{}, err
	}
	emu, err := emulator.Start(emulator.Options{
		Tokens:           map[string]string{token: account},
		ProvisioningTime: h.provisioning,
		TransitionTime:   2 * time.Second,
		Credits:          c.workspaces*c.servers + 10,
		RateLimitHeaders: c.headers,
	})
	if err != nil {
		return accountResult{}, err
	}
	defer emu.Close()
	emu.SetRateLimit(c.rate, c.burst)
	env := terraformEnv(h.cliConfig, emu.URL(), token)
	p := "-parallelism=" + strconv.Itoa(h.parallelism)
	commands := [][]string{
		{"apply", "-auto-approve", "-input=false", "-no-color", p},
		{"plan", "-input=false", "-no-color", "-detailed-exitcode", p},
		{"destroy", "-auto-approve", "-input=false", "-no-color", p},
	}

	var mu sync.Mutex
	var failures []string
	began := time.Now()
	var wg sync.WaitGroup
	for w := range c.workspaces {
		dir := filepath.Join(h.tmp, fmt.Sprintf("account-%s-%s-%d", c.name, c.headers, w))
		if err := os.Mkdir(dir, 0o700); err != nil {
			return accountResult{}, err
		}
		config := strings.ReplaceAll(providerConfig(c.servers, 0, false, 0), `"bench-${count.index}"`, fmt.Sprintf(`"ws%d-${count.index}"`, w))
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
			return accountResult{}, err
		}
		wg.Go(func() {
			for _, args := range commands {
				b.Logf("%s workspace %d: %s", c.name, w, args[0])
				began := time.Now()
				run, err := runTerraform(ctx, h.tf, env, dir, filepath.Join(dir, args[0]+".log"), args...)
				b.Logf("%s workspace %d: %s took %s", c.name, w, args[0], secs(time.Since(began)))
				if err == nil && run.Exit != 0 {
					err = fmt.Errorf("%s", firstError(run.Log, run.Exit))
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("workspace %d %s: %v", w, args[0], err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	r := accountResult{wall: time.Since(began), result: "ok"}
	h.keepLogs(c.workspaces*c.servers, "account-"+c.name+"-"+map[bool]string{true: "none", false: c.headers}[c.headers == ""], began, "", emu.Requests())
	for _, req := range emu.Requests() {
		r.requests++
		if req.Status == http.StatusTooManyRequests {
			r.refused++
		}
	}
	r.floor = time.Duration(float64(r.requests-r.refused) / c.rate * float64(time.Second))
	if len(failures) > 0 {
		r.result = "**FAILED**: " + oneLine(strings.Join(failures, "; "))
	} else if left := len(emu.Servers(account)); left != 0 {
		r.result = fmt.Sprintf("**FAILED**: %d servers left after destroy", left)
	}
	return r, nil
}
