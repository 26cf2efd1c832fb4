//go:build !unix

package indexer

import "os"

// hitFailpoint acts if the configured failpoint names step; without
// signals, both stop and crash end the process at once.
func (ix *Indexer) hitFailpoint(step string) {
	if ix.cfg.failpoint == step+":stop" || ix.cfg.failpoint == step+":crash" {
		os.Exit(137)
	}
}
