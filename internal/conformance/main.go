// Command conformance runs the provider's acceptance tests (TestAcc*, which
// drive the terraform CLI) and protocol tests (TestProtocol*, which drive the
// provider's protocol-6 server in process, as Terraform would, and so also
// cover what an older CLI cannot run) against an API
// endpoint as a separate process and prints a record of conformance: a
// markdown table of which tests ran and passed, which skipped and why, and
// which checks each left to the emulator in process, for a release
// checklist. `make testacc-live` runs it.
//
//	go run ./internal/conformance [-run REGEXP] [-parallel N] [-min-ran N] [-terraform PATH]
//
// The tests drive the terraform binary -terraform names (by default
// TF_ACC_TERRAFORM_PATH, else terraform on PATH); the record's heading says
// which, since the tests of newer features skip on an older one. With
// VPSORG_ENDPOINT and VPSORG_API_TOKEN set it runs against that
// endpoint (the real API, staging). Otherwise it builds cmd/vpsorg-emulator
// and starts it as a separate process on a free loopback port, with
// provisioning 1s, a page size of 2 and a random token, so that the path a
// live API takes is exercised on any machine with Go and terraform. It fails
// when a test fails, or when fewer than -min-ran tests ran.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	envEndpoint  = "VPSORG_ENDPOINT"
	envToken     = "VPSORG_API_TOKEN"
	envTerraform = "TF_ACC_TERRAFORM_PATH"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	run       string
	parallel  int
	timeout   time.Duration
	minRan    int
	terraform string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.run, "run", "^TestAcc|^TestProtocol", "which tests to run (go test -run)")
	fs.IntVar(&o.parallel, "parallel", 6, "tests run at once (go test -parallel)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Hour, "limit for the whole run (go test -timeout)")
	fs.IntVar(&o.minRan, "min-ran", 0, "fail unless at least this many tests ran and passed")
	fs.StringVar(&o.terraform, "terraform", os.Getenv(envTerraform), "the terraform (or tofu) binary the tests drive (default $"+envTerraform+", else terraform on PATH)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := conform(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "conformance:", err)
		return 1
	}
	return 0
}

func conform(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tf, err := terraformBinary(o.terraform)
	if err != nil {
		return err
	}
	tfVersion := cliVersion(ctx, tf)
	endpoint, token := os.Getenv(envEndpoint), os.Getenv(envToken)
	against := endpoint
	if endpoint == "" || token == "" {
		dir, err := os.MkdirTemp("", "vpsorg-conformance-")
		if err != nil {
			return err
		}
		emu, err := startEmulator(ctx, root, dir)
		if err != nil {
			return err
		}
		defer func() {
			if emu.stop() {
				os.RemoveAll(dir)
			} else {
				fmt.Fprintf(stderr, "the emulator did not stop cleanly; its log is %s\n", emu.log)
			}
		}()
		endpoint, token = emu.endpoint, emu.token
		against = fmt.Sprintf("the emulator as a separate process (%s: provisioning %s, page size %d)", endpoint, emulatorProvisioning, emulatorPageSize)
	}
	fmt.Fprintf(stderr, "running %s on %s (%s) against %s\n", o.run, tfVersion, tf, against)

	cmd := exec.CommandContext(ctx, "go", "test", "-json", "-count=1", "-run", o.run,
		"-parallel", fmt.Sprint(o.parallel), "-timeout", o.timeout.String(), "./internal/provider")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TF_ACC=1", envTerraform+"="+tf, envEndpoint+"="+endpoint, envToken+"="+token)
	// Let the tests clean up (destroy what they made) on an interrupt.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Minute
	cmd.Stderr = stderr
	events, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	rec, readErr := readRecord(events, stderr)
	waitErr := cmd.Wait()

	fmt.Fprintf(stdout, "\n## Acceptance tests on %s against %s\n\n%s\n\n", tfVersion, against, provenance(ctx, root, tf, tfVersion))
	rec.writeTable(stdout)
	rec.writeFailures(stderr)

	passed, failed, _ := rec.counts()
	switch {
	case readErr != nil:
		return fmt.Errorf("reading go test's events: %w", readErr)
	case failed > 0:
		return fmt.Errorf("%d acceptance tests failed", failed)
	case rec.packageFailed || waitErr != nil:
		return fmt.Errorf("go test failed outside any test: %w", waitErr)
	case len(rec.tests) == 0:
		return fmt.Errorf("no test matched -run %q", o.run)
	case passed < o.minRan:
		return fmt.Errorf("only %d tests ran against the endpoint, want at least %d: did a test start to need the emulator in process?", passed, o.minRan)
	}
	return nil
}

