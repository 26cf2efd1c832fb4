//go:build !linux

package lock

import "time"

var processStart = time.Now()

// monoNow reads Go's monotonic clock.
func monoNow() time.Duration { return time.Since(processStart) }
