package lock

import (
	"time"

	"golang.org/x/sys/unix"
)

// watchExit returns a channel closed when process pid exits within d, so a
// waiter on the holder's host takes over a crashed holder at once. A pidfd
// refers to one process instance, so PID reuse cannot fool it.
func watchExit(pid int, d time.Duration) <-chan struct{} {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil
	}
	ch := make(chan struct{})
	go func() {
		defer unix.Close(fd)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, int(d.Milliseconds())+1); err == nil && n > 0 {
			close(ch)
		}
	}()
	return ch
}
