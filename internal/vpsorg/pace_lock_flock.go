//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package vpsorg

import (
	"os"
	"syscall"
)

// lockPaceFile takes an exclusive lock on the file at path (made if
// missing) and returns its release. It waits for the lock, at most
// lockWait: a process that holds it longer is stuck.
func lockPaceFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	err = retryLock(func() error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) })
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
