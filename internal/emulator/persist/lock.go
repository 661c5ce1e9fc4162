package persist

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// errHeld is what openLocked returns when another process holds the lock.
var errHeld = errors.New("held by another process")

// stateLock is the lock a Store holds on its state file: a file beside it,
// <state>.lock, that holds the pid of its holder. Two emulators on one
// state would hand out the same ids and overwrite each other's servers.
//
// The lock file stays after release: removing it would let a process that
// opened it just before lock a file no other process sees any more.
type stateLock struct{ f *os.File }

// lockState takes the lock of the state file at path, or says who holds it.
func lockState(path string) (*stateLock, error) {
	lockPath := path + ".lock"
	f, err := openLocked(lockPath)
	if errors.Is(err, errHeld) {
		holder := "lock " + lockPath
		if pid := readPID(lockPath); pid > 0 {
			holder = fmt.Sprintf("pid %d, %s", pid, holder)
		}
		return nil, fmt.Errorf("state %s is in use by another emulator (%s); stop it or choose another state file", path, holder)
	}
	if err != nil {
		return nil, fmt.Errorf("state %s: lock: %w", path, err)
	}
	// The pid is for the message of a process refused; failing to write
	// it leaves that message without it, and the lock as good.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &stateLock{f: f}, nil
}

// readPID reads the holder's pid from a lock file; 0 when it cannot.
func readPID(lockPath string) int {
	data, err := os.ReadFile(lockPath)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}

// release gives the lock up; closing the file is what releases it.
func (l *stateLock) release() error { return l.f.Close() }
