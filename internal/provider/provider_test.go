package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Acceptance tests run the real terraform CLI against an emulator in
// process, one per test, or, when VPSORG_ENDPOINT and VPSORG_API_TOKEN are
// both set, against that endpoint: the real API, a staging API, or the
// emulator run as a separate process (make testacc-live). One code path
// serves both. Tests make their preconditions through the API and observe
// through it (GET, the list); what only the emulator in process can do
// (faults, out-of-band status changes, the request log) is marked: a test
// that cannot do without it skips naming the hook it needs, and a check that
// only adds strength is logged as not checked (see notChecked).
//
// An endpoint from the environment is shared: every server a test makes is
// named with a random prefix of its own (testEnv.name), assertions look only
// at servers with that prefix, and nothing assumes an empty account or a
// page size. Sweepers (sweeper_test.go) delete what a crashed run leaves.

const testToken = "acc-test-token"

// testNamePrefix begins the name of every server a test makes. Sweepers
// delete servers whose names begin with it, and nothing else.
const testNamePrefix = "tfacc-"

// envAccTimeout overrides the default of accTimeout.
const envAccTimeout = "VPSORG_ACC_TIMEOUT"

// notCheckedMarker starts the log line of a check that only the emulator in
// process can make; internal/conformance lists these lines.
const notCheckedMarker = "not checked on this endpoint:"

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
	if err := loadCatalog(); err != nil {
		fmt.Fprintln(os.Stderr, "provider tests:", err)
		os.Exit(1)
	}
	// With -sweep it runs the sweepers instead of the tests.
	resource.TestMain(testRun{m})
}

// testRun removes the provider binary the CLI tests built, once the tests
// are done.
type testRun struct{ m *testing.M }

func (r testRun) Run() int {
	code := r.m.Run()
	if providerBin != "" {
		os.RemoveAll(providerBin)
	}
	return code
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

// endpointFromEnv reports whether the tests run against the endpoint in
// VPSORG_ENDPOINT rather than an emulator in process.
func endpointFromEnv() bool {
	return os.Getenv(envEndpoint) != "" && os.Getenv(envToken) != ""
}

// accTimeout bounds each wait a test does itself (making preconditions,
// changing things out of band, a terraform command it runs); with
// VPSORG_ACC_TIMEOUT set it is also every operation's timeout (see
// testEnv.serverConfig). Against an endpoint from the environment it
// defaults to the resource's create timeout: provisioning takes minutes.
func accTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(envAccTimeout)); err == nil && d > 0 {
		return d
	}
	if endpointFromEnv() {
		return defaultCreateTimeout
	}
	return time.Minute
}

// skipOnEndpointFromEnv skips a test that cannot run without the emulator in
// process. why names the hook or internal it needs.
func skipOnEndpointFromEnv(t *testing.T, why string) {
	t.Helper()
	if endpointFromEnv() {
		t.Skip(why)
	}
}

// testEnv is what one acceptance test talks to.
type testEnv struct {
	t        *testing.T
	emulator *emulator.Emulator // in process only; nil against an endpoint from the environment
	client   *vpsorg.Client     // to make preconditions and to check through the API
	endpoint string
	token    string
	prefix   string         // begins the name of every server this test makes
	seeded   map[int64]bool // servers made by seedServers, deleted when the test ends
}

// newTestEnv starts an emulator for the test, unless an endpoint is
// configured in the environment. In process there is one token, testToken,
// unless opts set others: then the test's token is the only one they set.
func newTestEnv(t *testing.T, opts ...func(*emulator.Options)) *testEnv {
	t.Helper()
	env := &testEnv{
		t:        t,
		endpoint: os.Getenv(envEndpoint),
		token:    os.Getenv(envToken),
		prefix:   testNamePrefix + randomLabel() + "-",
		seeded:   map[int64]bool{},
	}
	if !endpointFromEnv() {
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
		env.endpoint, env.token = emu.URL(), testToken
		if len(o.Tokens) == 1 {
			for token := range o.Tokens {
				env.token = token
			}
		}
	}
	cfg := vpsorg.Config{Endpoint: env.endpoint, Token: env.token}
	fastPolling(&cfg)
	client, err := vpsorg.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.client = client
	t.Logf("servers of this test are named %s*", env.prefix)
	return env
}

