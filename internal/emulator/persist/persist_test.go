package persist

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSeed_AddsServersPerAccountInAnyStatusWithStableIDs(t *testing.T) {
	path := writeFile(t, "seed.json", `{"accounts": {
	  "team-b": [{"name": "db", "plan_id": 2, "os_id": 5, "location": "us-west", "status": "suspended"}],
	  "team-a": [{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west", "status": "active"},
	             {"name": "new", "plan_id": 1, "os_id": 5, "location": "us-west"}]}}`)
	seed, err := LoadSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator.New(emulator.Options{})
	if err := seed.Apply(emu); err != nil {
		t.Fatal(err)
	}
	a, b := emu.Servers("team-a"), emu.Servers("team-b")
	if len(a) != 2 || a[0].Name != "web" || a[0].Status != "active" || a[1].Status != "provisioning" || a[0].ID != 12345 {
		t.Errorf("team-a %+v", a)
	}
	if len(b) != 1 || b[0].Status != "suspended" || b[0].ID != 12347 {
		t.Errorf("team-b %+v (accounts go in name order, so its id follows team-a's)", b)
	}
}

func TestLoadSeed_NamesWhatIsWrong(t *testing.T) {
	for content, want := range map[string]string{
		`{"accounts": {"a": [{"name": "x", "plan_id": 999, "os_id": 5, "location": "us-west"}]}}`: `account "a", server 1 ("x")`,
		`{"acounts": {}}`: `unknown field "acounts"`,
		`[]`:              "cannot unmarshal",
	} {
		if _, err := LoadSeed(writeFile(t, "seed.json", content)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", content, err, want)
		}
	}
}

func TestStore_SavesAfterEveryChangeAndRestoresOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	emu := emulator.New(emulator.Options{ProvisioningTime: -1})
	store, loaded, err := Open(path, emu)
	if err != nil || loaded {
		t.Fatalf("open a new file: loaded %v, %v", loaded, err)
	}
	srv := httptest.NewServer(store.SaveAfter(emu))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/servers/",
		strings.NewReader(`{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`))
	req.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: %v %v", resp, err)
	}
	resp.Body.Close()

	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	again := emulator.New(emulator.Options{})
	reopened, loaded, err := Open(path, again)
	if err != nil || !loaded {
		t.Fatalf("reopen: loaded %v, %v", loaded, err)
	}
	defer reopened.Close()
	if s := again.Servers(emulator.DefaultAccount); len(s) != 1 || s[0].Name != "web" || s[0].Status != "active" {
		t.Errorf("restored %+v", s)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 || entries[0].Name() != "state.json" || entries[1].Name() != "state.json.lock" {
		t.Errorf("beside the state, want only its lock: %v", entries)
	}
}

// send sends one request to srv, with the default token when token is set.
func send(t *testing.T, srv *httptest.Server, method, path, body string, token bool) int {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token {
		req.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestStore_WritesOnlyWhenTheStateChanged(t *testing.T) {
	emu := emulator.New(emulator.Options{ProvisioningTime: -1})
	store, _, err := Open(filepath.Join(t.TempDir(), "state.json"), emu)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(store.SaveAfter(emu))
	defer srv.Close()
	create := `{"name": "web", "plan_id": 1, "os_id": 5, "location": "us-west"}`
	if code := send(t, srv, "POST", "/api/v1/servers/", create, true); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if n := store.Writes(); n != 1 {
		t.Errorf("a create wrote the state %d times, want once", n)
	}
	// A first PATCH settles the server's provisioning, which ended at once,
	// into the state; the same PATCH again changes nothing.
	if code := send(t, srv, "PATCH", "/api/v1/servers/12345/", `{"name": "web"}`, true); code != 200 {
		t.Fatalf("PATCH: %d", code)
	}
	written := store.Writes()
	for _, r := range []struct {
		method, path, body string
		token              bool
	}{
		{"DELETE", "/api/v1/servers/12345/", "", false},              // 401
		{"DELETE", "/api/v1/servers/99999/", "", true},               // 404
		{"POST", "/api/v1/servers/", create, false},                  // 401
		{"POST", "/api/v1/servers/", `{"name": ""}`, true},           // 400
		{"PATCH", "/api/v1/servers/12345/", `{"name": "web"}`, true}, // the same name
		{"POST", "/api/v1/" + strings.Repeat("x", 4096) + "/", "", false},
	} {
		for range 20 {
			send(t, srv, r.method, r.path, r.body, r.token)
		}
		if n := store.Writes(); n != written {
			t.Errorf("%s %.40s (token %v) changed nothing and wrote the state %d times", r.method, r.path, r.token, n-written)
			written = n
		}
	}
	if code := send(t, srv, "DELETE", "/api/v1/servers/12345/", "", true); code != 204 || store.Writes() != written+1 {
		t.Errorf("a delete: %d, %d writes, want 204 and one write", code, store.Writes()-written)
	}
}

func TestOpen_RefusesAStateFileAnotherStoreHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first, _, err := Open(path, emulator.New(emulator.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Open(path, emulator.New(emulator.Options{}))
	want := fmt.Sprintf("state %s is in use by another emulator (pid %d", path, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a second open: %v, want an error containing %q", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, _, err := Open(path, emulator.New(emulator.Options{}))
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	second.Close()
}

func TestOpen_RefusesACorruptStateRatherThanStartingEmpty(t *testing.T) {
	path := writeFile(t, "state.json", `{"servers": [{"id": 1, "account": "a", "status": "active", "plan_id": 999, "os_id": 5}]}`)
	if _, _, err := Open(path, emulator.New(emulator.Options{})); err == nil || !strings.Contains(err.Error(), "unknown plan") {
		t.Errorf("err = %v", err)
	}
	if _, _, err := Open(writeFile(t, "state.json", "{"), emulator.New(emulator.Options{})); err == nil {
		t.Error("half a file opened")
	}
}