// moduleRoot is the directory of the provider's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run this inside the provider's module")
	}
	return filepath.Dir(gomod), nil
}

// terraformBinary is the binary named, as an absolute path, or terraform
// on PATH when none is.
func terraformBinary(named string) (string, error) {
	if named == "" {
		bin, err := exec.LookPath("terraform")
		if err != nil {
			return "", fmt.Errorf("terraform is not on PATH; install it, or name one with -terraform or %s", envTerraform)
		}
		named = bin
	}
	bin, err := filepath.Abs(named)
	if err != nil {
		return "", err
	}
	if info, err := os.Stat(bin); err != nil || info.IsDir() {
		return "", fmt.Errorf("no terraform binary at %s", bin)
	}
	return bin, nil
}

// cliVersion is what the binary says it is ("Terraform v1.15.9",
// "OpenTofu v1.12.6"); warnings about the CLI configuration may come first.
func cliVersion(ctx context.Context, bin string) string {
	out, _ := exec.CommandContext(ctx, bin, "version").Output()
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "Terraform v") || strings.HasPrefix(line, "OpenTofu v") {
			return strings.TrimSpace(line)
		}
	}
	return "an unknown terraform"
}

// provenance says what was tested with what: the commit, terraform and Go,
// and when.
func provenance(ctx context.Context, root, tf, tfVersion string) string {
	first := func(name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return "unknown"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	return fmt.Sprintf("Commit %s, %s (%s), %s, %s.",
		first("git", "describe", "--always", "--dirty"), tfVersion, tf,
		first("go", "version"), time.Now().UTC().Format(time.RFC3339))
}

// The emulator's settings for a run: provisioning long enough that tests
// see it, short enough that a run takes a minute; pages small enough that
// every list spans several.
const (
	emulatorProvisioning = "1s"
	emulatorPageSize     = 2
)

// emulatorProcess is vpsorg-emulator running as a separate process.
type emulatorProcess struct {
	cmd      *exec.Cmd
	endpoint string
	token    string
	log      string // its request log
}

// startEmulator builds cmd/vpsorg-emulator into dir and starts it on a free
// loopback port, with a random token.
func startEmulator(ctx context.Context, root, dir string) (*emulatorProcess, error) {
	bin := filepath.Join(dir, "vpsorg-emulator")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/vpsorg-emulator")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the emulator: %w\n%s", err, out)
	}
	emu := &emulatorProcess{token: "conformance-" + rand.Text(), log: filepath.Join(dir, "emulator.log")}
	logFile, err := os.Create(emu.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the process has its own copy
	// Not cancelled with ctx: on an interrupt the tests still destroy what
	// they made; stop ends it after them.
	emu.cmd = exec.CommandContext(context.WithoutCancel(ctx), bin, "-listen", "127.0.0.1:0", "-token", emu.token,
		"-provisioning-time", emulatorProvisioning, "-page-size", fmt.Sprint(emulatorPageSize))
	emu.cmd.Stderr = logFile
	banner, err := emu.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := emu.cmd.Start(); err != nil {
		return nil, err
	}
	// The first line is "vpsorg-emulator listening on <endpoint>".
	first := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(banner)
		lines.Scan()
		first <- lines.Text()
		_, _ = io.Copy(io.Discard, banner)
	}()
	select {
	case line := <-first:
		if _, url, ok := strings.Cut(line, " listening on "); ok {
			emu.endpoint = url
			return emu, nil
		}
		emu.stop()
		log, _ := os.ReadFile(emu.log)
		return nil, fmt.Errorf("the emulator did not start: %q\n%s", line, bytes.TrimSpace(log))
	case <-time.After(30 * time.Second):
		emu.stop()
		return nil, errors.New("the emulator did not say where it listens within 30s")
	}
}

// stop interrupts the emulator, kills it if it lingers, and reports whether
// it stopped cleanly.
func (e *emulatorProcess) stop() bool {
	_ = e.cmd.Process.Signal(os.Interrupt)
	kill := time.AfterFunc(10*time.Second, func() { _ = e.cmd.Process.Kill() })
	err := e.cmd.Wait()
	return kill.Stop() && err == nil
}
