package vpsorg

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// pollTestClient is a client of a fresh emulator, polling fast.
func pollTestClient(t *testing.T, provisioning time.Duration) (*Client, *emulator.Emulator) {
	t.Helper()
	emu, err := emulator.Start(emulator.Options{ProvisioningTime: provisioning, TransitionTime: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := New(Config{
		Endpoint: emu.URL(), Token: emulator.DefaultToken,
		Poll:         PollPolicy{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond, Fraction: 0.1},
		RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

var provisioned = WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusProvisioning}, NotFoundTolerance: 3}

// createAndWait creates n servers at once and waits for each, concurrently,
// as Terraform's parallel creates do, and checks each ends active.
func createAndWait(t *testing.T, c *Client, n int) {
	t.Helper()
	out := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: "poll-" + string(rune('a'+i)), PlanID: 1, OSID: 5, Location: "us-west"})
			if err != nil {
				errs[i] = err
				return
			}
			out[i], errs[i] = c.WaitForStatus(t.Context(), s.ID, provisioned)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if out[i].Status != StatusActive || out[i].ResourceUsage == nil {
			t.Fatalf("server %d ended as %+v; want active, seen by a GET (detail view)", i, out[i])
		}
	}
}

func TestPoller_aLoneWaiterUsesGETsOnly(t *testing.T) {
	c, emu := pollTestClient(t, 300*time.Millisecond)
	createAndWait(t, c, 1)
	counts := emu.RequestCounts()
	if counts["GET "+emulator.RouteServers] != 0 {
		t.Errorf("a lone waiter listed servers: %v", counts)
	}
	if counts["GET "+emulator.RouteServer] < 2 {
		t.Errorf("a lone waiter made %d GETs; it should poll until active", counts["GET "+emulator.RouteServer])
	}
}

func TestPoller_concurrentWaitersShareListRequests(t *testing.T) {
	const n = 10
	c, emu := pollTestClient(t, 500*time.Millisecond)
	createAndWait(t, c, n)
	counts := emu.RequestCounts()
	lists, gets := counts["GET "+emulator.RouteServers], counts["GET "+emulator.RouteServer]
	t.Logf("%d waiters: %d list requests, %d GETs", n, lists, gets)
	if lists == 0 {
		t.Fatalf("no shared list requests: %v", counts)
	}
	// Every waiter needs one GET to see its end; the rest is shared.
	if gets > 2*n {
		t.Errorf("%d GETs for %d waiters: polls were not shared (%d lists)", gets, n, lists)
	}
	for _, r := range emu.Requests() {
		if r.Route == emulator.RouteServers && r.Method == http.MethodGet && r.RawQuery != "status=provisioning" {
			t.Errorf("a shared list was not filtered by the pending status: %q", r.RawQuery)
		}
	}
}

func TestPoller_aKnownKindOfWaitStartsPollingNearItsEnd(t *testing.T) {
	const provisioning = 600 * time.Millisecond
	c, emu := pollTestClient(t, provisioning)
	createAndWait(t, c, 1) // learns that provisioning takes about 600ms
	emu.ResetRequests()
	began := time.Now()
	createAndWait(t, c, 1)
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet && r.Time.Sub(began) < provisioning*8/10 {
			t.Errorf("polled after %v, before 80%% of the %v seen last time", r.Time.Sub(began), provisioning)
		}
	}
	if n := emu.RequestCounts()["GET "+emulator.RouteServer]; n > 4 {
		t.Errorf("%d GETs for a wait whose length is known; want a few near its end", n)
	}
}

func TestPoller_aFailingListFallsBackToGETs(t *testing.T) {
	c, emu := pollTestClient(t, 400*time.Millisecond)
	emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Count: 1000, Status: 500})
	createAndWait(t, c, 4)
	if emu.RequestCounts()["GET "+emulator.RouteServers] == 0 {
		t.Fatal("the list was never tried; the test proved nothing")
	}
}

func TestPoller_aListThatIgnoresTheFilterIsNotTrusted(t *testing.T) {
	// The servers provision for an hour, but every list claims they are
	// active: a wait must not end on a list's word, only on a GET's.
	c, emu := pollTestClient(t, time.Hour)
	var ids []int64
	var results []string
	for range 3 {
		s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: "liar", PlanID: 1, OSID: 5, Location: "us-west"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
		results = append(results, fmt.Sprintf(`{"id":%d,"name":"liar","status":"active","location":"us-west","plan":{"id":1},"os":{"id":5}}`, s.ID))
	}
	emu.InjectFault(emulator.Fault{Method: http.MethodGet, Route: emulator.RouteServers, Count: 1000, Status: 200,
		Body: `{"count":3,"next":null,"previous":null,"results":[` + strings.Join(results, ",") + `]}`})
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if s, err := c.WaitForStatus(ctx, id, provisioned); err == nil {
				t.Errorf("server %d: the wait ended on the list's word: %+v", id, s)
			}
		})
	}
	wg.Wait()
	if emu.RequestCounts()["GET "+emulator.RouteServers] == 0 {
		t.Fatal("no list was made; the test proved nothing")
	}
}

func TestPoller_cancelledWaitersLeaveNothingBehind(t *testing.T) {
	c, _ := pollTestClient(t, time.Hour)
	s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: "gone", PlanID: 1, OSID: 5, Location: "us-west"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.WaitForStatus(ctx, s.ID, provisioned); err == nil {
		t.Fatal("a wait past its deadline succeeded")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		c.poller.mu.Lock()
		queued, running := len(c.poller.queue), c.poller.running
		c.poller.mu.Unlock()
		if queued == 0 && !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the wait ended the poller still holds %d requests (running=%v)", queued, running)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
