// Package persist keeps the emulator's world in files: a seed (the servers
// each account has at start and after a reset) and a state file, written
// atomically after every change and only then, from which a restarted
// emulator carries on with its servers and the transitions they were in.
// One emulator at a time owns a state file (lock.go).
package persist

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Seed is the content of a seed file: servers per account, in any status.
//
//	{"accounts": {"default": [{"name": "web-1", "plan_id": 1, "os_id": 5,
//	  "location": "us-west", "status": "active"}]}}
//
// A server without a status provisions as if just created.
type Seed struct {
	Accounts map[string][]emulator.ServerSpec `json:"accounts"`
}

// LoadSeed reads and checks a seed file; unknown fields are errors, so a
// misspelt key does not pass for an empty world.
func LoadSeed(path string) (Seed, error) {
	var seed Seed
	data, err := os.ReadFile(path)
	if err != nil {
		return seed, fmt.Errorf("seed: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return seed, fmt.Errorf("seed %s: %w", path, err)
	}
	// A dry run on a scratch emulator names a bad server before the real
	// one changes.
	if err := seed.Apply(emulator.New(emulator.Options{})); err != nil {
		return seed, fmt.Errorf("seed %s: %w", path, err)
	}
	return seed, nil
}

// Apply adds the seed's servers to emu, account by account in name order,
// each account's servers in file order, so ids are the same every time.
func (s Seed) Apply(emu *emulator.Emulator) error {
	accounts := make([]string, 0, len(s.Accounts))
	for a := range s.Accounts {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		for i, spec := range s.Accounts[a] {
			if _, err := emu.AddServer(a, spec); err != nil {
				return fmt.Errorf("account %q, server %d (%q): %w", a, i+1, spec.Name, err)
			}
		}
	}
	return nil
}

// Store writes the emulator's state to a file whenever it changed, and
// holds the file's lock until Close.
type Store struct {
	path string
	emu  *emulator.Emulator
	lock *stateLock
	// OnError, if set, hears of failed saves (the emulator keeps serving).
	OnError func(error)

	mu     sync.Mutex // one save at a time, each of the latest state
	last   []byte     // what the file holds
	writes int
}

// Open locks the state file at path (a second Open fails, naming the
// holder's pid, until the first Closes) and returns a Store for it. When
// the file exists, emu is restored from it and loaded is true; a file that
// cannot be read or restored is an error, never silently replaced.
func Open(path string, emu *emulator.Emulator) (st *Store, loaded bool, err error) {
	lock, err := lockState(path)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if err != nil {
			_ = lock.release()
		}
	}()
	st = &Store{path: path, emu: emu, lock: lock}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state: %w", err)
	}
	var state emulator.State
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, false, fmt.Errorf("state %s: %w", path, err)
	}
	if err := emu.Restore(state); err != nil {
		return nil, false, fmt.Errorf("state %s: %w", path, err)
	}
	st.last = data
	return st, true, nil
}

// Close releases the state file's lock; the Store saves no more.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	err := s.lock.release()
	s.lock = nil
	return err
}

// Save writes the current state atomically (see WriteFile) when it is not
// what the file already holds.
func (s *Store) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return fmt.Errorf("state %s: saved after Close", s.path)
	}
	data, err := json.MarshalIndent(s.emu.Snapshot(), "", "  ")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	data = append(data, '\n')
	if bytes.Equal(data, s.last) {
		return nil
	}
	if err := WriteFile(s.path, data); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	s.last, s.writes = data, s.writes+1
	return nil
}

// Writes is how many times the Store wrote the file.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// WriteFile writes data to a temporary file in path's directory, syncs it
// and renames it over path, so a reader (or a restart after a crash) sees
// the old content or the new, never half of one.
func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing is there
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SaveAfter wraps h so that the state is saved after every request that
// may change it (any method but GET, HEAD and OPTIONS) and did: Save
// writes nothing when the state is what the file holds, as after a request
// refused for want of a token. Transitions need no save: the file keeps
// their start and duration.
func (s *Store) SaveAfter(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return
		}
		s.SaveOrReport()
	})
}

// SaveOrReport saves, handing a failure to OnError.
func (s *Store) SaveOrReport() {
	if err := s.Save(); err != nil && s.OnError != nil {
		s.OnError(err)
	}
}
