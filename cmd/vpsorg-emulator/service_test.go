package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const seedJSON = `{"accounts": {
  "default": [{"name": "web-1", "plan_id": 1, "os_id": 5, "location": "us-west", "status": "active"},
              {"name": "web-2", "plan_id": 1, "os_id": 5, "location": "us-west", "status": "suspended"}],
  "team-b": [{"name": "db", "plan_id": 2, "os_id": 3, "location": "us-west", "status": "stopped"}]}}`

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// servers lists the servers the control API reports, as "id name status".
func servers(t *testing.T, p *process) []string {
	t.Helper()
	code, body := request(t, p.client, "GET", p.root()+"_emulator/servers", "", "")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	var list []struct {
		ID           int64
		Name, Status string
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range list {
		out = append(out, fmt.Sprintf("%d %s %s", s.ID, s.Name, s.Status))
	}
	return out
}

func TestBinary_TheSeedIsLoadedAtStartAndAgainOnReset(t *testing.T) {
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-token", "tok", "-token", "tok-b=team-b",
		"-seed", writeTemp(t, "seed.json", seedJSON))
	seeded := strings.Join(servers(t, p), ", ")
	if want := "12345 web-1 active, 12346 web-2 suspended, 12347 db stopped"; seeded != want {
		t.Fatalf("seeded %q, want %q", seeded, want)
	}
	// The seed is what the API shows, to the right account.
	if code, body := request(t, http.DefaultClient, "GET", p.url+"servers/", "tok-b", ""); code != 200 || !strings.Contains(body, `"db"`) ||
		strings.Contains(body, "web-1") {
		t.Errorf("team-b's list: %d %s", code, body)
	}
	request(t, http.DefaultClient, "DELETE", p.url+"servers/12345/", "tok", "")
	request(t, http.DefaultClient, "POST", p.root()+"_emulator/servers", "", `{"name": "extra", "plan_id": 1, "os_id": 5, "location": "us-west"}`)
	if code, _ := request(t, http.DefaultClient, "POST", p.root()+"_emulator/reset", "", ""); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	if again := strings.Join(servers(t, p), ", "); again != seeded {
		t.Errorf("after reset %q, want the seed again %q", again, seeded)
	}
}

func TestBinary_ABadSeedStopsTheStartNamingTheServer(t *testing.T) {
	bad := writeTemp(t, "seed.json", `{"accounts": {"default": [{"name": "x", "plan_id": 99, "os_id": 5, "location": "us-west"}]}}`)
	out, err := exec.Command(emulatorBinary(t), "-listen", "127.0.0.1:0", "-seed", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `account "default", server 1 ("x")`) {
		t.Errorf("err %v, output %s", err, out)
	}
}

func TestBinary_ReadinessHealthNeedsNoTokenAndTheAddressFileGoesAtExit(t *testing.T) {
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-token", "secret")
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") || !strings.HasSuffix(p.url, "/api/v1/") || strings.HasSuffix(p.url, ":0/api/v1/") {
		t.Errorf("address file holds %q, want the API's URL with the real port", p.url)
	}
	if code, body := request(t, http.DefaultClient, "GET", p.root()+"_emulator/health", "", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("health: %d %s", code, body)
	}
	if code, _ := request(t, http.DefaultClient, "GET", p.url+"servers/", "", ""); code != 401 {
		t.Errorf("the API without a token: %d, want 401", code)
	}
	health := exec.Command(emulatorBinary(t), "health", "-address-file", p.addressFile)
	if out, err := health.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("health subcommand: %v %s", err, out)
	}
	p.stop(t)
	if _, err := os.Stat(p.addressFile); !os.IsNotExist(err) {
		t.Errorf("the address file outlived the emulator: %v", err)
	}
	if out, err := exec.Command(emulatorBinary(t), "health", "-url", p.url).CombinedOutput(); err == nil {
		t.Errorf("health of a stopped emulator passed: %s", out)
	}
}

