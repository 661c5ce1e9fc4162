package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The terraform side of the benchmark: the provider binary built once, a
// CLI configuration of our own (dev_overrides, nothing else), and a runner
// that times one terraform command, samples its provider's memory and
// kills everything it started when it fails or is cancelled.

// providerName is the binary terraform looks for in the dev_overrides
// directory.
const providerName = "terraform-provider-vpsorg"

// providerComm is providerName as /proc/<pid>/comm shows it: the kernel cuts
// a command name to 15 bytes ("terraform-provi").
const providerComm = "terraform-provi"

// buildProvider builds the provider from this module into dir, the way
// `make build` does (-trimpath, stripped), and returns dir.
func buildProvider(ctx context.Context, dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go is not on PATH: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version=bench",
		"-o", filepath.Join(dir, providerName),
		"github.com/vpsorg/terraform-provider-vpsorg")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// findTerraform is TF_ACC_TERRAFORM_PATH, else terraform on PATH.
func findTerraform() (string, error) {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		return "", errors.New("terraform is not on PATH; install it or set TF_ACC_TERRAFORM_PATH")
	}
	return p, nil
}

// writeCLIConfig writes a CLI configuration that holds nothing but a
// dev_overrides entry for the provider, so that the user's own configuration
// (credentials, mirrors, other overrides) cannot take part.
func writeCLIConfig(path, providerDir string) error {
	config := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n",
		"vpsorg/vpsorg", providerDir)
	return os.WriteFile(path, []byte(config), 0o600)
}

// terraformEnv is the environment of every terraform command: the bench
// process's own, less anything that could change what terraform does
// (extra CLI arguments, logging, another CLI configuration or data
// directory, other credentials), plus ours.
func terraformEnv(cliConfig, endpoint, token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "TF_CLI_ARGS"),
			strings.HasPrefix(name, "TF_LOG"),
			strings.HasPrefix(name, "VPSORG_"),
			name == "TF_CLI_CONFIG_FILE", name == "TF_DATA_DIR", name == "TF_WORKSPACE",
			name == "TF_PLUGIN_CACHE_DIR", name == "TF_INPUT":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"VPSORG_ENDPOINT="+endpoint,
		"VPSORG_API_TOKEN="+token,
	)
}

// tfRun is one terraform command as the benchmark saw it.
type tfRun struct {
	Wall time.Duration
	Exit int
	// ProviderPeakKB is the largest VmHWM of any provider process that this
	// terraform started (it starts several per command), in KiB; 0 if none
	// was seen.
	ProviderPeakKB int64
	// Providers counts the provider processes seen.
	Providers int
	// ClientCPU is the user+system time of terraform and of the children it
	// waited for (the provider, local-exec shells and curl).
	ClientCPU time.Duration
	// SamplerCPU is the CPU the memory sampler spent in this process; the
	// emulator's CPU time excludes it.
	SamplerCPU time.Duration
	// Log is the file holding terraform's output.
	Log string
}

// output is the tail of the command's output, for error messages.
func (r tfRun) output() string {
	data, err := os.ReadFile(r.Log)
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	const tail = 6000
	if len(data) > tail {
		data = append([]byte("…"), data[len(data)-tail:]...)
	}
	return string(data)
}

