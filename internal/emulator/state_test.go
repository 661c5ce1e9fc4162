package emulator

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestSnapshotRestore_ATransitionUnderWayGoesOnAfterARestore(t *testing.T) {
	h := newHarness(t, Options{ProvisioningTime: 10 * time.Second, TransitionTime: time.Minute})
	stopped := h.create("db")
	h.clock.Advance(10 * time.Second)
	if r := h.do("POST", serverPath(stopped, "stop"), nil); r.status != http.StatusOK {
		t.Fatalf("stop: %s", r)
	}
	id := h.create("web")
	h.do("DELETE", serverPath(h.create("gone"), ""), nil)
	h.clock.Advance(8 * time.Second) // web is 8s into 10

	// Through JSON, as the state file keeps it.
	data, err := json.Marshal(h.emu.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, Options{})
	h2.clock.now = h.clock.Now()
	if err := h2.emu.Restore(st); err != nil {
		t.Fatal(err)
	}
	if got := h2.status(id); got != StatusProvisioning {
		t.Errorf("restored web is %q, want provisioning (8s of 10)", got)
	}
	if got := h2.status(stopped); got != StatusStopping {
		t.Errorf("restored db is %q, want stopping", got)
	}
	h2.clock.Advance(2 * time.Second)
	if got := h2.status(id); got != StatusActive {
		t.Errorf("web after its 10s is %q, want active", got)
	}
	if got, want := h2.emu.History(id), h.emu.History(id); len(got) != 2 || !got[0].At.Equal(want[0].At) ||
		got[1].Status != StatusActive || !got[1].At.Equal(want[0].At.Add(10*time.Second)) {
		t.Errorf("history after restore %+v; before %+v", got, want)
	}
	if got := h2.emu.History(id + 1); len(got) == 0 || got[len(got)-1].Status != StatusDeleted {
		t.Errorf("the deleted server's history was lost: %+v", got)
	}
	if next := h2.create("next"); next != id+2 {
		t.Errorf("next id %d, want %d: ids must not be reused after a restore", next, id+2)
	}
}

func TestRestore_RefusesABadStateAndKeepsTheWorld(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.create("kept")
	for name, ss := range map[string]ServerState{
		"unknown plan": {ID: 1, Account: "alice", Status: "active", PlanID: 999, OSID: 5},
		"unknown os":   {ID: 1, Account: "alice", Status: "active", PlanID: 1, OSID: 999},
		"no account":   {ID: 1, Status: "active", PlanID: 1, OSID: 5},
		"no status":    {ID: 1, Account: "alice", PlanID: 1, OSID: 5},
		"bad id":       {ID: 0, Account: "alice", Status: "active", PlanID: 1, OSID: 5},
	} {
		if err := h.emu.Restore(State{Servers: []ServerState{ss}}); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
	if _, ok := h.emu.Server(id); !ok {
		t.Error("a refused restore changed the world")
	}
}

func TestReset_EmptiesTheWorldAndKeepsSettings(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.SetLatency(time.Millisecond)
	h.emu.InjectFault(Fault{Status: 500, Count: 5})
	h.do("GET", "/api/v1/servers/", nil)
	h.emu.Reset()
	if len(h.emu.Requests()) != 0 || len(h.emu.Servers("alice")) != 0 {
		t.Fatalf("after reset: requests %v servers %v", h.emu.Requests(), h.emu.Servers("alice"))
	}
	if id := h.create("first"); id != firstID {
		t.Errorf("first id after reset %d, want %d", id, firstID)
	}
	h.emu.mu.Lock()
	latency := h.emu.latency
	h.emu.mu.Unlock()
	if latency != time.Millisecond {
		t.Errorf("latency %v after reset; settings must stay", latency)
	}
}

func TestAccounts_ListsTokenAccountsAndServerOwners(t *testing.T) {
	h := newHarness(t, Options{})
	if _, err := h.emu.AddServer("carol", ServerSpec{Name: "x", PlanID: 1, OSID: 5, Location: "us-west"}); err != nil {
		t.Fatal(err)
	}
	if got := h.emu.Accounts(); !reflect.DeepEqual(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("Accounts() = %v", got)
	}
}

// chaosStatuses sends n list requests and returns the statuses.
func chaosStatuses(t *testing.T, rate float64, seed uint64, n int) []int {
	h := newHarness(t, Options{})
	h.emu.SetChaos(rate, seed)
	var out []int
	for range n {
		out = append(out, h.do("GET", "/api/v1/servers/", nil).status)
	}
	return out
}

func TestChaos_TheSameSeedGivesTheSameFaults(t *testing.T) {
	a, b := chaosStatuses(t, 0.5, 42, 40), chaosStatuses(t, 0.5, 42, 40)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("seed 42 twice:\n%v\n%v", a, b)
	}
	faults := 0
	for _, s := range a {
		if s != http.StatusOK {
			faults++
		}
	}
	if faults < 10 || faults > 30 {
		t.Errorf("%d faults in 40 requests at rate 0.5: %v", faults, a)
	}
	if c := chaosStatuses(t, 0.5, 43, 40); reflect.DeepEqual(a, c) {
		t.Errorf("seeds 42 and 43 gave the same sequence %v", a)
	}
	if off := chaosStatuses(t, 0, 42, 10); !reflect.DeepEqual(off, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}) {
		t.Errorf("rate 0 faulted: %v", off)
	}
}

func TestChaos_MarksItsFaultsInTheRequestLogAndRestartsOnReset(t *testing.T) {
	h := newHarness(t, Options{})
	h.emu.SetChaos(1, 7)
	send := func() []int {
		var seq []int
		for range 12 {
			seq = append(seq, h.do("GET", "/api/v1/servers/", nil).status)
		}
		return seq
	}
	first := send()
	if first[0] == http.StatusOK || !h.emu.Requests()[0].Fault {
		t.Fatalf("rate 1: %v, log %+v", first, h.emu.Requests())
	}
	h.emu.Reset()
	if again := send(); !reflect.DeepEqual(again, first) {
		t.Errorf("after reset %v, want the sequence from the start again %v", again, first)
	}
}
