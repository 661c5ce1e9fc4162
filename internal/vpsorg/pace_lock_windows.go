package vpsorg

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockPaceFile takes an exclusive lock on the file at path (made if
// missing) and returns its release. It waits for the lock, at most
// lockWait: a process that holds it longer is stuck.
func lockPaceFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	h := windows.Handle(f.Fd())
	var whole windows.Overlapped
	err = retryLock(func() error {
		return windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &whole)
	})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		_ = windows.UnlockFileEx(h, 0, 1, 0, &whole)
		_ = f.Close()
	}, nil
}
