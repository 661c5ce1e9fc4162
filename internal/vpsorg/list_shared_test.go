package vpsorg

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Callers at once share one list; a caller after it, within maxAge, takes
// its answer; after maxAge a caller reads the list again.
func TestSharedServerList_oneListForCallersAtOnce(t *testing.T) {
	release := make(chan struct{})
	rec := &recorder{replies: []reply{{status: http.StatusOK, body: listJSON}}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // hold the first list until every caller has asked
		rec.ServeHTTP(w, r)
	})
	c, _ := newTestClient(t, handler)
	ctx := t.Context()

	const callers = 10
	var wg sync.WaitGroup
	counts := make([]int, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers, err := c.SharedServerList(ctx, time.Minute)
			counts[i], errs[i] = len(servers), err
		}()
	}
	// The list is held until it has started: callers that come while it
	// is on its way wait for it, the others take its answer afterwards.
	for c.shared.current() == nil {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || counts[i] != 2 {
			t.Fatalf("caller %d: %d servers, %v; want the 2 listed", i, counts[i], errs[i])
		}
	}
	if _, err := c.SharedServerList(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Fatalf("%d callers and one more within maxAge sent %d lists, want 1", callers+1, n)
	}
	if _, err := c.SharedServerList(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n != 2 {
		t.Fatalf("a caller past maxAge sent no list of its own (%d lists in all, want 2)", n)
	}
}

// A caller that gives up does not fail the list the others wait for.
func TestSharedServerList_aCallerThatGivesUpLeavesTheListToTheOthers(t *testing.T) {
	release := make(chan struct{})
	rec := &recorder{replies: []reply{{status: http.StatusOK, body: listJSON}}}
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		rec.ServeHTTP(w, r)
	}))
	first, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.SharedServerList(first, time.Minute)
		done <- err
	}()
	for c.shared.current() == nil {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled caller got no error")
	}
	close(release)
	servers, err := c.SharedServerList(t.Context(), time.Minute)
	if err != nil || len(servers) != 2 {
		t.Fatalf("the caller after the one that gave up got %d servers, %v; want the shared list's 2", len(servers), err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Fatalf("%d lists sent, want the one shared", n)
	}
}

// A list that failed is not handed to the callers after it: the next one
// reads again, so one refused list does not blind a process's later looks.
func TestSharedServerList_aFailedListIsReadAgain(t *testing.T) {
	rec := &recorder{replies: []reply{
		{status: http.StatusBadRequest, body: `{"detail": "try again"}`},
		{status: http.StatusOK, body: listJSON},
	}}
	c, _ := newTestClient(t, rec)
	if _, err := c.SharedServerList(t.Context(), time.Minute); err == nil {
		t.Fatal("the refused list gave no error")
	}
	servers, err := c.SharedServerList(t.Context(), time.Minute)
	if err != nil || len(servers) != 2 {
		t.Fatalf("the list after a failed one gave %d servers, %v; want 2 from a new list", len(servers), err)
	}
	if n := len(rec.requests()); n != 2 {
		t.Fatalf("%d lists sent, want 2", n)
	}
}

// A server this client's create was answered with is known as created
// here; another is not.
func TestCreatedHere(t *testing.T) {
	rec := &recorder{replies: []reply{{status: http.StatusCreated, body: createdJSON}}}
	c, _ := newTestClient(t, rec)
	if _, err := c.CreateServer(t.Context(), CreateServerRequest{Name: "web-server-02", PlanID: 1, OSID: 5, Location: "us-west"}); err != nil {
		t.Fatal(err)
	}
	if !c.CreatedHere(12347) || c.CreatedHere(12345) {
		t.Fatalf("CreatedHere(12347) = %v, CreatedHere(12345) = %v; want true, false", c.CreatedHere(12347), c.CreatedHere(12345))
	}
}

// current is the last list, if any.
func (s *sharedList) current() *listRound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// The settings check reads the first page of the list; when that page is
// the whole list, the shared list takes it instead of reading its own.
// When the list has more pages, the shared list reads them all.
func TestSharedServerList_takesTheSettingsCheckWhenItIsTheWholeList(t *testing.T) {
	rec := &recorder{replies: []reply{{status: http.StatusOK, body: listJSON}}}
	c, _ := newTestClient(t, rec)
	if err := c.CheckAccess(t.Context()); err != nil {
		t.Fatal(err)
	}
	servers, err := c.SharedServerList(t.Context(), time.Minute)
	if err != nil || len(servers) != 2 {
		t.Fatalf("shared list after the check: %d servers, %v; want the 2 the check's page listed", len(servers), err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("the check and the shared list sent %d requests; want 1, the check's page serving both", n)
	}

	paged := `{"count": 3, "next": "?page=2", "results": [` + serverJSON(12347, "active") + `]}`
	rec = &recorder{replies: []reply{{status: http.StatusOK, body: paged}, {status: http.StatusOK, body: listJSON}}}
	c, _ = newTestClient(t, rec)
	if err := c.CheckAccess(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SharedServerList(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n < 2 {
		t.Errorf("a first page with a next page served the shared list (%d requests); the rest of the list must be read", n)
	}
}