func TestBinary_StateSurvivesARestartWithTransitionsUnderWay(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"-listen", "127.0.0.1:0", "-quiet", "-state", state, "-provisioning-time", "1h"}
	p := startBinary(t, args...)
	// Out of band first, then through the API: each must be saved.
	request(t, http.DefaultClient, "POST", p.root()+"_emulator/servers", "", `{"name": "ready", "plan_id": 1, "os_id": 5, "location": "us-west", "status": "active"}`)
	code, created := request(t, http.DefaultClient, "POST", p.url+"servers/", "emulator-token",
		`{"name": "slow", "plan_id": 1, "os_id": 5, "location": "us-west"}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, created)
	}
	again := restart(t, p, args...)
	if !strings.Contains(again.stdout.String(), "restored 2 servers") {
		t.Errorf("banner %q does not say what it restored", again.stdout.String())
	}
	// Ids go on from where they were.
	if _, body := request(t, http.DefaultClient, "POST", again.url+"servers/", "emulator-token",
		`{"name": "third", "plan_id": 1, "os_id": 5, "location": "us-west"}`); !strings.Contains(body, `"id":12347`) {
		t.Errorf("create after the restart: %s", body)
	}
}

// restart stops p, starts the binary again with args and checks that it
// has the same servers in the same statuses.
func restart(t *testing.T, p *process, args ...string) *process {
	t.Helper()
	before := servers(t, p)
	p.stop(t)
	again := startBinary(t, args...)
	if after := servers(t, again); strings.Join(after, ", ") != strings.Join(before, ", ") {
		t.Fatalf("after the restart %v, want %v", after, before)
	}
	return again
}

// offLoopbackAddress is where the off-loopback test listens: a
// documentation address (RFC 5737) put on the loopback interface of a
// network namespace of the test's own, so that no request ever reaches a
// real interface of this machine or a network.
const offLoopbackAddress = "198.51.100.7"

// inPrivateNetwork runs script with sh in a new network namespace whose
// only interface is loopback, carrying offLoopbackAddress as well, and
// returns what it printed. It skips when this machine cannot make one
// (not root, no unshare or ip).
func inPrivateNetwork(t *testing.T, script string) string {
	t.Helper()
	for _, tool := range []string{"unshare", "ip", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s to make a private network namespace; control.TestAuthorize_OffLoopbackTheAdminTokenIsNeeded covers the rule", tool)
		}
	}
	setup := "set -e; ip link set lo up; ip addr add " + offLoopbackAddress + "/32 dev lo; "
	out, err := exec.Command("unshare", "--net", "sh", "-c", setup+script).CombinedOutput()
	if err != nil && strings.Contains(string(out), "Operation not permitted") {
		t.Skipf("cannot make a network namespace here (%s); control.TestAuthorize_OffLoopbackTheAdminTokenIsNeeded covers the rule", strings.TrimSpace(string(out)))
	}
	if err != nil {
		t.Fatalf("in a private network namespace: %v\n%s", err, out)
	}
	return string(out)
}

// Reached at an address that is not loopback, the client's address is that
// address too: the control API wants its admin token, and refuses outright
// when none is configured; health needs none. (Requests from loopback pass:
// TestBinary_TheSeedIsLoadedAtStartAndAgainOnReset resets from there.)
func TestBinary_TheControlAPIIsRefusedOffLoopbackWithoutItsToken(t *testing.T) {
	bin := emulatorBinary(t)
	dir := t.TempDir()
	// start EXTRA_ENV: the emulator on offLoopbackAddress, then its URL in $url.
	script := `start() {
  rm -f "$D/addr"; env "$@" "$BIN" -listen ` + offLoopbackAddress + `:0 -allow-remote -quiet -address-file "$D/addr" >"$D/log" 2>&1 &
  pid=$!; for i in $(seq 100); do [ -s "$D/addr" ] && break; sleep 0.05; done
  url=$(cat "$D/addr")
}
code() { curl -s -o "$D/body" -w '%{http_code}' -X "$1" ${3:+-H "Authorization: Bearer $3"} "${url%%/api/*}/_emulator/$2"; }
start VPSORG_EMULATOR_ADMIN_TOKEN=
echo "reset-without-admin-token $(code POST reset) $(tr -d '
' <"$D/body")"
echo "health $(code GET health)"
kill $pid; wait $pid || true
start VPSORG_EMULATOR_ADMIN_TOKEN=adm1n
echo "servers-no-token $(code GET servers)"
echo "servers-wrong-token $(code GET servers wrong)"
echo "servers-admin-token $(code GET servers adm1n)"
kill $pid; wait $pid || true
`
	cmd := "D=" + dir + "; BIN=" + bin + "; " + script
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(inPrivateNetwork(t, cmd)), "\n") {
		if name, rest, ok := strings.Cut(line, " "); ok {
			got[name] = rest
		}
	}
	if r := got["reset-without-admin-token"]; !strings.HasPrefix(r, "403 ") || !strings.Contains(r, "admin token") {
		t.Errorf("no admin token configured: %q, want 403 naming the admin token", r)
	}
	for name, want := range map[string]string{"health": "200", "servers-no-token": "401", "servers-wrong-token": "401", "servers-admin-token": "200"} {
		if got[name] != want {
			t.Errorf("%s from %s: %q, want %s (all: %v)", name, offLoopbackAddress, got[name], want, got)
		}
	}
}

// A web page in the user's browser must not reach the control API: not by
// a cross-site POST (text/plain, its own Origin), not under a name of its
// own pointed at 127.0.0.1 (DNS rebinding), not through a proxy on this
// machine. Pipelines on this machine are served, and so is anyone with the
// admin token; the live view still works from its own origin.
func TestBinary_TheControlAPIRefusesWebPagesAndServesPipelines(t *testing.T) {
	guarded := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-admin-token", "adm1n")
	open := startBinary(t, "-listen", "127.0.0.1:0", "-quiet")
	port := strings.TrimSuffix(strings.TrimPrefix(guarded.root(), "http://127.0.0.1:"), "/")
	crossSite := http.Header{"Origin": {"http://evil.example"}, "Content-Type": {"text/plain"}}
	rebound := http.Header{"Host": {"rebound.evil.example:" + port}}
	proxied := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	withToken := func(h http.Header) http.Header {
		h = h.Clone()
		h.Set("Authorization", "Bearer adm1n")
		return h
	}
	planted := `{"name": "planted", "plan_id": 1, "os_id": 5, "location": "us-west"}`
	for _, c := range []struct {
		name   string
		p      *process
		method string
		path   string
		header http.Header
		body   string
		want   int
	}{
		{"cross-site POST of a server", guarded, "POST", "_emulator/servers", crossSite, planted, 403},
		{"cross-site reset", guarded, "POST", "_emulator/reset", crossSite, "", 403},
		{"cross-site faults", guarded, "POST", "_emulator/faults", crossSite, `{"status": 500}`, 403},
		{"cross-site POST to an emulator without admin token", open, "POST", "_emulator/servers", crossSite, planted, 403},
		{"cross-site with the admin token", guarded, "POST", "_emulator/reset", withToken(crossSite), "", 403},
		{"foreign Host reads the state", guarded, "GET", "_emulator/state", rebound, "", 401},
		{"foreign Host where there is no admin token", open, "GET", "_emulator/state", rebound, "", 403},
		{"foreign Host with the admin token", guarded, "GET", "_emulator/state", withToken(rebound), "", 200},
		{"through a proxy", guarded, "GET", "_emulator/servers", proxied, "", 401},
		{"through a proxy with the admin token", guarded, "GET", "_emulator/servers", withToken(proxied), "", 200},
		{"loopback with the admin token", guarded, "POST", "_emulator/servers", withToken(http.Header{"Content-Type": {"application/json"}}),
			`{"name": "by-token", "plan_id": 1, "os_id": 5, "location": "us-west"}`, 201},
		{"loopback, as JSON", open, "POST", "_emulator/servers", http.Header{"Content-Type": {"application/json"}},
			`{"name": "by-pipeline", "plan_id": 1, "os_id": 5, "location": "us-west"}`, 201},
		{"loopback, not JSON", open, "POST", "_emulator/servers", http.Header{"Content-Type": {"text/plain"}}, planted, 415},
		{"the live view", open, "GET", "_emulator/ui/", nil, "", 200},
		{"the live view's feed", open, "GET", "_emulator/ui/feed.json", nil, "", 200},
	} {
		if code, body := requestWith(t, http.DefaultClient, c.method, c.p.root()+c.path, c.header, c.body); code != c.want {
			t.Errorf("%s: %s /%s answered %d %s, want %d", c.name, c.method, c.path, code, body, c.want)
		}
	}
	if got := strings.Join(append(servers(t, guarded), servers(t, open)...), ", "); got != "12345 by-token provisioning, 12345 by-pipeline provisioning" {
		t.Errorf("servers after the requests: %q, want only those of the admin token and the pipeline", got)
	}
}

func TestConfig_OwnHostsAreTheListenHostAndTheTLSNames(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "127.0.0.1:0"}, "127.0.0.1"},
		{[]string{"-listen", "localhost:8080"}, "localhost"},
		{[]string{"-listen", "0.0.0.0:8443", "-allow-remote"}, ""},
		{[]string{"-listen", ":8443", "-allow-remote"}, ""},
		{[]string{"-listen", "[::]:8443", "-allow-remote", "-tls", "-tls-names", "localhost, emulator,,vpsorg-emulator"}, "localhost emulator vpsorg-emulator"},
		{[]string{"-listen", "emu.lan:8443", "-allow-remote"}, "emu.lan"},
	} {
		cfg, err := parseFlags(c.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := strings.Join(cfg.ownHosts(), " "); got != c.want {
			t.Errorf("%v: own hosts %q, want %q", c.args, got, c.want)
		}
	}
}
