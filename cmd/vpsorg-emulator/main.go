// Command vpsorg-emulator serves the VPS.org Servers API v1 emulator
// (package internal/emulator) for offline demos and hermetic pipeline tests.
//
//	vpsorg-emulator -listen 127.0.0.1:8080 -token emulator-token
//
// It prints a provider block to paste into a configuration, logs one line
// per request to stderr (never the token) and shuts down gracefully on
// SIGINT or SIGTERM. For pipeline tests it can make the API slow, rate
// limited and eventually consistent:
//
//	vpsorg-emulator -consistency-lag 1s -rate-limit 10 -latency 50ms
//
// As a service for pipelines (service.go): a control API and a live view
// under /_emulator/, -seed and -state files, -tls, -address-file, -chaos;
// and two subcommands, `run -- COMMAND` (run.go) and `health` (health.go).
//
// It shows real clouds' manners too: new servers late, a clock off, partial
// objects, unknown statuses, redirects, hostile next links, huge or echoing
// error bodies:
//
//	vpsorg-emulator -create-lag 3s -clock-offset -20s -partial-every 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	listen      string
	allowRemote bool
	tokens      tokenList
	options     emulator.Options
	quiet       bool

	// Faults for pipeline tests, set on the emulator after New.
	rateLimit float64 // requests per second per account; 0 is no limit
	burst     int
	latency   time.Duration

	service serviceConfig
}

// tokenList collects repeated -token flags, each TOKEN or TOKEN=ACCOUNT.
type tokenList struct {
	order    []string
	accounts map[string]string
}

func (t *tokenList) String() string { return strings.Join(t.order, ",") }

// Set splits at the last "=", so a token may itself contain "="; a value
// ending in "=" (base64 padding) is a bare token for the default account.
func (t *tokenList) Set(value string) error {
	token, account := value, emulator.DefaultAccount
	if i := strings.LastIndex(value, "="); i >= 0 && i < len(value)-1 {
		token, account = value[:i], value[i+1:]
	}
	if token == "" {
		return errors.New("empty token")
	}
	if t.accounts == nil {
		t.accounts = map[string]string{}
	}
	if _, dup := t.accounts[token]; dup {
		return errors.New("token given twice")
	}
	t.order = append(t.order, token)
	t.accounts[token] = account
	return nil
}

