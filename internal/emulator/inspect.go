package emulator

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"time"
)

// Request is one entry of the request log.
type Request struct {
	Method string `json:"method"`
	// Route is the path template (one of the Route* constants), or
	// RouteOther.
	Route    string `json:"route"`
	Path     string `json:"path"`
	RawQuery string `json:"query,omitempty"`
	// Account is the account of a valid token, else "".
	Account string `json:"account"`
	// Status is the status the client got; 0 if the connection was dropped
	// or the client went away first.
	Status int `json:"status"`
	// Time is when the request arrived, by the emulator's clock.
	Time time.Time `json:"time"`
	// Fault is set when an injected or random fault answered the request
	// (or dropped it), instead of the API.
	Fault bool `json:"fault,omitempty"`
	// Cut is set when the method, path or query was longer than
	// JournalPathLimit and is kept cut, ending in "…".
	Cut bool `json:"cut,omitempty"`
}

func (e *Emulator) logArrival(r *http.Request, route, account string) *Request {
	entry := &Request{Route: route, Account: account, Time: e.now()}
	var cutMethod, cutPath, cutQuery bool
	entry.Method, cutMethod = cut(r.Method)
	entry.Path, cutPath = cut(r.URL.Path)
	entry.RawQuery, cutQuery = cut(r.URL.RawQuery)
	entry.Cut = cutMethod || cutPath || cutQuery
	e.mu.Lock()
	e.journal.add(entry)
	e.mu.Unlock()
	return entry
}

func (e *Emulator) logDone(entry *Request, status int, took time.Duration) {
	e.mu.Lock()
	entry.Status = status
	e.mu.Unlock()
	if e.log == nil {
		return
	}
	account := entry.Account
	if account == "" {
		account = "-"
	}
	e.logMu.Lock()
	defer e.logMu.Unlock()
	fmt.Fprintf(e.log, "%s %s %s %d %s account=%s\n", time.Now().UTC().Format(time.RFC3339),
		loggable(entry.Method), loggable(entry.Path), status, took.Round(time.Microsecond), loggable(account))
}

// Requests returns a copy of the request journal in arrival order,
// including requests answered by faults, the rate limit or errors: the
// latest Options.JournalSize since the last ResetRequests (JournalStats).
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.journal.latest(len(e.journal.entries))
}

// RecentRequests returns the latest n requests of the journal, oldest
// first.
func (e *Emulator) RecentRequests(n int) []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.journal.latest(n)
}

// RequestCounts counts every request since the last ResetRequests, those
// the journal no longer keeps too, by "METHOD ROUTE", for example
// "GET /api/v1/servers/{id}/"; a method HTTP does not define counts as
// "OTHER".
func (e *Emulator) RequestCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.journal.counts)
}

// JournalStats says how many requests the journal keeps of how many came.
func (e *Emulator) JournalStats() JournalStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.journal.stats()
}

// ResetRequests empties the request journal and its counts.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.journal.reset()
}

