//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package persist

import "os"

// openLocked only opens the lock file: this system has neither flock nor
// Windows' sharing modes, and two emulators on one state are not stopped.
func openLocked(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
