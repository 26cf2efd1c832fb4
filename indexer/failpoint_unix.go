//go:build failpoints && unix

package indexer

import (
	"os"
	"syscall"
)

// hit acts if the failpoint names step. A stop acts once: a Flush that
// retries passes the same step again.
func (f *failpoint) hit(step string) {
	switch f.name {
	case step + ":stop":
		f.name = ""
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	case step + ":crash":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}
