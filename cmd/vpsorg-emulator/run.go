package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"syscall"
)

// The run subcommand is the one line a module author needs in CI:
//
//	vpsorg-emulator run -- terraform test
//
// It starts the emulator on a free loopback port, runs the command with
// VPSORG_ENDPOINT and VPSORG_API_TOKEN (and VPSORG_CA_FILE in -tls mode)
// pointing at it, stops the emulator, prints a summary and exits with the
// command's status.

const runUsage = "usage: vpsorg-emulator run [flags] -- COMMAND [ARGS...]"

// runDefaults come before the user's flags, which win: a free port, and no
// request log mixed into the command's output (the summary sums it up).
var runDefaults = []string{"-listen", "127.0.0.1:0", "-quiet"}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dash := slices.Index(args, "--")
	if dash < 0 || dash == len(args)-1 {
		fmt.Fprintln(stderr, "vpsorg-emulator run: no command to run;", runUsage)
		return 2
	}
	cfg, err := parseFlags(append(slices.Clone(runDefaults), args[:dash]...), stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator run:", err)
		return 2
	}
	if !cfg.quiet {
		cfg.options.Log = stderr
	}
	in, err := launch(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator run:", err)
		return 1
	}
	command := args[dash+1:]
	code := runChild(ctx, command, in, stdout, stderr)
	stopErr := in.stop()
	writeSummary(stderr, in.emu, command, code)
	if stopErr != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator run:", stopErr)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// runChild runs the command against the emulator and returns its exit
// status: 127 when it cannot be started, 128+N when signal N ended it.
// When ctx ends (SIGINT or SIGTERM to run), the command gets SIGTERM, so
// that a cancelled CI job lets terraform stop cleanly.
func runChild(ctx context.Context, command []string, in *instance, stdout, stderr io.Writer) int {
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(),
		"VPSORG_ENDPOINT="+in.url,
		"VPSORG_API_TOKEN="+in.cfg.tokens.order[0],
		"VPSORG_EMULATOR_URL="+in.root()+"_emulator/",
	)
	if in.caFile != "" {
		cmd.Env = append(cmd.Env, "VPSORG_CA_FILE="+in.caFile)
	}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	default:
		fmt.Fprintln(stderr, "vpsorg-emulator run:", err)
		return 127
	}
}
