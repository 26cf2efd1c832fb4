//go:build unix

package indexer

import (
	"os"
	"syscall"
)

// hitFailpoint acts if the configured failpoint names step.
func (ix *Indexer) hitFailpoint(step string) {
	switch ix.cfg.failpoint {
	case step + ":stop":
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	case step + ":crash":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}