// runTerraform runs terraform in dir with args, output to logPath. It
// returns an error only when the command could not run to the end (not
// started, killed, cancelled); a failing exit code is in tfRun.Exit.
//
// terraform runs in a process group of its own, so that on cancellation
// (ctx ends: a timeout or an interrupt of the benchmark) or on failure the
// whole group — terraform, its provider processes, local-exec shells — is
// killed; and with a parent-death signal, so that it dies with the
// benchmark even when the benchmark itself is killed.
func runTerraform(ctx context.Context, tfBin string, env []string, dir, logPath string, args ...string) (tfRun, error) {
	run := tfRun{Log: logPath, Exit: -1}
	logFile, err := os.Create(logPath)
	if err != nil {
		return run, err
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "$ terraform %s\n", strings.Join(args, " "))

	cmd := exec.CommandContext(ctx, tfBin, append([]string{"-chdir=" + dir}, args...)...)
	cmd.Env = env
	cmd.Dir = dir
	// A file, not a pipe: the kernel writes it, no goroutine of ours
	// copies terraform's output (and spends CPU charged to the emulator).
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 10 * time.Second

	// The parent-death signal fires when the thread that started the
	// child exits: keep that thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run, err
	}
	sampler := startRSSSampler(cmd.Process.Pid)
	waitErr := cmd.Wait()
	run.Wall = time.Since(start)
	run.ProviderPeakKB, run.Providers, run.SamplerCPU = sampler.stop()
	if cmd.ProcessState != nil {
		run.ClientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		run.Exit = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		return run, fmt.Errorf("terraform %s: %w", args[0], context.Cause(ctx))
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		_ = killGroup(cmd.Process.Pid)
		return run, fmt.Errorf("terraform %s: %w", args[0], waitErr)
	}
	if run.Exit != 0 {
		// terraform may have left a provider or a shell behind; they are
		// in its group.
		_ = killGroup(cmd.Process.Pid)
	}
	return run, nil
}

// killGroup kills the process group that runTerraform created for pid.
func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// rssSampler watches the provider processes of one terraform command.
type rssSampler struct {
	quit chan struct{}
	done chan rssResult
}

type rssResult struct {
	peakKB    int64
	processes int
	cpu       time.Duration
}

// startRSSSampler looks every ~100 ms for processes whose parent is
// terraform (pid) and whose command name is the provider's, and keeps the
// largest VmHWM (the kernel's own peak resident set, so a spike between two
// samples is not lost as long as the process is alive at one of them).
// It runs on a thread of its own so that its CPU time can be measured and
// taken out of the emulator's.
func startRSSSampler(parent int) *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), done: make(chan rssResult, 1)}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0 := threadCPU()
		seen := map[int]int64{}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			sampleProviders(parent, seen)
			select {
			case <-s.quit:
				var res rssResult
				for _, kb := range seen {
					res.peakKB = max(res.peakKB, kb)
				}
				res.processes = len(seen)
				res.cpu = threadCPU() - cpu0
				s.done <- res
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() (peakKB int64, processes int, cpu time.Duration) {
	close(s.quit)
	res := <-s.done
	return res.peakKB, res.processes, res.cpu
}

// sampleProviders scans /proc once, recording in seen the VmHWM of every
// provider process whose parent is parent.
func sampleProviders(parent int, seen map[int]int64) {
	f, err := os.Open("/proc")
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	var buf [64]byte
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(name)
		if err != nil || pid == parent {
			continue
		}
		if !commIs(pid, buf[:]) {
			continue
		}
		status, err := os.ReadFile("/proc/" + name + "/status")
		if err != nil {
			continue // gone meanwhile
		}
		ppid, hwm := parseStatus(status)
		if ppid != parent {
			continue // another terraform's provider (someone else's tests)
		}
		seen[pid] = max(seen[pid], hwm)
	}
}

// commIs reports whether /proc/<pid>/comm is the provider's.
func commIs(pid int, buf []byte) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return false
	}
	n, _ := f.Read(buf)
	f.Close()
	return bytes.HasPrefix(buf[:n], []byte(providerComm))
}

// parseStatus reads PPid and VmHWM (KiB) from /proc/<pid>/status.
func parseStatus(status []byte) (ppid int, hwmKB int64) {
	for _, line := range strings.Split(string(status), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "PPid":
			ppid, _ = strconv.Atoi(fields[0])
		case "VmHWM":
			hwmKB, _ = strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return ppid, hwmKB
}

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name.
const rusageThread = 1

// threadCPU is the user+system time of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return rusageCPU(ru)
}

// processCPU is the user+system time of the whole bench process: the
// emulator serving requests, and little else.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return rusageCPU(ru)
}

func rusageCPU(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