// randomLabel is six lower-case letters and digits.
func randomLabel() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

// fastPolling keeps tests quick against the emulator's short timings in
// process; any other endpoint gets the provider's own polling.
func fastPolling(cfg *vpsorg.Config) {
	if endpointFromEnv() {
		return
	}
	cfg.Poll = vpsorg.PollPolicy{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, Fraction: 0.1}
	cfg.RetryWaitMin = 50 * time.Millisecond
	cfg.RetryWaitMax = time.Second
}

// requireEmulator skips a test that cannot run without the emulator in
// process; why names the hook or internal it needs, for the skip message.
func (e *testEnv) requireEmulator(why string) *emulator.Emulator {
	e.t.Helper()
	skipOnEndpointFromEnv(e.t, why)
	return e.emulator
}

// notChecked logs a check that only the emulator in process can make and
// that this endpoint therefore did not get. The conformance record lists it.
func (e *testEnv) notChecked(what string) {
	e.t.Helper()
	e.t.Logf("%s %s", notCheckedMarker, what)
}

// onEmulator runs a check that reads the emulator's internals (the request
// log, mostly) to add strength to what the API shows. Against an endpoint
// from the environment it logs what went unchecked, with notChecked.
func (e *testEnv) onEmulator(what string, check func(*emulator.Emulator) error) error {
	e.t.Helper()
	if e.emulator == nil {
		e.notChecked(what)
		return nil
	}
	return check(e.emulator)
}

// emulatorCheck is onEmulator as a step's check.
func (e *testEnv) emulatorCheck(what string, check func(*emulator.Emulator) error) resource.TestCheckFunc {
	return func(*terraform.State) error { return e.onEmulator(what, check) }
}

// factories serves the provider in process, tuned to poll fast.
func (e *testEnv) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"vpsorg": releasingProtocol6(&vpsorgProvider{version: "test", tune: fastPolling}),
	}
}

// config prefixes HCL with the provider block for this environment.
func (e *testEnv) config(hcl string) string {
	if e.emulator == nil {
		return hcl // endpoint and token come from the environment
	}
	return fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n}\n\n%s", e.endpoint, e.token, hcl)
}

// name is the name of one of this test's servers.
func (e *testEnv) name(s string) string { return e.prefix + s }

// serverConfig is serverConfig with this test's name for the server and,
// when VPSORG_ACC_TIMEOUT is set and extra sets no timeouts, that value for
// every operation. Otherwise the resource's own defaults apply, as for a user.
func (e *testEnv) serverConfig(name string, planID int64, extra string) string {
	if d := os.Getenv(envAccTimeout); d != "" && !strings.Contains(extra, "timeouts") {
		extra += fmt.Sprintf("\n  timeouts {\n    create = %[1]q\n    update = %[1]q\n    delete = %[1]q\n  }", d)
	}
	return serverConfig(e.name(name), planID, extra)
}

// fleetConfig is n servers in one counted resource block at label, named
// this test's prefix, name, "-" and the index, with the provider block for
// this environment.
func (e *testEnv) fleetConfig(label, name string, n int, planID, osID int64, location string) string {
	return e.config(fmt.Sprintf(`
resource "vpsorg_server" %q {
  count    = %d
  name     = "%s%s-${count.index}"
  plan_id  = %d
  os_id    = %d
  location = %q
}
`, label, n, e.prefix, name, planID, osID, location))
}

// serverSpec is a server a test needs before it begins. Zero fields take
// the catalog's first plan, OS and location, no hostname and no backups.
type serverSpec struct {
	name     string // without the test's prefix
	planID   int64
	osID     int64
	location string
	hostname string
	backups  bool
	stopped  bool
}

