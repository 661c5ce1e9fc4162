package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// fleetCounts are the requests a fleet's work cost, by kind.
type fleetCounts struct {
	gets, lists, deletes, all int
}

func countFleet(reqs []emulator.Request) fleetCounts {
	var c fleetCounts
	for _, r := range reqs {
		c.all++
		switch {
		case r.Method == http.MethodGet && r.Route == emulator.RouteServers:
			c.lists++
			c.gets++
		case r.Method == http.MethodGet:
			c.gets++
		case r.Method == http.MethodDelete:
			c.deletes++
		}
	}
	return c
}

// terraformLike runs work for each of n servers, parallel at a time, as
// terraform's -parallelism does.
func terraformLike(n, parallel int, work func(i int) error) []error {
	errs := make([]error, n)
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			errs[i] = work(i)
		})
	}
	wg.Wait()
	return errs
}

// applyFleet creates n servers as the provider's Create does (POST, wait
// until active, and for the first stopped of them a stop and its wait,
// their wait for active ending on the list where one serves it),
// parallel at a time, and returns their ids.
func applyFleet(ctx context.Context, c *Client, n, parallel, stopped int) ([]int64, []error) {
	ids := make([]int64, n)
	errs := terraformLike(n, parallel, func(i int) error {
		s, err := c.CreateServer(ctx, CreateServerRequest{Name: fmt.Sprintf("fleet-%d", i), PlanID: 1, OSID: 5, Location: "us-west"})
		if err != nil {
			return err
		}
		ids[i] = s.ID
		wait := provisioned
		wait.ListMayEnd = i < stopped // the stop's wait ends on a GET
		if _, err = c.WaitForStatus(ctx, s.ID, wait); err != nil || i >= stopped {
			return err
		}
		if _, err = c.StopServer(ctx, s.ID); err != nil {
			return err
		}
		_, err = c.WaitForStatus(ctx, s.ID, WaitSpec{Target: []string{StatusStopped}, Pending: []string{StatusActive, StatusStopping}})
		return err
	})
	return ids, errs
}

// createStaggered creates n servers parallel at a time and waits for
// each, a wave's creates apart by gap as Terraform's are.
func createStaggered(t *testing.T, c *Client, n, parallel int, gap time.Duration) {
	t.Helper()
	errs := terraformLike(n, parallel, func(i int) error {
		time.Sleep(time.Duration(i%parallel) * gap)
		s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: fmt.Sprintf("fleet-%d", i), PlanID: 1, OSID: 5, Location: "us-west"})
		if err != nil {
			return err
		}
		_, err = c.WaitForStatus(t.Context(), s.ID, provisioned)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// fleetEmulator is an emulator for a fleet of n, whose waits the tests
// count; provisioning and transitions take a few polls.
func fleetEmulator(t *testing.T, n int, opts emulator.Options) (*Client, *emulator.Emulator) {
	t.Helper()
	opts.Credits = n + 10
	emu, err := emulator.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

func TestPoller_aFleetsGETsAreItsReadBacks(t *testing.T) {
	// Twenty servers created ten at a time, four of them stopped after
	// their create: each server costs one GET of its own, the read-back
	// that ends its last wait (a stopped one's provisioning may end on the
	// list, as the stop's wait ends on a GET), and every other look goes
	// through the shared list, on an API that refuses undocumented filter
	// values as on one that does not.
	const n, stopped = 20, 4
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%t", strict), func(t *testing.T) {
			c, emu := fleetEmulator(t, n, emulator.Options{ProvisioningTime: 600 * time.Millisecond, TransitionTime: 400 * time.Millisecond, StrictFilters: strict})
			if _, errs := applyFleet(t.Context(), c, n, 10, stopped); errors.Join(errs...) != nil {
				t.Fatal(errors.Join(errs...))
			}
			got := countFleet(emu.Requests())
			t.Logf("%+v", got)
			// The first wait's first look, before any other wait began,
			// may be a GET of its own.
			if reads := got.gets - got.lists; reads > n+1 {
				t.Errorf("%d GETs of single servers; want %d, one read-back per server (%d of them stopped after create), and at most one more", reads, n, stopped)
			}
			if got.lists == 0 {
				t.Error("no shared list: the test proved nothing")
			}
		})
	}
}

