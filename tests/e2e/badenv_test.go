package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/prereq"
)

func needRoot(t *testing.T) {
	t.Helper()
	prereq.Root(t, "mount a tmpfs or run tguard as another user")
}

// An unreadable file in the walk is skipped, counted and named; the rest
// is indexed. (As root, tguard runs as nobody so that permissions apply.)
func TestUnreadableFileSkipped(t *testing.T) {
	root := t.TempDir()
	docs := filepath.Join(root, "docs")
	corpus(t, docs, "readable", 3)
	secret := filepath.Join(docs, "secret.txt")
	writeFile(t, secret, "hidden\n")
	require.NoError(t, os.Chmod(secret, 0o000))
	args := []string{"index", "--index", filepath.Join(root, "index"), "--journal", filepath.Join(root, "j.db"), "--json", docs}
	cmd := tguardBin.Command(args...)
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(root), root, docs} {
			require.NoError(t, os.Chmod(d, 0o777))
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.With("HOME=" + root)
	}
	out := cmd.Output(t)
	assert.Contains(t, out, `"indexed":3`)
	assert.Contains(t, out, `"skipped":1`)
	assert.Contains(t, out, "secret.txt")
	assert.Contains(t, out, "permission denied")
}

// A full disk during the commit: the commit fails, the index stays
// openable, the documents stay journaled; with room again, flush applies
// them.
func TestFullDiskDuringCommit(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	small := filepath.Join(root, "small")
	require.NoError(t, os.MkdirAll(small, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", small).Run() })
	ix := filepath.Join(small, "index")
	docs := filepath.Join(root, "docs")
	// About 6 MB of distinct words: more than the 2 MB the disk holds.
	for i := 0; i < 60; i++ {
		var b strings.Builder
		for k := 0; k < 10000; k++ {
			fmt.Fprintf(&b, "w%dx%d ", i, k)
		}
		writeFile(t, filepath.Join(docs, fmt.Sprintf("big%02d.txt", i)), b.String())
	}
	j := filepath.Join(root, "j.db")
	r := tguard(t, nil, "index", "--index", ix, "--journal", j, docs)
	require.Equal(t, 1, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "60 documents stay journaled")
	assert.Len(t, strings.Split(strings.TrimSpace(r.Stderr), "\n"), 1, r.Stderr)
	assert.Equal(t, 0, readStats(t, ix).Docs, "the index still opens, with nothing half-committed")

	require.NoError(t, exec.Command("mount", "-o", "remount,size=256m", small).Run())
	r = tguard(t, nil, "flush", "--index", ix, "--journal", j)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 60, readStats(t, ix).Docs)
	assert.Equal(t, 1, hits(t, ix, "w7x9999"))
}
