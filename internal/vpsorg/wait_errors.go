package vpsorg

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// UnexpectedStatusError is a wait that met a status that is neither target
// nor pending, e.g. "error" after a failed provisioning.
type UnexpectedStatusError struct {
	ID     int64
	Status string
	Target []string
}

func (e *UnexpectedStatusError) Error() string {
	return fmt.Sprintf("server %d entered status %q while waiting for %s", e.ID, e.Status, targetText(e.Target))
}

// WaitTimeoutError is a wait ended by its context. An empty Target means
// the wait was for deletion. Err is the context's error, so
// errors.Is(err, context.DeadlineExceeded) works.
type WaitTimeoutError struct {
	ID         int64
	LastStatus string
	Target     []string
	Err        error
}

func (e *WaitTimeoutError) Error() string {
	verb := "timed out"
	if errors.Is(e.Err, context.Canceled) {
		verb = "cancelled"
	}
	goal := "to become " + targetText(e.Target)
	if len(e.Target) == 0 {
		goal = "to be deleted"
	}
	last := "last seen status: " + e.LastStatus
	if e.LastStatus == "" {
		last = "no status seen"
	}
	return fmt.Sprintf("%s waiting for server %d %s (%s)", verb, e.ID, goal, last)
}

func (e *WaitTimeoutError) Unwrap() error { return e.Err }

func targetText(target []string) string {
	switch len(target) {
	case 0:
		return "deleted"
	case 1:
		return target[0]
	}
	return strings.Join(target[:len(target)-1], ", ") + " or " + target[len(target)-1]
}