func (s serverSpec) request(e *testEnv) vpsorg.CreateServerRequest {
	req := vpsorg.CreateServerRequest{
		Name:     e.name(s.name),
		PlanID:   cmp.Or(s.planID, catalog.plans[0]),
		OSID:     cmp.Or(s.osID, catalog.systems[0]),
		Location: cmp.Or(s.location, catalog.locations[0]),
	}
	if s.hostname != "" {
		req.Hostname = &s.hostname
	}
	if s.backups {
		req.BackupsEnabled = &s.backups
	}
	return req
}

// seedServers makes servers through the API, as a user could, and waits
// until each is active, or stopped if asked; they are deleted when the test
// ends. The creates go one after another, the waits together. In process
// the request log is then cleared, so that counts start with what the test
// itself does.
func (e *testEnv) seedServers(specs ...serverSpec) []vpsorg.Server {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
	defer cancel()
	servers := make([]vpsorg.Server, len(specs))
	for i, spec := range specs {
		created, err := e.client.CreateServer(ctx, spec.request(e))
		if err != nil {
			e.t.Fatalf("making server %s: %v", spec.request(e).Name, err)
		}
		e.seeded[created.ID] = true
		e.t.Cleanup(func() { e.deleteServer(created.ID) })
		servers[i] = *created
	}
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() {
			srv, err := e.waitActive(ctx, servers[i].ID)
			if err == nil && spec.stopped {
				srv, err = e.stop(ctx, srv.ID)
			}
			if err != nil {
				errs[i] = fmt.Errorf("making server %s: %w", servers[i].Name, err)
				return
			}
			servers[i] = *srv
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.t.Fatal(err)
	}
	if e.emulator != nil {
		e.emulator.ResetRequests()
	}
	return servers
}

func (e *testEnv) waitActive(ctx context.Context, id int64) (*vpsorg.Server, error) {
	return e.client.WaitForStatus(ctx, id, vpsorg.WaitSpec{
		Target:      []string{vpsorg.StatusActive},
		Pending:     []string{vpsorg.StatusProvisioning},
		NotFoundFor: time.Minute,
	})
}

// stop stops a server through the API and waits until it is stopped. An
// eventually consistent API may still show it active for a while.
func (e *testEnv) stop(ctx context.Context, id int64) (*vpsorg.Server, error) {
	if _, err := e.client.StopServer(ctx, id); err != nil {
		return nil, err
	}
	return e.client.WaitForStatus(ctx, id, vpsorg.WaitSpec{
		Target:  []string{vpsorg.StatusStopped},
		Pending: []string{vpsorg.StatusStopping, vpsorg.StatusActive},
	})
}

// stopOutOfBand stops the server named name through the API, behind
// Terraform's back.
func (e *testEnv) stopOutOfBand(name string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
	defer cancel()
	if _, err := e.stop(ctx, e.serverNamed(name).ID); err != nil {
		e.t.Fatalf("stopping %s: %v", e.name(name), err)
	}
}

// deleteOutOfBand deletes the server named name through the API, behind
// Terraform's back, and waits until the API no longer shows it.
func (e *testEnv) deleteOutOfBand(name string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
	defer cancel()
	id := e.serverNamed(name).ID
	if err := e.client.DeleteServer(ctx, id); err != nil {
		e.t.Fatalf("deleting %s: %v", e.name(name), err)
	}
	if err := e.client.WaitForDeleted(ctx, id); err != nil {
		e.t.Fatalf("deleting %s: %v", e.name(name), err)
	}
}

// deleteServer deletes a server through the API; one already gone is fine.
func (e *testEnv) deleteServer(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
	defer cancel()
	if err := e.client.DeleteServer(ctx, id); err != nil && !errors.Is(err, vpsorg.ErrNotFound) {
		e.t.Errorf("deleting server %d: %v (the sweeper will find it)", id, err)
	}
}