// Servers returns the account's servers sorted by ID, with their true
// statuses as of now, which a consistency lag may hide from the API for a
// while.
func (e *Emulator) Servers(account string) []Server {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []Server{}
	for _, s := range e.servers {
		if s.account == account {
			s.settle(now)
			out = append(out, s.snapshot())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Server returns any account's server by id, with its true status as of
// now (see Servers).
func (e *Emulator) Server(id int64) (Server, bool) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.servers[id]
	if !ok {
		return Server{}, false
	}
	s.settle(now)
	return s.snapshot(), true
}

// ServerSpec describes a server created out of band with AddServer.
type ServerSpec struct {
	Name     string  `json:"name"`
	Hostname *string `json:"hostname,omitempty"`
	PlanID   int64   `json:"plan_id"`
	OSID     int64   `json:"os_id"`
	Location string  `json:"location"`
	// Status "" starts provisioning exactly as a create through the API
	// does (FailProvisioning applies). Any other status puts the server
	// there directly and keeps it there: "provisioning" or "starting" given
	// here never complete on their own.
	Status         string `json:"status,omitempty"`
	BackupsEnabled bool   `json:"backups_enabled,omitempty"`
}

// AddServer creates a server for account behind the API's back. The spec is
// validated like an API create, but credits are not checked.
func (e *Emulator) AddServer(account string, spec ServerSpec) (Server, error) {
	fe := fieldErrors{}
	req := createRequest{name: spec.Name, location: spec.Location, backups: spec.BackupsEnabled}
	if msg := checkName(spec.Name); msg != "" {
		fe.add("name", msg)
	}
	if spec.Hostname != nil {
		if msg := checkHostname(*spec.Hostname); msg != "" {
			fe.add("hostname", msg)
		}
		req.hostname = cloneString(spec.Hostname)
	}
	var ok bool
	if req.plan, ok = e.catalog.plan(spec.PlanID); !ok {
		fe.add("plan_id", fmt.Sprintf("Unknown plan %d.", spec.PlanID))
	}
	if req.os, ok = e.catalog.os(spec.OSID); !ok {
		fe.add("os_id", fmt.Sprintf("Unknown operating system %d.", spec.OSID))
	}
	if msg := checkLocation(spec.Location, e.catalog); msg != "" {
		fe.add("location", msg)
	}
	if len(fe) > 0 {
		return Server{}, errors.New("emulator: invalid server spec: " + fieldErrorText(fe))
	}
	fails := spec.Status == "" && e.provisioningFails(spec.Name)

	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.insert(account, req, now)
	if spec.Status == "" {
		e.startProvisioning(s, fails, now, "AddServer")
	} else {
		s.setStatus(spec.Status, now, "AddServer")
	}
	return s.snapshot(), nil
}

// DeleteServer removes a server at once, whatever its account and status;
// the API answers 404 for it at once, even under a consistency lag. It
// reports whether the server existed.
func (e *Emulator) DeleteServer(id int64) bool {
	return e.change(id, func(s *server, now time.Time) { e.remove(s, now, "DeleteServer") })
}

// RenameServer changes a server's name without validation, bumping
// updated_at; the API shows it at once. It reports whether the server
// exists.
func (e *Emulator) RenameServer(id int64, name string) bool {
	return e.change(id, func(s *server, now time.Time) {
		if s.name != name {
			s.name, s.updatedAt, s.editedAt = name, now, now
		}
	})
}

// SetStatus puts a server in status at once (e.g. "stopped", "suspended",
// "error"), cancelling any transition in progress. The API shows it at once,
// even under a consistency lag: changes the lag still hid are dropped. It
// reports whether the server exists; an empty status changes nothing and
// reports false.
func (e *Emulator) SetStatus(id int64, status string) bool {
	if status == "" {
		return false
	}
	return e.change(id, func(s *server, now time.Time) {
		s.lagged = nil
		s.setStatus(status, now, "SetStatus")
	})
}

func (e *Emulator) change(id int64, f func(*server, time.Time)) bool {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.servers[id]
	if !ok {
		return false
	}
	s.settle(now)
	f(s, now)
	return true
}

// SetProvisioningTime sets how long servers created from now on provision
// (a transition already running keeps its duration); negative means 0.
func (e *Emulator) SetProvisioningTime(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.provisioningTime = max(d, 0)
}

// SetTransitionTime sets how long start, stop and reboot transitions begun
// from now on last; negative means 0.
func (e *Emulator) SetTransitionTime(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.transitionTime = max(d, 0)
}

// SetUpdateAnswers sets the two answers the documentation leaves open, as
// Options.EmptyUpdateAnswer and Options.RebootKeepsUpdatedAt do at start.
func (e *Emulator) SetUpdateAnswers(emptyUpdateAnswer, rebootKeepsUpdatedAt bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.emptyPatch, e.quietBoot = emptyUpdateAnswer, rebootKeepsUpdatedAt
}

// SetPageSize sets the list page size; n < 1 restores the default 50.
func (e *Emulator) SetPageSize(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n < 1 {
		n = DefaultPageSize
	}
	e.pageSize = n
}

// SetCredits sets how many servers account may hold at once; 0 (or less)
// makes every create answer 402.
func (e *Emulator) SetCredits(account string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.accountCredits[account] = max(n, 0)
}

// FailProvisioning makes servers created afterwards whose name matches end
// provisioning in status "error" instead of "active"; nil clears it. The
// matcher runs outside the emulator's lock.
func (e *Emulator) FailProvisioning(match func(name string) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failMatch = match
}
