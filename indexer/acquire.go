package indexer

import (
	"context"
	"errors"
	"time"

	"github.com/tguard/tguard/lock"
)

// ErrInterrupted: the caller asked Flush to stop (WithInterrupt). Nothing
// of the flush under way was committed; its entries stay journaled.
var ErrInterrupted = errors.New("interrupted")

// WithNoWait makes Flush try the lease once and return an error matching
// lock.ErrHeld at once while another owner holds it (flock -n).
func WithNoWait() Option {
	return func(c *config) error { c.noWait = true; return nil }
}

// WithOnWait calls fn with the holder when Flush finds the lease held and
// starts waiting for it, so that a person can be told whom they wait for.
func WithOnWait(fn func(holder lock.Status)) Option {
	return func(c *config) error { c.onWait = fn; return nil }
}

// WithInterrupt makes Flush stop when done is closed: before the next batch
// and before the commit, so nothing half-done is committed; the lease is
// released at once and the entries stay journaled.
func WithInterrupt(done <-chan struct{}) Option {
	return func(c *config) error { c.interrupt = done; return nil }
}

// acquire takes the lease as the options say: once (WithNoWait), or
// waiting as long as ctx allows, after telling WithOnWait's function who
// holds it.
func (ix *Indexer) acquire(ctx context.Context) (*lock.Lease, error) {
	start := time.Now()
	lease, err := ix.acquireOnce(ctx)
	if err == nil && ix.cfg.svc.onAcquired != nil {
		ix.cfg.svc.onAcquired(lease.Token(), time.Since(start))
	}
	return lease, err
}

func (ix *Indexer) acquireOnce(ctx context.Context) (*lock.Lease, error) {
	lease, err := ix.locker.TryAcquire(ctx)
	var held *lock.HeldError
	if err == nil || ix.cfg.noWait {
		return lease, err
	}
	if errors.As(err, &held) && ix.cfg.onWait != nil {
		ix.cfg.onWait(held.Holder)
	}
	if err := ix.interrupted(); err != nil {
		return nil, err
	}
	return ix.locker.Acquire(ctx)
}

// interrupted is ErrInterrupted once the caller's interrupt channel closed.
func (ix *Indexer) interrupted() error {
	select {
	case <-ix.cfg.interrupt:
		return ErrInterrupted
	default:
		return nil
	}
}
