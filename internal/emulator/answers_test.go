package emulator

import (
	"net/http"
	"testing"
	"time"
)

// Where the documentation leaves an answer open, the emulator can give
// either, so that the provider is tested against both.

func TestUpdateAnswer_IsTheServerByDefaultAndEmptyWhenAsked(t *testing.T) {
	for _, c := range []struct {
		name  string
		empty bool
	}{{"server object", false}, {"empty object", true}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{EmptyUpdateAnswer: c.empty})
			id := h.create("web")
			for _, method := range []string{"PATCH", "PUT"} {
				body := map[string]any{"name": "renamed-" + method, "hostname": "web.example.com", "backups_enabled": true}
				r := h.do(method, serverPath(id, ""), body)
				if r.status != http.StatusOK {
					t.Fatalf("%s: want 200, got %s", method, r)
				}
				if c.empty && (len(r.body) != 0 || string(r.raw) != "{}\n" && string(r.raw) != "{}") {
					t.Errorf("%s: want {}, got %s", method, r)
				}
				if !c.empty && r.body["name"] != "renamed-"+method {
					t.Errorf("%s: want the renamed server, got %s", method, r)
				}
				if s, _ := h.emu.Server(id); s.Name != "renamed-"+method {
					t.Errorf("%s: the change must be made either way; name is %q", method, s.Name)
				}
			}
		})
	}
}

func TestReboot_MovesUpdatedAtByDefaultAndLeavesItWhenAsked(t *testing.T) {
	for _, c := range []struct {
		name  string
		keep  bool
		moves bool
	}{{"default", false, true}, {"reboot keeps updated_at", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{RebootKeepsUpdatedAt: c.keep})
			id := h.create("web")
			h.clock.Advance(DefaultProvisioningTime)
			before, _ := h.emu.Server(id)
			h.clock.Advance(3 * time.Second)
			if r := h.do("POST", serverPath(id, "reboot"), nil); r.status != http.StatusOK {
				t.Fatalf("reboot: %s", r)
			}
			during, _ := h.emu.Server(id)
			h.clock.Advance(DefaultTransitionTime)
			after, _ := h.emu.Server(id)
			if during.Status != StatusRebooting || after.Status != StatusActive {
				t.Fatalf("statuses %s then %s, want rebooting then active", during.Status, after.Status)
			}
			if moved := !after.UpdatedAt.Equal(before.UpdatedAt); moved != c.moves {
				t.Errorf("updated_at %v before, %v after the reboot; moved = %v, want %v", before.UpdatedAt, after.UpdatedAt, moved, c.moves)
			}
			// A stop after it moves updated_at either way: only reboots are quiet.
			h.clock.Advance(3 * time.Second)
			h.do("POST", serverPath(id, "stop"), nil)
			h.clock.Advance(DefaultTransitionTime)
			if stopped, _ := h.emu.Server(id); !stopped.UpdatedAt.After(after.UpdatedAt) {
				t.Errorf("a stop must move updated_at: %v then %v", after.UpdatedAt, stopped.UpdatedAt)
			}
		})
	}
}
