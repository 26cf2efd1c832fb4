//go:build failpoints && !unix

package indexer

import "os"

// hit acts if the failpoint names step; without signals, both stop and
// crash end the process at once.
func (f *failpoint) hit(step string) {
	if f.name == step+":stop" || f.name == step+":crash" {
		os.Exit(137)
	}
}
