//go:build unix

package indexer

import (
	"os"
	"syscall"
)

// hitFailpoint acts if the configured failpoint names step. A stop acts
// once: a Flush that retries passes the same step again.
func (ix *Indexer) hitFailpoint(step string) {
	switch ix.cfg.failpoint {
	case step + ":stop":
		ix.cfg.failpoint = ""
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	case step + ":crash":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}
