package lock

import (
	"time"

	"golang.org/x/sys/unix"
)

// monoNow reads CLOCK_BOOTTIME: monotonic, and unlike CLOCK_MONOTONIC (Go's
// time.Now) it keeps counting while the system is suspended.
func monoNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Since(processStart)
	}
	return time.Duration(ts.Nano())
}

var processStart = time.Now()
