package emulator

import (
	"sort"
	"time"
)

// KeptDeletedHistories is how many deleted servers' histories the emulator
// keeps (History, Snapshot): those deleted last. A service that creates and
// deletes servers for hours must not keep every one it ever had.
const KeptDeletedHistories = 100

// StatusDeleted is the Status of the last StatusChange of a deleted server.
// It is never an API status: a deleted server answers 404.
const StatusDeleted = "deleted"

// StatusChange is one entry of a server's history: the true status it
// entered, when, and why.
//
// Cause is the request or hook that caused it: "POST create", "POST start",
// "POST stop", "POST reboot", "DELETE", "AddServer", "SetStatus" or
// "DeleteServer"; or, for the end of a transition, "provisioned",
// "provisioning failed", "started", "stopped" or "rebooted".
type StatusChange struct {
	// At is when the server entered Status, by the emulator's clock, in UTC
	// and not cut to seconds. The end of a transition is at its computed
	// end (start plus duration), whenever it was first observed.
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Cause  string    `json:"cause"`
}

// History returns every true status the server with that id (of any
// account) went through, oldest first, including statuses no client saw:
// a transition that began and ended between two reads, or one a consistency
// lag hid. A deleted server's history ends with StatusDeleted and stays
// available while it is among the KeptDeletedHistories deleted last. An
// unknown id, or one deleted longer ago, has none.
func (e *Emulator) History(id int64) []StatusChange {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	history := e.deleted.byID[id]
	if s, ok := e.servers[id]; ok {
		s.settle(now)
		history = s.history
	}
	return append([]StatusChange(nil), history...)
}

// record appends a change of status to the history; staying in the same
// status is no change.
func (s *server) record(at time.Time, status, cause string) {
	if n := len(s.history); n > 0 && s.history[n-1].Status == status {
		return
	}
	s.history = append(s.history, StatusChange{At: at.UTC(), Status: status, Cause: cause})
}

// remove deletes a live server, recording the deletion in the history that
// outlives it. e.mu must be held and s settled to now.
func (e *Emulator) remove(s *server, now time.Time, cause string) {
	s.record(now, StatusDeleted, cause)
	delete(e.servers, s.id)
	e.deleted.add(s.id, s.history)
}

// deletedHistories are the histories of the KeptDeletedHistories servers
// deleted last.
type deletedHistories struct {
	byID  map[int64][]StatusChange
	order []int64 // the oldest deletion first
}

func newDeletedHistories() deletedHistories {
	return deletedHistories{byID: map[int64][]StatusChange{}}
}

func (d *deletedHistories) add(id int64, history []StatusChange) {
	d.byID[id] = history
	d.order = append(d.order, id)
	if len(d.order) > KeptDeletedHistories {
		delete(d.byID, d.order[0])
		d.order = d.order[1:]
	}
}

// deletedHistoriesOf keeps those of histories (a State's) deleted last, by
// the time of their last change.
func deletedHistoriesOf(histories map[int64][]StatusChange) deletedHistories {
	ids := make([]int64, 0, len(histories))
	for id := range histories {
		ids = append(ids, id)
	}
	deletedAt := func(id int64) time.Time {
		if h := histories[id]; len(h) > 0 {
			return h[len(h)-1].At
		}
		return time.Time{}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := deletedAt(ids[i]), deletedAt(ids[j])
		return a.Before(b) || a.Equal(b) && ids[i] < ids[j]
	})
	d := newDeletedHistories()
	for _, id := range ids[max(0, len(ids)-KeptDeletedHistories):] {
		d.add(id, append([]StatusChange(nil), histories[id]...))
	}
	return d
}
