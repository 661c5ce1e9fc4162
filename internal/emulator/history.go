package emulator

import "time"

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
// available. An unknown id has none.
func (e *Emulator) History(id int64) []StatusChange {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	history := e.history[id]
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
	e.history[s.id] = s.history
}
