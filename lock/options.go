package lock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Default timings. The renewal interval is a third of the lease so that two
// renewals can fail before the holder's deadline (lease − lease/10).
const (
	DefaultLeaseDuration = 30 * time.Second
	minLeaseDuration     = 10 * time.Millisecond
	maxLeaseDuration     = 24 * time.Hour
)

type config struct {
	owner      string
	lease      time.Duration
	renew      time.Duration
	backoffMin time.Duration
	backoffMax time.Duration
	log        *slog.Logger
	clock      Clock
	backend    Backend
	floor      func(context.Context) (uint64, error)
	stall      time.Duration
	etcd       *etcdConfig // WithEtcd, WithEtcdClient, WithEtcdKey
	onRenew    func(error) // observe.go
}

// Option configures a Locker. Options are validated by New.
type Option func(*config) error

// WithOwner names the owner (default hostname_pid). It is shown in Status
// and must be one line of at most 256 bytes.
func WithOwner(id string) Option {
	return func(c *config) error {
		if id == "" || len(id) > 256 || strings.ContainsAny(id, "\r\n\x00") {
			return fmt.Errorf("lock: owner %q: must be one non-empty line of at most 256 bytes", id)
		}
		c.owner = id
		return nil
	}
}

// WithLeaseDuration sets how long a lease lasts without renewal (default
// 30 s). Every instance of one folder should use the same duration; a waiter
// that reads a longer one in the holder's record waits for the longer.
func WithLeaseDuration(d time.Duration) Option {
	return func(c *config) error {
		if d < minLeaseDuration || d > maxLeaseDuration {
			return fmt.Errorf("lock: lease duration %v: must be between %v and %v", d, minLeaseDuration, maxLeaseDuration)
		}
		c.lease = d
		return nil
	}
}

// WithLogger sends the package's logs to l. By default it logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("lock: nil logger")
		}
		c.log = l
		return nil
	}
}

// WithClock sets the wall clock (for tests, and for TGUARD_CLOCK_SKEW).
func WithClock(clk Clock) Option {
	return func(c *config) error {
		if clk == nil {
			return errors.New("lock: nil clock")
		}
		c.clock = clk
		return nil
	}
}

// WithBackend replaces the file backend, for example with an etcd one.
func WithBackend(b Backend) Option {
	return func(c *config) error {
		if b == nil {
			return errors.New("lock: nil backend")
		}
		c.backend = b
		return nil
	}
}

// WithTokenFloor sets a function that returns a token every grant must
// exceed: the token of the guarded data's last commit. The Locker calls it
// right before each grant it is about to make (never while it waits) and
// grants a token above both it and the lease folder's last one, so a lease
// folder that was deleted or restored from an older copy cannot hand out a
// token the data has already seen. Generation folder names then skip ahead.
// An error from floor fails the attempt: Acquire retries it when it is a
// transient I/O error, and returns it otherwise. The file and etcd backends
// support it; a backend given with WithBackend does not.
func WithTokenFloor(floor func(ctx context.Context) (uint64, error)) Option {
	return func(c *config) error {
		if floor == nil {
			return errors.New("lock: nil token floor")
		}
		c.floor = floor
		return nil
	}
}

// WithStallTimeout makes the lease end when the guarded work has reported
// no progress (Lease.Progress) for d, counted from the grant: the renewal
// loop stops renewing and the lease ends with an error matching both
// ErrLeaseLost and ErrStalled. The generation is not released (the stuck
// work may resume and write): other owners take over once it expires. 0,
// the default, turns it off.
func WithStallTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("lock: stall timeout %v: must not be negative", d)
		}
		c.stall = d
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{lease: DefaultLeaseDuration, clock: systemClock{}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.renew = c.lease / 3
	if c.floor != nil && c.backend != nil {
		return nil, errors.New("lock: a token floor needs the file backend")
	}
	if err := c.validateEtcd(); err != nil {
		return nil, err
	}
	c.backoffMin, c.backoffMax = 2*time.Millisecond, min(time.Second, max(c.lease/8, 2*time.Millisecond))
	return c, nil
}
