package lock

// WithRenewObserver calls fn after every renewal attempt of a lease granted
// by this Locker, with its error (nil: renewed). For metrics: it decides
// nothing, and runs on the lease's renewal goroutine, so it must not block.
func WithRenewObserver(fn func(err error)) Option {
	return func(c *config) error { c.onRenew = fn; return nil }
}
