package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Locker grants the lease of one folder. One Locker serves one owner; it
// runs one attempt at a time.
type Locker struct {
	dir string
	cfg *config
	b   Backend

	mu   sync.Mutex // one attempt at a time: the backend keeps waiting state
	self Identity
}

// New returns a Locker for the folder dir. The folder is created when the
// first lease is granted; it need not hold an index yet.
func New(dir string, opts ...Option) (*Locker, error) {
	if dir == "" {
		return nil, errors.New("lock: empty folder name")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	self, err := selfIdentity(cfg.owner)
	if err != nil {
		return nil, err
	}
	b := cfg.backend
	if cfg.etcd != nil {
		eb, err := newEtcdBackend(dir, cfg)
		if err != nil {
			return nil, err
		}
		b = eb
	}
	if b == nil {
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("lock: %s is %w", dir, ErrNotFolder)
		}
		fb := newFileBackend(dir, cfg.log, cfg.clock)
		fb.floor = cfg.floor
		b = fb
	}
	return &Locker{dir: dir, cfg: cfg, b: b, self: self}, nil
}

// Owner is the owner name this Locker grants leases to.
func (l *Locker) Owner() string { return l.self.Owner }

// TryAcquire tries once. While another owner holds the lease it returns an
// error matching ErrHeld at once.
func (l *Locker) TryAcquire(ctx context.Context) (*Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempt(ctx)
}

// Acquire waits until the lease is granted or ctx ends. It retries with
// capped exponential backoff and jitter, and wakes at once when a holder on
// this host releases or exits. A holder on another host is taken over only
// when its record has not changed for a whole lease on this host's clock.
// Errors that waiting cannot mend (a file where the folder should be, no
// permission) are returned at once; I/O errors of a share that may come back
// are logged and retried.
func (l *Locker) Acquire(ctx context.Context) (*Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bo := backoff{next: l.cfg.backoffMin, max: l.cfg.backoffMax}
	var held *HeldError
	var failed error // the last attempt that failed without a holder
	for {
		lease, err := l.attempt(ctx)
		if err == nil {
			return lease, nil
		}
		switch {
		case errors.As(err, &held):
			l.cfg.log.Debug("lock: held", "holder", held.Holder.Owner, "token", held.Holder.Token)
		case ctx.Err() != nil:
		case isTransient(err) || errors.Is(err, errViewChanged) || errors.Is(err, errGrantTooSlow) ||
			errors.Is(err, errEtcdUnavailable):
			l.cfg.log.Warn("lock: attempt failed, retrying", "error", err)
			failed = err
		default:
			return nil, err
		}
		if err := l.b.Wait(ctx, bo.wait()); err != nil {
			if held != nil {
				return nil, errors.Join(err, held)
			}
			if failed != nil {
				// Say why nothing was granted (a cluster out of reach),
				// not only that the time ran out.
				return nil, fmt.Errorf("%w; last attempt: %w", err, failed)
			}
			return nil, err
		}
	}
}

func (l *Locker) attempt(ctx context.Context) (*Lease, error) {
	id := l.self
	id.Nonce = randomHex(8)
	// The lease counts from before the grant's write: the holder's deadline
	// is then never later than the grant a waiter can see.
	stamp := monoNow()
	g, err := l.b.Attempt(ctx, id, l.cfg.lease)
	if err != nil {
		return nil, err
	}
	lease := newLease(g, l.cfg, stamp)
	if lease.Check() != nil {
		// The grant took longer than the lease (a share that hung): it may
		// already have been taken over. Give it back and try again.
		_ = lease.Release(context.Background())
		return nil, fmt.Errorf("lock: token %d: %w", g.Token(), errGrantTooSlow)
	}
	l.cfg.log.Info("lock: acquired", "token", g.Token(), "owner", id.Owner)
	return lease, nil
}

// errGrantTooSlow: making the grant took longer than the lease (a share
// that hung); the grant was given back, and Acquire tries again.
var errGrantTooSlow = errors.New("the grant took longer than the lease and was given back")

// Status reads who holds the lease.
func (l *Locker) Status(ctx context.Context) (Status, error) {
	return l.b.Status(ctx)
}

// Break ends the current lease when its holder is provably dead (a process
// of this host that is gone). With force it ends any lease: a live holder
// may then keep writing until its deadline, and only fencing stops it.
func (l *Locker) Break(ctx context.Context, force bool) (Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Break(ctx, force)
}

// Close releases the Locker's resources. It does not release leases.
func (l *Locker) Close() error { return l.b.Close() }
