//go:build !linux

package lock

import "time"

// watchExit: no process handle to wait on here; the backoff polls.
func watchExit(int, time.Duration) <-chan struct{} { return nil }