func TestWaitForDeleted_aFleetIsConfirmedBySharedListsUntilGone(t *testing.T) {
	// Thirty servers deleted ten at a time, each read first as Terraform's
	// refresh does: the confirmations ride on shared lists, so that beyond
	// the refresh's GET a server costs about one request, its DELETE. On
	// an API that shows a delete only 300ms late, every look until then
	// still sees the server, and done still means gone.
	const n = 30
	for _, tc := range []struct {
		lag    time.Duration
		perMax float64
	}{
		{lag: 0, perMax: 2.5},
		{lag: 300 * time.Millisecond, perMax: 2.75},
	} {
		t.Run(fmt.Sprintf("lag=%v", tc.lag), func(t *testing.T) {
			c, emu := fleetEmulator(t, n, emulator.Options{ProvisioningTime: -1, ConsistencyLag: tc.lag})
			ids, errs := applyFleet(t.Context(), c, n, 10, 0)
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			emu.ResetRequests()
			errs = terraformLike(n, 10, func(i int) error {
				if _, err := c.GetServer(t.Context(), ids[i]); err != nil {
					return err
				}
				if err := c.DeleteServer(t.Context(), ids[i]); err != nil {
					return err
				}
				if err := c.WaitForDeleted(t.Context(), ids[i]); err != nil {
					return err
				}
				// Done means gone: a GET right after the wait, not
				// counted below, must not see it.
				if _, err := c.GetServer(t.Context(), ids[i]); !errors.Is(err, ErrNotFound) {
					return fmt.Errorf("server %d: the wait for its delete ended, but a GET right after answered %w", ids[i], err)
				}
				return nil
			})
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got := countFleet(emu.Requests())
			got.all -= n // the checks right after the waits
			t.Logf("%+v", got)
			if per := float64(got.all) / n; per > tc.perMax {
				t.Errorf("%d requests to destroy %d servers (%.2f each); want at most %.2f (refresh GET, DELETE, shared lists)", got.all, n, per, tc.perMax)
			}
			if got.lists == 0 {
				t.Error("no shared list: the test proved nothing")
			}
		})
	}
}

