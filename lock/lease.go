package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrReleased is what Lease.Err returns after Release.
var ErrReleased = errors.New("lease released")

// Lease is a granted lease. It renews itself until Release, or until it can
// no longer be proven valid: then Done is closed, Context is cancelled and
// Err says why, strictly before any other process can be granted the lease.
type Lease struct {
	g   Grant
	cfg *config

	deadline atomic.Int64 // monoNow nanoseconds; the lease is valid before it
	progress atomic.Int64 // sinceStart nanoseconds of the last Progress, or of the grant

	ctx      context.Context
	cancel   context.CancelCauseFunc
	endOnce  sync.Once
	err      error // set once, before done is closed
	done     chan struct{}
	stop     chan struct{} // closed by Release: stops renewing
	stopOnce sync.Once
	renewed  chan struct{} // closed when the renewal loop has returned
}

func newLease(g Grant, cfg *config, stamp time.Duration) *Lease {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := &Lease{
		g: g, cfg: cfg, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), stop: make(chan struct{}), renewed: make(chan struct{}),
	}
	l.deadline.Store(int64(l.deadlineFrom(stamp)))
	l.progress.Store(int64(sinceStart()))
	go l.renewLoop()
	go l.watchdog()
	if s, ok := g.(sessionGrant); ok {
		go l.watchSession(s)
	}
	return l
}

// deadlineFrom is the end of a lease stamped at stamp: a margin before the
// earliest moment a waiter may take over (stamp + lease + margin).
func (l *Lease) deadlineFrom(stamp time.Duration) time.Duration {
	return stamp + l.cfg.lease - safetyMargin(l.cfg.lease)
}

// Progress records that the guarded work made progress now. With
// WithStallTimeout, a lease whose work reports no progress for the timeout
// stops renewing and ends. It is safe to call from any goroutine and costs
// a clock read and an atomic store.
func (l *Lease) Progress() { l.progress.Store(int64(sinceStart())) }

// untilStall is the time left before the work counts as stalled.
func (l *Lease) untilStall() time.Duration {
	return time.Duration(l.progress.Load()) + l.cfg.stall - sinceStart()
}

// sinceStart reads Go's monotonic clock (vDSO, tens of nanoseconds, where
// monoNow's CLOCK_BOOTTIME is a system call): a stall is judged on it. It
// does not count a suspend, which is no stall of the work; the deadline,
// which must count one, stays on monoNow.
func sinceStart() time.Duration { return time.Since(processStart) }

// Token is the fencing token of this grant: strictly greater than every
// token granted before for this folder. Store it with every write that must
// be refused if a later holder wrote first.
func (l *Lease) Token() uint64 { return l.g.Token() }

// Done is closed when the lease ends: lost or released.
func (l *Lease) Done() <-chan struct{} { return l.done }

// Context is cancelled when the lease ends; its cause is Err.
func (l *Lease) Context() context.Context { return l.ctx }

// Err is nil while the lease lasts, then an error matching ErrLeaseLost or
// ErrReleased.
func (l *Lease) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

// Remaining is the time left before the lease's deadline on this process's
// clock; zero or less once it has passed.
func (l *Lease) Remaining() time.Duration {
	return time.Duration(l.deadline.Load()) - monoNow()
}

// Check returns nil while the lease is still proven: not ended and before
// its deadline; else why not (an error matching ErrLeaseLost or
// ErrReleased). Call it before every write that matters (as Lucene's
// writer checks its lock before every file it creates); it costs a clock
// read. Err differs only in not reading the clock: it reports an end that
// Done has already announced.
func (l *Lease) Check() error {
	if err := l.Err(); err != nil {
		return err
	}
	if l.Remaining() <= 0 {
		l.end(fmt.Errorf("%w: deadline passed", ErrLeaseLost))
		return l.err
	}
	return nil
}

// end ends the lease once, with err.
func (l *Lease) end(err error) {
	l.endOnce.Do(func() {
		l.err = err
		// Cancel before closing done: whoever wakes on Done must already
		// see the Context cancelled with this cause.
		l.cancel(err)
		close(l.done)
		if s, ok := l.g.(sessionGrant); ok {
			s.leaseEnded()
		}
		if errors.Is(err, ErrLeaseLost) {
			l.cfg.log.Warn("lock: lease lost", "token", l.Token(), "error", err)
		}
	})
}

