package persist

import (
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

	again := emulator.New(emulator.Options{})
	if _, loaded, err := Open(path, again); err != nil || !loaded {
		t.Fatalf("reopen: loaded %v, %v", loaded, err)
	}
	if s := again.Servers(emulator.DefaultAccount); len(s) != 1 || s[0].Name != "web" || s[0].Status != "active" {
		t.Errorf("restored %+v", s)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the state: %v", entries)
	}
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