func TestWaitForDeleted_aWaveLooksOnceItHasAllTheCompanyItCanExpect(t *testing.T) {
	// Thirty servers deleted ten at a time. A delete's first look waits
	// for other deletes to share a list with, but only until it has all
	// the company it can expect: as many deletes waiting as were ever under
	// way at once (Terraform's parallelism), or, at the end, every delete
	// under way. Each wave's looks are taken before their time then, and
	// one list confirms the wave.
	const n = 30
	c, emu := fleetEmulator(t, n, emulator.Options{ProvisioningTime: -1})
	ids, errs := applyFleet(t.Context(), c, n, 5, 0)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	errs = terraformLike(n, 10, func(i int) error {
		if err := c.DeleteServer(t.Context(), ids[i]); err != nil {
			return err
		}
		return c.WaitForDeleted(t.Context(), ids[i])
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got := countFleet(emu.Requests())
	c.poller.mu.Lock()
	companied := c.poller.companied
	c.poller.mu.Unlock()
	t.Logf("%+v; %d ticks on complete company", got, companied)
	if companied < 2 {
		t.Errorf("%d ticks took deletes on complete company; want one for each wave after the first, at least 2", companied)
	}
	if got.lists == 0 {
		t.Error("no shared list: the deletes never gathered, and the test proved nothing")
	}
	if left := len(emu.Servers(emulator.DefaultToken)); left != 0 {
		t.Errorf("%d servers left after the waits ended", left)
	}
}

func TestPoller_aKnownWaitIsNotLookedAtBeforeItsTimeToShareATick(t *testing.T) {
	// Forty servers created ten at a time, a wave's creates 10 ms apart
	// as Terraform's are. After the first wave the kind of wait is known,
	// and each later wait first looks when the shortest one ended, by its
	// own clock: a GET taken early to share a tick with a wait created
	// before it would look before the server is ready, and cost another.
	const n = 40
	c, emu := fleetEmulator(t, n, emulator.Options{ProvisioningTime: 600 * time.Millisecond})
	createStaggered(t, c, n, 10, 10*time.Millisecond)
	got := countFleet(emu.Requests())
	t.Logf("%+v", got)
	// The read-backs, and the first wave's few looks of its own.
	if singles := got.gets - got.lists; singles > n+10 {
		t.Errorf("%d GETs of single servers for %d creates; want at most %d (a read-back each, and a few while the first wave taught the wait)", singles, n, n+10)
	}
}

func TestWaitForDeleted_aGatheringDeleteLooksWhenTheLastOtherDeleteEnds(t *testing.T) {
	// Two deletes under way, one of them gathering company for its first
	// look; the other ends without a look of its own (its DELETE was not
	// accepted). The gathering delete then has all the company it can
	// expect and looks at once: the poller is woken when a delete ends,
	// not left asleep until the gathering's 200 ms are out.
	c, emu := fleetEmulator(t, 2, emulator.Options{ProvisioningTime: -1})
	ids, errs := applyFleet(t.Context(), c, 2, 2, 0)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	defer c.poller.begin(0, false)() // another wait under way: company enough for a list
	other := c.poller.sendingDelete(ids[1])
	if err := c.DeleteServer(t.Context(), ids[0]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.WaitForDeleted(t.Context(), ids[0]) }()
	for gathering := false; !gathering; {
		time.Sleep(time.Millisecond)
		c.poller.mu.Lock()
		gathering = slices.ContainsFunc(c.poller.queue, func(r *pollRequest) bool { return r.gather })
		c.poller.mu.Unlock()
	}
	other(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.poller.mu.Lock()
	companied := c.poller.companied
	c.poller.mu.Unlock()
	if companied == 0 {
		t.Errorf("the gathering delete looked at its own time, not when the other delete ended (requests: %+v)", countFleet(emu.Requests()))
	}
}

func TestPoller_aListThatServesAWaitInItsTickIsItsLook(t *testing.T) {
	// Ten waits begin 8 ms apart, as a wave of Terraform's creates does,
	// while other waits are under way: each first looks 200 ms in, so
	// their first looks are due within 72 ms of each other, and the list
	// taken for the first of them serves them all within their tick (from
	// half an interval before each one's due time). That list is each
	// one's look: none is looked at again, by a list of its own, at its
	// own due time a few milliseconds later; the next looks come half the
	// time waited on, 64 ms at the soonest.
	const n = 10
	c, emu := fleetEmulator(t, n, emulator.Options{ProvisioningTime: 2 * time.Second})
	var ids []int64
	for i := range n {
		s, err := c.CreateServer(t.Context(), CreateServerRequest{Name: fmt.Sprintf("fleet-%d", i), PlanID: 1, OSID: 5, Location: "us-west"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	defer c.poller.begin(0, false)() // other waits under way: looks are shared
	emu.ResetRequests()
	errs := terraformLike(n, n, func(i int) error {
		time.Sleep(time.Duration(i) * 8 * time.Millisecond)
		_, err := c.WaitForStatus(t.Context(), ids[i], provisioned)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var lists []time.Time
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet && r.Route == emulator.RouteServers {
			lists = append(lists, r.Time)
		}
	}
	if len(lists) == 0 {
		t.Fatal("no list: the waits were not shared, and the test proved nothing")
	}
	var first []time.Duration
	for _, at := range lists {
		if d := at.Sub(lists[0]); d < 50*time.Millisecond {
			first = append(first, d.Round(time.Millisecond))
		}
	}
	t.Logf("%d lists; within 50 ms of the first: %v", len(lists), first)
	if len(first) > 1 {
		t.Errorf("%d lists within 50 ms of the first (at %v after it); want one, shared by the ten first looks", len(first), first)
	}
}