// usageHead is what -h, --help and help print above the flags.
const usageHead = `Usage:
  vpsorg-emulator [flags]
        serve the emulator until SIGINT or SIGTERM
  vpsorg-emulator run [flags] -- COMMAND [ARGS...]
        start the emulator on a free port, run COMMAND against it, print a summary
  vpsorg-emulator health [-url URL | -address-file FILE] [-ca-file FILE]
        exit 0 when a running emulator answers
  vpsorg-emulator help
        print this text

Flags (of the emulator, and of run before --):
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flagSet(&cfg, stderr)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s (see vpsorg-emulator help)", strings.Join(fs.Args(), " "))
	}
	if err := cfg.check(fs); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// flagSet defines every flag of the emulator on cfg; its usage goes to out.
func flagSet(cfg *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vpsorg-emulator", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to listen on; a non-loopback host needs -allow-remote")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	fs.Var(&cfg.tokens, "token", "accepted API token, TOKEN or TOKEN=ACCOUNT; repeatable (default "+emulator.DefaultToken+")")
	fs.DurationVar(&cfg.options.ProvisioningTime, "provisioning-time", emulator.DefaultProvisioningTime, "how long a new server provisions")
	fs.DurationVar(&cfg.options.TransitionTime, "transition-time", emulator.DefaultTransitionTime, "how long starting, stopping and rebooting last")
	fs.IntVar(&cfg.options.PageSize, "page-size", emulator.DefaultPageSize, "servers per list page")
	fs.IntVar(&cfg.options.Credits, "credits", emulator.DefaultCredits, "servers an account may hold at once")
	fs.BoolVar(&cfg.options.HonourIdempotencyKey, "honour-idempotency-key", false, "replay the first answer to a create repeated with the same Idempotency-Key")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not log requests")
	fs.IntVar(&cfg.options.JournalSize, "journal-size", emulator.DefaultJournalSize,
		fmt.Sprintf("requests the request journal keeps, the latest; each path cut to %d bytes", emulator.JournalPathLimit))
	fs.Float64Var(&cfg.rateLimit, "rate-limit", 0, "requests per second per account, over which the API answers 429; 0 is no limit")
	fs.IntVar(&cfg.burst, "burst", 0, "requests an account may send at once under -rate-limit (default the rate rounded up, at least 1)")
	fs.DurationVar(&cfg.latency, "latency", 0, "delay added to every request")
	fs.DurationVar(&cfg.options.ConsistencyLag, "consistency-lag", 0, "how long GET and the list keep showing a server as it was before an action or a delete")
	cfg.service.addFlags(fs)
	// Manners: real clouds' habits, for pipeline tests (internal/emulator/manners.go).
	m := &cfg.options.Manners
	fs.DurationVar(&m.CreateLag, "create-lag", 0, "how long a new server stays invisible to GET (404) and the list after its create")
	fs.DurationVar(&m.ClockOffset, "clock-offset", 0, "how far the API's clock (timestamps, Date header) is ahead of the real time; negative is behind")
	fs.IntVar(&m.PartialEvery, "partial-every", 0, "strip plan, os and location from every Nth answer that shows servers; 0 is never")
	fs.StringVar(&m.UnknownStatus, "unknown-status", "", `show this status instead of "active" in every answer`)
	fs.StringVar(&m.RedirectTo, "redirect-to", "", "answer every request 307 with Location at this base URL")
	fs.StringVar(&m.HostileNext, "hostile-next", "", `send this as the "next" link of every list page`)
	fs.BoolVar(&m.HugeErrors, "huge-errors", false, "make every error body about 1 MiB, nested 200 levels deep")
	fs.BoolVar(&m.EchoHeaders, "echo-headers", false, "echo the request's headers, Authorization included, in every error body")
	fs.IntVar(&m.ListChurn, "list-churn", 0, "before each of the next N requests for a list page after the first, delete the account's oldest server and create one like it; -1 is every one")
	// Answers the API documentation leaves open, each way (see the emulator's README).
	fs.BoolVar(&cfg.options.ExtendedCatalog, "extended-catalog", false, "accept plans 3-4, OS 1, 6, 7 and eu-central, ap-south besides the documented catalog (the emulator's own invention)")
	fs.BoolVar(&cfg.options.EmptyUpdateAnswer, "empty-update-answer", false, "answer PUT and PATCH with {} instead of the server (the body is undocumented)")
	fs.BoolVar(&cfg.options.RebootKeepsUpdatedAt, "reboot-keeps-updated-at", false, "leave updated_at alone on a reboot (the API does not promise that it moves)")
	fs.StringVar(&cfg.options.RateLimitHeaders, "rate-limit-headers", "", "under -rate-limit, say in every answer how much is left: ratelimit (RateLimit-Limit/-Remaining/-Reset), draft (RateLimit and RateLimit-Policy) or x-ratelimit (X-RateLimit-*)")
	fs.BoolVar(&cfg.options.StrictFilters, "strict-filters", false, "answer 400 to a list filtered by a status the documentation does not name (only active, stopped, suspended)")
	return fs
}

// check completes and validates the parsed flags.
func (cfg *config) check(fs *flag.FlagSet) error {
	if len(cfg.tokens.order) == 0 {
		_ = cfg.tokens.Set(emulator.DefaultToken)
	}
	cfg.options.Tokens = cfg.tokens.accounts
	// The emulator's zero values mean "default"; on the command line 0
	// means what it says.
	if cfg.options.ProvisioningTime == 0 {
		cfg.options.ProvisioningTime = -1
	}
	if cfg.options.TransitionTime == 0 {
		cfg.options.TransitionTime = -1
	}
	if cfg.options.Credits == 0 {
		cfg.options.Credits = -1
	}
	if cfg.options.PageSize < 1 {
		return errors.New("-page-size must be at least 1")
	}
	if cfg.options.JournalSize < 1 {
		return errors.New("-journal-size must be at least 1")
	}
	if cfg.options.ProvisioningTime < -1 || cfg.options.TransitionTime < -1 {
		return errors.New("durations must not be negative")
	}
	if cfg.options.Credits < -1 {
		return errors.New("-credits must not be negative")
	}
	if err := cfg.checkFaults(isSet(fs, "burst")); err != nil {
		return err
	}
	if !cfg.allowRemote {
		if err := checkLoopback(cfg.listen); err != nil {
			return err
		}
	}
	if err := cfg.service.check(fs); err != nil {
		return err
	}
	return nil
}

// checkFaults validates the fault flags and fills in the default burst.
func (c *config) checkFaults(burstSet bool) error {
	switch {
	case c.rateLimit < 0 || math.IsNaN(c.rateLimit) || math.IsInf(c.rateLimit, 0):
		return fmt.Errorf("-rate-limit %v: want requests per second, 0 (no limit) or more", c.rateLimit)
	case burstSet && c.rateLimit == 0:
		return errors.New("-burst needs -rate-limit")
	case burstSet && c.burst < 1:
		return errors.New("-burst must be at least 1")
	case c.latency < 0:
		return errors.New("-latency must not be negative")
	case c.options.ConsistencyLag < 0:
		return errors.New("-consistency-lag must not be negative")
	case c.options.Manners.CreateLag < 0:
		return errors.New("-create-lag must not be negative")
	case c.options.Manners.PartialEvery < 0:
		return errors.New("-partial-every must not be negative")
	case !slices.Contains(emulator.RateLimitHeaderFamilies, c.options.RateLimitHeaders):
		return fmt.Errorf("-rate-limit-headers %q: want ratelimit, draft or x-ratelimit", c.options.RateLimitHeaders)
	case c.options.RateLimitHeaders != "" && c.rateLimit == 0:
		return errors.New("-rate-limit-headers needs -rate-limit")
	}
	if !burstSet && c.rateLimit > 0 {
		c.burst = max(1, int(math.Min(math.Ceil(c.rateLimit), math.MaxInt32)))
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// faults describes the fault flags in effect, for the banner; "" if none.
func (c config) faults() string {
	var parts []string
	if c.rateLimit > 0 {
		parts = append(parts, fmt.Sprintf("rate limit %s requests/s per account (burst %d)",
			strconv.FormatFloat(c.rateLimit, 'g', -1, 64), c.burst))
	}
	if c.latency > 0 {
		parts = append(parts, "latency "+c.latency.String())
	}
	if c.options.ConsistencyLag > 0 {
		parts = append(parts, "consistency lag "+c.options.ConsistencyLag.String())
	}
	if c.options.RateLimitHeaders != "" {
		parts = append(parts, "rate-limit headers "+c.options.RateLimitHeaders)
	}
	if c.options.StrictFilters {
		parts = append(parts, "strict filters")
	}
	return strings.Join(parts, ", ")
}

// newEmulator makes the emulator the command line describes.
func newEmulator(cfg config) *emulator.Emulator {
	emu := emulator.New(cfg.options)
	emu.SetRateLimit(cfg.rateLimit, cfg.burst)
	emu.SetLatency(cfg.latency)
	return emu
}

// checkLoopback refuses a listen address that other machines could reach:
// the emulator accepts well-known tokens and must not be exposed by accident.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-listen %q is not a loopback address; pass -allow-remote to listen on it", addr)
}

// subcommands are the words that may come first on the command line.
var subcommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"run":    runCommand,
	"health": healthCommand,
	"help":   helpCommand,
}

// helpCommand prints the usage to stdout: it was asked for.
func helpCommand(_ context.Context, _ []string, stdout, _ io.Writer) int {
	flagSet(&config{}, stdout).Usage()
	return 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator:", err)
		return 2
	}
	if !cfg.quiet {
		cfg.options.Log = stderr
	}
	return serve(ctx, cfg, stdout, stderr)
}
