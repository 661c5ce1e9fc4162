package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Acceptance tests run the real terraform CLI against an in-process
// emulator, one per test, or against the real API when VPSORG_ENDPOINT and
// VPSORG_API_TOKEN are both set. Checks that need to reach behind the API's
// back (out-of-band changes, the request log, fault hooks) skip on the real API.

const testToken = "acc-test-token"

// Emulator timings for tests: short, but long enough that a poll sees the
// transient statuses.
const (
	testProvisioningTime = 300 * time.Millisecond
	testTransitionTime   = 200 * time.Millisecond
)

func TestMain(m *testing.M) {
	// resource.UnitTest runs terraform without TF_ACC too.
	if err := prepareTerraform(); err != nil {
		fmt.Fprintln(os.Stderr, "provider tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	if providerBin != "" {
		os.RemoveAll(providerBin)
	}
	os.Exit(code)
}

// prepareTerraform makes terraform-plugin-testing use the installed
// terraform (never a download) and an empty CLI configuration, so that a
// developer's dev_overrides or credentials cannot leak into the tests.
func prepareTerraform() error {
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		bin, err := exec.LookPath("terraform")
		if err != nil {
			return errors.New("terraform is not on PATH; install it or set TF_ACC_TERRAFORM_PATH")
		}
		os.Setenv("TF_ACC_TERRAFORM_PATH", bin)
	}
	dir, err := os.MkdirTemp("", "vpsorg-acc-")
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		return err
	}
	os.Setenv("TF_CLI_CONFIG_FILE", cfg)
	os.Setenv("CHECKPOINT_DISABLE", "1")
	return nil
}

// testEnv is what one acceptance test talks to.
type testEnv struct {
	t        *testing.T
	emulator *emulator.Emulator // nil against the real API
	client   *vpsorg.Client     // for checks that ask the API directly
}

func realAPI() bool {
	return os.Getenv(envEndpoint) != "" && os.Getenv(envToken) != ""
}

// newTestEnv starts an emulator for the test, unless the real API is configured.
func newTestEnv(t *testing.T, opts ...func(*emulator.Options)) *testEnv {
	t.Helper()
	env := &testEnv{t: t}
	cfg := vpsorg.Config{Endpoint: os.Getenv(envEndpoint), Token: os.Getenv(envToken)}
	if !realAPI() {
		o := emulator.Options{
			Tokens:           map[string]string{testToken: "acc"},
			ProvisioningTime: testProvisioningTime,
			TransitionTime:   testTransitionTime,
		}
		for _, opt := range opts {
			opt(&o)
		}
		emu, err := emulator.Start(o)
		if err != nil {
			t.Fatalf("starting the emulator: %v", err)
		}
		t.Cleanup(func() { emu.Close() })
		env.emulator = emu
		cfg = vpsorg.Config{Endpoint: emu.URL(), Token: testToken}
	}
	fastPolling(&cfg)
	client, err := vpsorg.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.client = client
	return env
}

// fastPolling keeps tests quick against the emulator's short timings.
func fastPolling(cfg *vpsorg.Config) {
	if realAPI() {
		return
	}
	cfg.Poll = vpsorg.PollPolicy{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, Fraction: 0.1}
	cfg.RetryWaitMin = 50 * time.Millisecond
	cfg.RetryWaitMax = time.Second
}

// requireEmulator skips a test that needs to reach behind the API's back.
func (e *testEnv) requireEmulator() *emulator.Emulator {
	e.t.Helper()
	if e.emulator == nil {
		e.t.Skip("this test changes the world behind the API's back, which only the emulator allows")
	}
	return e.emulator
}

// factories serves the provider in process, tuned to poll fast.
func (e *testEnv) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"vpsorg": providerserver.NewProtocol6WithError(&vpsorgProvider{version: "test", tune: fastPolling}),
	}
}

// config prefixes HCL with the provider block for this environment.
func (e *testEnv) config(hcl string) string {
	if e.emulator == nil {
		return hcl // the real API: endpoint and token come from the environment
	}
	return fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n}\n\n%s", e.emulator.URL(), testToken, hcl)
}

// checkDestroyed asks the API that every server in state is gone.
func (e *testEnv) checkDestroyed(s *terraform.State) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != "vpsorg_server" {
			continue
		}
		id, _ := strconv.ParseInt(rs.Primary.ID, 10, 64)
		_, err := e.client.GetServer(context.Background(), id)
		if err == nil {
			return fmt.Errorf("server %d still exists", id)
		}
		if !errors.Is(err, vpsorg.ErrNotFound) {
			return err
		}
	}
	if e.emulator != nil {
		if left := e.emulator.Servers("acc"); len(left) != 0 {
			return fmt.Errorf("the emulator still holds %d servers: %+v", len(left), left)
		}
	}
	return nil
}

// count returns how many requests the emulator has seen on "METHOD ROUTE".
func (e *testEnv) count(key string) int {
	return e.requireEmulator().RequestCounts()[key]
}

// serverByName finds a server in the emulator by name.
func (e *testEnv) serverByName(name string) emulator.Server {
	e.t.Helper()
	for _, s := range e.requireEmulator().Servers("acc") {
		if s.Name == name {
			return s
		}
	}
	e.t.Fatalf("no server named %q in the emulator", name)
	return emulator.Server{}
}
