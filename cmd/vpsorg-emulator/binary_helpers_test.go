package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in service_test.go, tls_test.go and run_test.go drive the
// built vpsorg-emulator binary as a separate process, as a pipeline does.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// TestMain makes the directory for the binaries, which are built only when
// a test needs them, removes it at the end, and doubles as the child command of the run tests
// (see helperChild).
func TestMain(m *testing.M) {
	if os.Getenv("VPSORG_TEST_CHILD") != "" {
		os.Exit(helperChild())
	}
	dir, err := os.MkdirTemp("", "vpsorg-emulator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// buildBinaries builds vpsorg-emulator (and the provider, for the terraform
// tests) once per test run, returning the directory that holds them.
func buildBinaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		for _, b := range []struct{ out, pkg string }{
			{"vpsorg-emulator", "."},
			{"terraform-provider-vpsorg", "../.."},
		} {
			cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(binDir, b.out), b.pkg)
			// Static, as goreleaser builds it for the release and the image.
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func emulatorBinary(t testing.TB) string {
	return filepath.Join(buildBinaries(t), "vpsorg-emulator")
}

// process is the emulator binary running in the background.
type process struct {
	cmd            *exec.Cmd
	url            string // the API's URL, from the address file
	addressFile    string
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	client         *http.Client // for the control API; in -tls mode, one trusting the CA
}

// startBinary starts the binary with args plus an address file, and waits
// for the address file: the readiness signal a script would use.
func startBinary(t testing.TB, args ...string) *process {
	t.Helper()
	p := &process{addressFile: filepath.Join(t.TempDir(), "address"),
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{}), client: http.DefaultClient}
	p.cmd = exec.Command(emulatorBinary(t), append(args, "-address-file", p.addressFile)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.stop(t) })
	// Polling a file for readiness, bounded; not a timed assertion.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if data, err := os.ReadFile(p.addressFile); err == nil {
			p.url = strings.TrimSpace(string(data))
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("the emulator exited before it was ready: %s\n%s", p.stdout, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address file after 30s: %s\n%s", p.stdout, p.stderr)
		}
	}
}

// stop sends SIGTERM, as a container runtime does, and waits for the exit.
func (p *process) stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("the emulator did not stop on SIGTERM")
	}
}

// root is the service's root URL, where /_emulator/ hangs.
func (p *process) root() string { return strings.TrimSuffix(p.url, "api/v1/") }

// request sends one request with an optional bearer token and returns the
// status and body.
func request(t testing.TB, client *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// helperChild is the command the run tests give `vpsorg-emulator run --`:
// it lists servers VPSORG_TEST_CHILD_GETS times through the environment
// run exported, writes that environment to VPSORG_TEST_CHILD_OUT, and exits
// with VPSORG_TEST_CHILD_EXIT.
func helperChild() int {
	var out bytes.Buffer
	for _, k := range []string{"VPSORG_ENDPOINT", "VPSORG_API_TOKEN", "VPSORG_EMULATOR_URL", "VPSORG_CA_FILE"} {
		fmt.Fprintf(&out, "%s=%s\n", k, os.Getenv(k))
	}
	var gets int
	_, _ = fmt.Sscan(os.Getenv("VPSORG_TEST_CHILD_GETS"), &gets)
	for range gets {
		req, _ := http.NewRequest("GET", os.Getenv("VPSORG_ENDPOINT")+"servers/", nil)
		req.Header.Set("Authorization", "Bearer "+os.Getenv("VPSORG_API_TOKEN"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintf(&out, "error %v\n", err)
			continue
		}
		resp.Body.Close()
		fmt.Fprintf(&out, "GET %d\n", resp.StatusCode)
	}
	if err := os.WriteFile(os.Getenv("VPSORG_TEST_CHILD_OUT"), out.Bytes(), 0o600); err != nil {
		return 99
	}
	var code int
	_, _ = fmt.Sscan(os.Getenv("VPSORG_TEST_CHILD_EXIT"), &code)
	return code
}
