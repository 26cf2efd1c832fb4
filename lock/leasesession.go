package lock

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sessionGrant is a grant backed by a session of a lock service (etcd):
// the service can end it on its own (expiry, a break), and it can prove,
// in one round trip, that it still holds the lock.
type sessionGrant interface {
	Grant
	// sessionLost is closed when the service ended the session without a
	// release.
	sessionLost() <-chan struct{}
	// leaseEnded tells the grant that the Lease ended (lost or released).
	leaseEnded()
	// Confirm proves ownership now, or returns why not.
	Confirm(ctx context.Context) error
}

// watchSession ends the lease the moment the service ends its session.
func (l *Lease) watchSession(s sessionGrant) {
	select {
	case <-s.sessionLost():
		l.end(fmt.Errorf("%w: token %d: the lock service ended the session", ErrLeaseLost, l.Token()))
	case <-l.done:
	}
}

// Confirm checks the lease right before a write that must not land after
// the lease is lost, such as a commit: Check, and with a lock service
// (etcd) a transaction guarded by the ownership of its mutex. While the
// service cannot be reached it retries until the lease's deadline, then
// refuses: an error matching ErrLeaseLost, and the lease ends. The file
// backend has nothing more to ask than Check.
func (l *Lease) Confirm(ctx context.Context) error {
	if err := l.Check(); err != nil {
		return err
	}
	s, ok := l.g.(sessionGrant)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, max(l.Remaining(), 0))
	defer cancel()
	for {
		err := s.Confirm(ctx)
		if err == nil {
			return l.Check()
		}
		if !errors.Is(err, errEtcdUnavailable) || ctx.Err() != nil {
			if !errors.Is(err, ErrLeaseLost) {
				err = fmt.Errorf("%w: ownership could not be confirmed: %w", ErrLeaseLost, err)
			}
			l.end(err)
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
