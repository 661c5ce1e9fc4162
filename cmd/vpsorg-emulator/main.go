// Command vpsorg-emulator serves the VPS.org Servers API v1 emulator
// (package internal/emulator) for offline demos and hermetic pipeline tests.
//
//	vpsorg-emulator -listen 127.0.0.1:8080 -token emulator-token
//
// It prints a provider block to paste into a configuration, logs one line
// per request to stderr (never the token) and shuts down gracefully on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
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

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("vpsorg-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to listen on; a non-loopback host needs -allow-remote")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	fs.Var(&cfg.tokens, "token", "accepted API token, TOKEN or TOKEN=ACCOUNT; repeatable (default "+emulator.DefaultToken+")")
	fs.DurationVar(&cfg.options.ProvisioningTime, "provisioning-time", emulator.DefaultProvisioningTime, "how long a new server provisions")
	fs.DurationVar(&cfg.options.TransitionTime, "transition-time", emulator.DefaultTransitionTime, "how long starting, stopping and rebooting last")
	fs.IntVar(&cfg.options.PageSize, "page-size", emulator.DefaultPageSize, "servers per list page")
	fs.IntVar(&cfg.options.Credits, "credits", emulator.DefaultCredits, "servers an account may hold at once")
	fs.BoolVar(&cfg.options.HonourIdempotencyKey, "honour-idempotency-key", false, "replay the first answer to a create repeated with the same Idempotency-Key")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not log requests")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
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
		return config{}, errors.New("-page-size must be at least 1")
	}
	if cfg.options.ProvisioningTime < -1 || cfg.options.TransitionTime < -1 {
		return config{}, errors.New("durations must not be negative")
	}
	if cfg.options.Credits < -1 {
		return config{}, errors.New("-credits must not be negative")
	}
	if !cfg.allowRemote {
		if err := checkLoopback(cfg.listen); err != nil {
			return config{}, err
		}
	}
	return cfg, nil
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.listen)
	if err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator:", err)
		return 1
	}
	srv := &http.Server{Handler: emulator.New(cfg.options), ReadHeaderTimeout: 10 * time.Second}

	url := emulator.BaseURL(ln.Addr())
	fmt.Fprintf(stdout, "vpsorg-emulator listening on %s\n", url)
	fmt.Fprintf(stdout, "provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n}\n", url, cfg.tokens.order[0])

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "vpsorg-emulator:", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator: shutdown:", err)
		return 1
	}
	return 0
}
