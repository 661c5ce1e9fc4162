package emulator

import (
	"fmt"
	"sort"
	"time"
)

// State is the emulated world, as Snapshot takes it and Restore puts it
// back: every server with the transition it is in (its start and duration,
// not a status frozen at the moment of the snapshot), the next id, and the
// histories of the KeptDeletedHistories servers deleted last. Settings,
// faults, the request log and changes still hidden by a consistency lag are
// not part of it.
type State struct {
	NextID  int64                    `json:"next_id"`
	Servers []ServerState            `json:"servers"`
	Deleted map[int64][]StatusChange `json:"deleted_histories,omitempty"`
}

// ServerState is one server in a State. While Target is set the server is
// in the transient Status from Since for Duration, then in Target; the
// clock decides, so a transition under way at a snapshot goes on after a
// Restore, and one that ended in between has ended.
type ServerState struct {
	ID             int64          `json:"id"`
	Account        string         `json:"account"`
	Name           string         `json:"name"`
	Hostname       *string        `json:"hostname,omitempty"`
	Location       string         `json:"location"`
	PlanID         int64          `json:"plan_id"`
	OSID           int64          `json:"os_id"`
	SSHKeyID       *int64         `json:"ssh_key_id,omitempty"`
	BackupsEnabled bool           `json:"backups_enabled"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	EditedAt       time.Time      `json:"edited_at"`
	Status         string         `json:"status"`
	Target         string         `json:"target,omitempty"`
	TargetCause    string         `json:"target_cause,omitempty"`
	Since          time.Time      `json:"since"`
	Duration       time.Duration  `json:"duration_ns,omitempty"`
	Provisioned    bool           `json:"provisioned"`
	History        []StatusChange `json:"history"`
}

// Snapshot returns the world as it truly is (see State).
func (e *Emulator) Snapshot() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := State{NextID: e.nextID, Servers: []ServerState{}}
	for _, s := range e.servers {
		st.Servers = append(st.Servers, ServerState{
			ID: s.id, Account: s.account, Name: s.name, Hostname: cloneString(s.hostname),
			Location: s.location, PlanID: s.plan.ID, OSID: s.os.ID, SSHKeyID: cloneInt(s.sshKeyID),
			BackupsEnabled: s.backups, CreatedAt: s.createdAt, UpdatedAt: s.updatedAt, EditedAt: s.editedAt,
			Status: s.status, Target: s.target, TargetCause: s.done, Since: s.since, Duration: s.dur,
			Provisioned: s.provisioned, History: append([]StatusChange(nil), s.history...),
		})
	}
	sort.Slice(st.Servers, func(i, j int) bool { return st.Servers[i].ID < st.Servers[j].ID })
	if len(e.deleted.byID) > 0 {
		st.Deleted = map[int64][]StatusChange{}
		for id, h := range e.deleted.byID {
			st.Deleted[id] = append([]StatusChange(nil), h...)
		}
	}
	return st
}

// Restore replaces the world with st. It fails, changing nothing, on a
// server with an unknown plan or operating system, a non-positive or
// repeated id, or no account. Ids given out afterwards follow the highest
// of st.NextID and the servers' ids.
func (e *Emulator) Restore(st State) error {
	servers := map[int64]*server{}
	next := max(st.NextID, firstID)
	for _, ss := range st.Servers {
		plan, okPlan := e.catalog.plan(ss.PlanID)
		os, okOS := e.catalog.os(ss.OSID)
		switch {
		case ss.ID <= 0 || servers[ss.ID] != nil:
			return fmt.Errorf("emulator: restore: server id %d is not positive or given twice", ss.ID)
		case ss.Status == "":
			return fmt.Errorf("emulator: restore: server %d has no status", ss.ID)
		case ss.Account == "":
			return fmt.Errorf("emulator: restore: server %d has no account", ss.ID)
		case !okPlan:
			return fmt.Errorf("emulator: restore: server %d has unknown plan %d", ss.ID, ss.PlanID)
		case !okOS:
			return fmt.Errorf("emulator: restore: server %d has unknown operating system %d", ss.ID, ss.OSID)
		}
		servers[ss.ID] = &server{
			id: ss.ID, account: ss.Account, name: ss.Name, hostname: cloneString(ss.Hostname),
			location: ss.Location, plan: plan, os: os, sshKeyID: cloneInt(ss.SSHKeyID), backups: ss.BackupsEnabled,
			createdAt: ss.CreatedAt, editedAt: ss.EditedAt,
			phase: phase{status: ss.Status, target: ss.Target, done: ss.TargetCause, since: ss.Since,
				dur: ss.Duration, provisioned: ss.Provisioned, updatedAt: ss.UpdatedAt},
			history: append([]StatusChange(nil), ss.History...),
		}
		next = max(next, ss.ID+1)
	}
	for id := range st.Deleted {
		next = max(next, id+1)
	}
	deleted := deletedHistoriesOf(st.Deleted)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.servers, e.gone, e.deleted, e.nextID = servers, map[int64]*server{}, deleted, next
	return nil
}

// Reset empties the world: no servers, ids from the first again, no
// histories, an empty request log, no pending injected faults, no stored
// idempotent answers, full rate-limit buckets, and the chaos sequence back
// at its seed's start. Settings (times, lag, latency, rate limit, page
// size, credits) stay as they are.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.servers, e.gone, e.deleted = map[int64]*server{}, map[int64]*server{}, newDeletedHistories()
	e.nextID = firstID
	e.journal.reset()
	e.faults = nil
	e.idempotent = map[idempotencyKey]storedAnswer{}
	e.buckets = map[string]*bucket{}
	if e.chaos.rate > 0 {
		e.chaos.rng = newChaosSource(e.chaos.seed)
	}
}

// Accounts returns the accounts that have a token or a server, sorted.
func (e *Emulator) Accounts() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for _, a := range e.tokens {
		seen[a] = true
	}
	for _, s := range e.servers {
		seen[s.account] = true
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
