//go:build unix

package lock

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the lock creates in the index folder follows the
// process's umask, so another account (umask 0, or a shared group) can take
// the lease. With umask 0: folders 0777, files 0666; the old code made
// them 0755 and 0644 whatever the umask.
func TestUmaskFollowed(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o777))
	c := startChild(t, "hold", "", param("DIR", dir), param("LEASE", "300ms"), param("UMASK", "0"))
	c.Expect(t, "acquired 1", 10*time.Second)
	time.Sleep(250 * time.Millisecond) // a few renewals: slots
	require.NoError(t, c.CloseStdin())
	c.Expect(t, "released", 10*time.Second)

	root := filepath.Join(dir, ".tguard-lease")
	var seen int
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		fi, err := d.Info()
		require.NoError(t, err)
		want := os.FileMode(0o666)
		if d.IsDir() {
			want = 0o777
		}
		rel, _ := filepath.Rel(dir, path)
		assert.Equal(t, want, fi.Mode().Perm(), rel)
		seen++
		return nil
	}))
	// .tguard-lease, lease-300, 1, owner.json, the last slots, released.
	assert.GreaterOrEqual(t, seen, 6)
	assert.FileExists(t, filepath.Join(root, "1", "owner.json"))
}
