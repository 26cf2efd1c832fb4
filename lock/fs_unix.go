//go:build unix

package lock

import (
	"errors"
	"os"
	"syscall"
)

func replaceFile(from, to string) error { return os.Rename(from, to) }

// syncDir makes the entries of dir durable: after a grant, a crash of the
// machine must not bring back a lower fencing token.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil // some network and FUSE file systems cannot sync a folder
	}
	return err
}

// isTransient reports whether an I/O error may go away by itself (a share
// that stopped answering, a file busy on another client), so that waiting
// and retrying is right. Anything else is reported to the caller.
func isTransient(err error) bool {
	for _, e := range []syscall.Errno{
		syscall.EIO, syscall.ETIMEDOUT, syscall.ENOTCONN, syscall.EAGAIN,
		syscall.EBUSY, syscall.ESTALE, syscall.EINTR, syscall.EHOSTDOWN,
		syscall.EHOSTUNREACH, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.ECONNREFUSED, syscall.ENETDOWN, syscall.ENETUNREACH,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// notifyWorks: inotify and kqueue wake waiters on this host.
func notifyWorks() bool { return true }