// listServers lists every server of the account through the API. On a
// shared account other tests delete servers while it pages, and a page that
// was there may be gone (404) when asked for: it tries again.
func (e *testEnv) listServers() ([]vpsorg.Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
	defer cancel()
	var err error
	for range 3 {
		var all []vpsorg.Server
		if all, err = e.client.ListServers(ctx, vpsorg.ListServersOptions{}); err == nil {
			return all, nil
		}
	}
	return nil, err
}

// ownServers lists, through the API, this test's servers.
func (e *testEnv) ownServers() ([]vpsorg.Server, error) {
	all, err := e.listServers()
	if err != nil {
		return nil, err
	}
	var own []vpsorg.Server
	for _, s := range all {
		if strings.HasPrefix(s.Name, e.prefix) {
			own = append(own, s)
		}
	}
	return own, nil
}

// serverNamed finds, through the API, this test's one server named name.
// It looks again before giving up: a list read while other tests delete
// servers may skip one that moved to an earlier page.
func (e *testEnv) serverNamed(name string) vpsorg.Server {
	e.t.Helper()
	var found []vpsorg.Server
	for try := range 3 {
		if try > 0 {
			time.Sleep(time.Second)
		}
		own, err := e.ownServers()
		if err != nil {
			e.t.Fatal(err)
		}
		found = found[:0]
		for _, s := range own {
			if s.Name == e.name(name) {
				found = append(found, s)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
	}
	e.t.Fatalf("the API lists %d servers named %q, want 1: %+v", len(found), e.name(name), found)
	return vpsorg.Server{}
}

// expectStatus checks through the API that the server named name has status.
func (e *testEnv) expectStatus(name, status string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := e.serverNamed(name).Status; got != status {
			return fmt.Errorf("the API shows %s %s, want %s", e.name(name), got, status)
		}
		return nil
	}
}

// checkDestroyed asks the API that every server in state is gone and that
// no server of this test is left, but those seedServers made. In process
// the account is the test's own, so that is every server in it.
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
	all, err := e.listServers()
	if err != nil {
		return err
	}
	var left []string
	for _, srv := range all {
		if (e.emulator != nil || strings.HasPrefix(srv.Name, e.prefix)) && !e.seeded[srv.ID] {
			left = append(left, fmt.Sprintf("%d (%s, %s)", srv.ID, srv.Name, srv.Status))
		}
	}
	if len(left) != 0 {
		return fmt.Errorf("servers of this test are left: %s", strings.Join(left, ", "))
	}
	return nil
}

// provisioning is how long the endpoint from the environment takes to
// provision a server, measured once a run.
var provisioning struct {
	once sync.Once
	took time.Duration
	err  error
}

// provisioningTime measures, once a run, how long the endpoint from the
// environment takes to provision a server (plus a poll's slack), for tests
// whose precondition is a timeout or an interrupt that provisioning outlasts.
// In process, tests set the time with the emulator's hook instead.
func (e *testEnv) provisioningTime() time.Duration {
	e.t.Helper()
	provisioning.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accTimeout())
		defer cancel()
		began := time.Now()
		created, err := e.client.CreateServer(ctx, serverSpec{name: "probe"}.request(e))
		if err != nil {
			provisioning.err = err
			return
		}
		defer e.deleteServer(created.ID)
		_, provisioning.err = e.waitActive(ctx, created.ID)
		provisioning.took = time.Since(began)
	})
	if provisioning.err != nil {
		e.t.Fatalf("measuring how long provisioning takes: %v", provisioning.err)
	}
	return provisioning.took
}

// seedFleet adds servers behind the API's back, as (name, status, location)
// triples, for in-process tests whose fleet needs statuses the API cannot
// make (suspended, rebooting) or exact request counts; names are used as
// given. Tests that can run against any endpoint use env.seedServers.
func seedFleet(t *testing.T, emu *emulator.Emulator, fleet [][3]string) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, s := range fleet {
		srv, err := emu.AddServer("acc", emulator.ServerSpec{Name: s[0], Status: s[1], Location: s[2], PlanID: 1, OSID: 5})
		if err != nil {
			t.Fatal(err)
		}
		ids[s[0]] = srv.ID
	}
	return ids
}
