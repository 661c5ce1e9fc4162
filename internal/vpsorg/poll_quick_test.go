package vpsorg

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// A poll floor of an hour: a wait that needed a second poll at the floor
// would never end within these tests' deadlines. Only the quick first looks,
// doubling from quickPoll, can end them.
var hourFloor = PollPolicy{Min: time.Hour, Max: time.Hour, Fraction: 0.1}

func quickClient(t *testing.T, opts emulator.Options) (*Client, *emulator.Emulator) {
	t.Helper()
	emu, err := emulator.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken, Poll: hourFloor})
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

// createAndWaitOne creates a server and waits for its provisioning, and
// returns how long the wait took.
func createAndWaitOne(t *testing.T, c *Client, name string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := c.CreateServer(ctx, CreateServerRequest{Name: name, PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, err := c.WaitForStatus(ctx, s.ID, provisioned); err != nil {
		t.Fatal(err)
	}
	return time.Since(began)
}

func TestWaitForDeleted_LooksSoonBacksOffAndSharesAListUntilGone(t *testing.T) {
	// Deletes show only after 300ms: the first looks still see the
	// servers. Done must still mean gone (a GET right after the wait
	// answers 404), and it must come long before the hour-long floor.
	const n = 6
	c, emu := quickClient(t, emulator.Options{ProvisioningTime: -1, ConsistencyLag: 300 * time.Millisecond})
	var ids []int64
	for range n {
		s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: "doomed", PlanID: 1, OSID: 5, Location: "us-west"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	emu.ResetRequests()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := c.DeleteServer(ctx, id); err != nil {
				t.Error(err)
				return
			}
			if err := c.WaitForDeleted(ctx, id); err != nil {
				t.Errorf("server %d: %v", id, err)
				return
			}
			if _, err := c.GetServer(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("the wait for server %d ended, but a GET right after answered %v; done must mean gone", id, err)
			}
		})
	}
	wg.Wait()

	lists := 0
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet && r.Route == emulator.RouteServers {
			lists++
		}
	}
	if lists == 0 {
		t.Error("no list was shared between the deletes: each server was looked at on its own")
	}
}

func TestWaitForDeleted_ALoneDeleteLooksAtOnce(t *testing.T) {
	// One delete, nothing else waiting: its look is a GET, sent at once
	// (the floor is an hour), and it sees the 404.
	c, emu := quickClient(t, emulator.Options{ProvisioningTime: -1})
	s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: "alone", PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := c.DeleteServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	if err := c.WaitForDeleted(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if reqs := emu.Requests(); len(reqs) != 1 || reqs[0].Route != emulator.RouteServer || reqs[0].Status != http.StatusNotFound {
		t.Errorf("a lone delete's wait sent %+v; want one GET answered 404", reqs)
	}
}

func TestWaitForStatus_TheFirstWaitOfAKindLooksSoon(t *testing.T) {
	// Provisioning takes 50ms; the floor is an hour. Only a first look
	// soon after the create, backing off from there, ends the wait.
	c, _ := quickClient(t, emulator.Options{ProvisioningTime: 50 * time.Millisecond})
	createAndWaitOne(t, c, "quick")
}

func TestPoller_aListRefusedAsInvalidIsNotSentAgain(t *testing.T) {
	c, emu := pollTestClient(t, 400*time.Millisecond)
	emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Count: 1000, Status: http.StatusBadRequest,
		Body: `{"detail": "Invalid parameters."}`})
	createAndWait(t, c, 6)
	if n := emu.RequestCounts()["GET "+emulator.RouteServers]; n != 1 {
		t.Errorf("%d list requests; the API refused the first as invalid, so it must be the only one", n)
	}
}

func TestPoller_withinTheDocumentedFiltersTwoGETsPerServer(t *testing.T) {
	// An API that refuses every undocumented filter value: thirty servers
	// created ten at a time, as terraform apply does, cost no refused
	// request and at most two GETs (lists included) per server.
	const n = 30
	c, emu := fleetEmulator(t, n, emulator.Options{ProvisioningTime: 500 * time.Millisecond, StrictFilters: true})
	if _, errs := applyFleet(t.Context(), c, n, 10, 0); errors.Join(errs...) != nil {
		t.Error(errors.Join(errs...))
	}
	gets := 0
	for _, r := range emu.Requests() {
		if r.Status == http.StatusBadRequest {
			t.Errorf("refused: %s %s?%s", r.Method, r.Path, r.RawQuery)
		}
		if r.Method == http.MethodGet {
			gets++
		}
	}
	if per := float64(gets) / n; per > 2 {
		t.Errorf("%d GETs for %d servers (%.1f each); want at most 2 each", gets, n, per)
	}
}