// extend moves the deadline to what a renewal stamped at stamp gives; it
// never moves it back, and never revives a lease whose deadline has passed,
// even if the watchdog has not ended it yet: past its deadline the lease
// is over, whatever a late renewal says.
func (l *Lease) extend(stamp time.Duration) {
	if l.Remaining() <= 0 {
		l.end(fmt.Errorf("%w: renewed only after the deadline", ErrLeaseLost))
		return
	}
	next := int64(l.deadlineFrom(stamp))
	for {
		cur := l.deadline.Load()
		if next <= cur || l.deadline.CompareAndSwap(cur, next) {
			return
		}
	}
}

// renewLoop renews every renew interval. A failed renewal is retried
// sooner; a renewal that proves the lease taken ends it at once. Whether the
// renewal goes through or hangs, the watchdog ends the lease at its deadline.
//
// With a stall timeout, the loop also ends the lease when the work has
// reported no progress for that long, and never renews a stalled lease: it
// ends without a release, so others take over after it expires.
func (l *Lease) renewLoop() {
	defer close(l.renewed)
	t := time.NewTimer(l.nextRenewal())
	defer t.Stop()
	var st *time.Timer
	var stalled <-chan time.Time // nil without a stall timeout: never ready
	if l.cfg.stall > 0 {
		st = time.NewTimer(max(l.untilStall(), 0))
		defer st.Stop()
		stalled = st.C
	}
	for {
		select {
		case <-l.stop:
			return
		case <-l.done:
			return
		case <-stalled:
			if l.endIfStalled() {
				return
			}
			st.Reset(l.untilStall()) // progress was reported meanwhile
			continue
		case <-t.C:
		}
		if l.endIfStalled() {
			return
		}
		stamp := monoNow()
		ctx, cancel := context.WithTimeout(l.ctx, max(l.Remaining(), 0))
		err := l.g.Renew(ctx)
		cancel()
		if l.cfg.onRenew != nil {
			l.cfg.onRenew(err)
		}
		switch {
		case err == nil:
			l.extend(stamp)
			t.Reset(l.nextRenewal())
		case errors.Is(err, ErrLeaseLost):
			l.end(err)
			return
		default:
			l.cfg.log.Warn("lock: renewal failed, retrying", "token", l.Token(), "error", err)
			t.Reset(max(min(l.cfg.renew/4, l.Remaining()/4), time.Millisecond))
		}
	}
}

// endIfStalled ends the lease with ErrStalled when a stall timeout is set
// and no progress was reported within it.
func (l *Lease) endIfStalled() bool {
	if l.cfg.stall <= 0 || l.untilStall() > 0 {
		return false
	}
	l.end(fmt.Errorf("%w: %w: none reported for %v", ErrLeaseLost, ErrStalled, l.cfg.stall))
	return true
}

// nextRenewal is the renew interval, or less when a slow grant or renewal
// has used part of the lease: never later than halfway through what is left.
func (l *Lease) nextRenewal() time.Duration {
	return min(l.cfg.renew, max(l.Remaining()/2, 0))
}

// watchdog ends the lease at its deadline, independently of renewals that
// may hang on a share that stopped answering.
func (l *Lease) watchdog() {
	t := time.NewTimer(max(l.Remaining(), 0))
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		if rem := l.Remaining(); rem > 0 {
			t.Reset(rem)
			continue
		}
		l.end(fmt.Errorf("%w: not renewed before the deadline", ErrLeaseLost))
		return
	}
}

// Release ends the lease so that a waiter is granted it at once. It returns
// an error matching ErrLeaseLost if the lease had already been lost; it never
// touches a successor's lease. Release is idempotent.
func (l *Lease) Release(ctx context.Context) error {
	l.stopOnce.Do(func() { close(l.stop) })
	select {
	case <-l.renewed:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := l.Err(); err != nil {
		if errors.Is(err, ErrReleased) {
			return nil
		}
		return err
	}
	lost := l.Remaining() <= 0
	// Even past the deadline the release helps: it ends the generation now
	// instead of after a waiter's expiry; if a waiter was first, the mkdir
	// fails and nothing is written.
	err := l.g.Release(ctx)
	switch {
	case lost:
		l.end(fmt.Errorf("%w: deadline passed before release", ErrLeaseLost))
		return l.err
	case err != nil && errors.Is(err, ErrLeaseLost):
		l.end(err)
		return err
	case err != nil:
		// The end marker may or may not have landed; the lease is over for
		// us either way, and a waiter will see it end or expire.
		l.end(ErrReleased)
		return fmt.Errorf("lock: releasing token %d: %w", l.Token(), err)
	}
	l.end(ErrReleased)
	return nil
}
