package lock

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The index folder is watched only for the lease folder appearing or
// going: the holder's segment files must not wake every waiter.
func TestWatcherIgnoresTheIndexsOwnFiles(t *testing.T) {
	index := filepath.Join(t.TempDir(), "index")
	root := filepath.Join(index, ".tguard-lease")
	w := &watcher{root: root}
	for name, want := range map[string]bool{
		filepath.Join(index, "0a1b2c.idx"):           false,
		filepath.Join(index, "meta.json"):            false,
		filepath.Join(index, ".tantivy-writer.lock"): false,
		root:                            true,
		index:                           true,
		filepath.Join(root, "00000007"): true,
		filepath.Join(root, "00000007", "00000002"): true,
	} {
		assert.Equal(t, want, w.relevant(name), name)
	}
}