func TestWaitForStatus_aProvisioningSeenLateTeachesWhenItEnded(t *testing.T) {
	// Provisioning takes 3.3 s; the looks double from 25 ms (the floor is
	// an hour), so the one at 3.2 s just misses it and the next, at
	// 6.4 s, sees it. The server's created_at and the updated_at its end
	// set say it ended within 5 s of its create: later provisionings are
	// first looked at then, not at 6.4 s.
	c, _ := quickClient(t, emulator.Options{ProvisioningTime: 3300 * time.Millisecond})
	seen := createAndWaitOne(t, c, "slow")
	learned, _ := c.poller.expected("active<-provisioning")
	t.Logf("seen done after %v; the kind's waits now look at %v", seen.Round(time.Millisecond), learned.Round(time.Millisecond))
	if learned > 5*time.Second {
		t.Errorf("later provisionings look %v after their create; want by 5 s, when the server's timestamps say this one ended (seen at %v)", learned, seen.Round(time.Millisecond))
	}
}

func TestWaitLooks_anEndTheTimestampsSayComesBeforeTheLookThatSawIt(t *testing.T) {
	looks := waitLooks{endedBy: endedBy}
	view := func(created, updated string) observation {
		return observation{server: &Server{CreatedAt: created, UpdatedAt: updated}}
	}
	for _, c := range []struct {
		name         string
		o            observation
		notYet, seen time.Duration
		want         time.Duration
	}{
		{"ended 5 s after its create, by the API's clock", view("2026-12-07T10:00:00Z", "2026-12-07T10:00:05Z"), 4750 * time.Millisecond, 7100 * time.Millisecond, 6 * time.Second},
		{"an updated_at that never moved", view("2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z"), 4750 * time.Millisecond, 7100 * time.Millisecond, 7100 * time.Millisecond},
		{"an updated_at set before a look saw it not done", view("2026-12-07T10:00:00Z", "2026-12-07T10:00:02Z"), 4750 * time.Millisecond, 7100 * time.Millisecond, 7100 * time.Millisecond},
		{"an end the look saw sooner", view("2026-12-07T10:00:00Z", "2026-12-07T10:00:05Z"), 4750 * time.Millisecond, 5200 * time.Millisecond, 5200 * time.Millisecond},
		{"timestamps that are not RFC 3339", view("yesterday", "today"), 0, 7100 * time.Millisecond, 7100 * time.Millisecond},
		{"a 404", observation{notFound: ErrNotFound}, 0, 7100 * time.Millisecond, 7100 * time.Millisecond},
	} {
		if got := looks.took(c.o, c.notYet, c.seen); got != c.want {
			t.Errorf("%s: took %v, want %v", c.name, got, c.want)
		}
	}
	if got := (waitLooks{}).took(view("2026-12-07T10:00:00Z", "2026-12-07T10:00:05Z"), 0, 7100*time.Millisecond); got != 7100*time.Millisecond {
		t.Errorf("a wait that did not begin with a create: took %v, want the look that saw it", got)
	}
}

func TestWaitForStatus_aKnownWaitLookedAtTooSoonHalvesWhatIsLeft(t *testing.T) {
	// The kind's shortest wait ended between 0.4 s and 2 s: the next one
	// first looks halfway, at 1.2 s. Its server takes 1.4 s: that look is
	// too soon, and the next halves what is left of the span (1.6 s)
	// instead of waiting for its end, so the kind is now known to end by
	// then, not by 2 s.
	c, _ := quickClient(t, emulator.Options{ProvisioningTime: 1400 * time.Millisecond})
	const kind = "active<-provisioning"
	c.poller.learned[kind] = waitLength{below: 400 * time.Millisecond, ended: 2 * time.Second}
	createAndWaitOne(t, c, "halved")
	learned, _ := c.poller.expected(kind)
	t.Logf("the kind's waits now look at %v", learned.Round(time.Millisecond))
	if learned > 1800*time.Millisecond {
		t.Errorf("the kind is known to end by %v; want by about 1.6 s, where the look that halved the span saw it done", learned.Round(time.Millisecond))
	}
}
