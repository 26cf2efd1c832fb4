package lock

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrHeld is returned by TryAcquire (and by Acquire when its context
	// ends) while another owner holds the lease. The error is a *HeldError
	// that names the holder.
	ErrHeld = errors.New("lease is held by another owner")

	// ErrLeaseLost is returned by Lease.Err and Lease.Release once the lease
	// could no longer be proven valid.
	ErrLeaseLost = errors.New("lease lost")

	// ErrStalled is matched, together with ErrLeaseLost, by the error of a
	// lease that ended because the guarded work reported no progress within
	// the stall timeout (WithStallTimeout).
	ErrStalled = errors.New("guarded work made no progress")

	// ErrNotProvablyDead is returned by Break without force when the holder
	// cannot be proven dead from this host.
	ErrNotProvablyDead = errors.New("holder is not provably dead")

	// ErrNotFolder is returned by New when the folder to guard is a file.
	ErrNotFolder = errors.New("not a folder")
)

// HeldError describes the holder seen by a failed attempt. It matches ErrHeld.
type HeldError struct {
	Holder Status
}

func (e *HeldError) Error() string {
	h := e.Holder
	if h.Owner == "" {
		if h.RecordError == "" {
			return fmt.Sprintf("%v (token %d, holder record unreadable)", ErrHeld, h.Token)
		}
		return fmt.Sprintf("%v (token %d, holder record unreadable: %s)", ErrHeld, h.Token, h.RecordError)
	}
	return fmt.Sprintf("%v: %s (host %s, pid %d, token %d, since %s)",
		ErrHeld, h.Owner, h.Hostname, h.PID, h.Token, h.AcquiredAt.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }
