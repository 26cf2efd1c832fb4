package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// journal list shows every journal of the state folder with its index,
// owner, pending count and size; journal drop removes one after
// confirmation, saying how many documents are dropped.
func TestJournalListDrop(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "state")
	env := []string{"XDG_STATE_HOME=" + state}
	ix := filepath.Join(root, "index")
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "a.txt"), "eta\n")
	writeFile(t, filepath.Join(docs, "b.txt"), "theta\n")
	require.NoError(t, os.MkdirAll(ix, 0o755))
	h := holder(t, ix, "--owner", "busy")
	r := tguard(t, env, "index", "--index", ix, "--owner", "late", "-n", docs)
	require.Equal(t, 75, r.Code, r.Stderr)
	_ = h

	r = tguard(t, env, "journal", "list", "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var list []struct {
		Path, Index, Owner string
		Pending            int
		Bytes              int64
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &list), r.Stdout)
	require.Len(t, list, 1)
	real, err := filepath.Abs(ix)
	require.NoError(t, err)
	assert.Equal(t, real, list[0].Index)
	assert.Equal(t, "late", list[0].Owner)
	assert.Equal(t, 2, list[0].Pending)
	assert.Greater(t, list[0].Bytes, int64(0))
	r = tguard(t, env, "journal", "list")
	assert.Contains(t, r.Stdout, "owner late, 2 pending")

	// No terminal, no --yes: refused, nothing removed.
	r = tguard(t, env, "journal", "drop", "--index", ix, "--owner", "late")
	assert.Equal(t, 2, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "--yes")
	_, err = os.Stat(list[0].Path)
	require.NoError(t, err, "still there")

	r = tguard(t, env, "journal", "drop", "--index", ix, "--owner", "late", "--yes")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "2 documents not applied are lost")
	_, err = os.Stat(list[0].Path)
	assert.True(t, os.IsNotExist(err))
	r = tguard(t, env, "journal", "list", "--json")
	assert.Equal(t, "[]\n", r.Stdout)
}

// delete: journaled, applied under the lease, for documents that did not
// come from files.
func TestDeleteByID(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	lines := filepath.Join(root, "d.jsonl")
	writeFile(t, lines, `{"id":"k1","title":"iota one"}`+"\n"+`{"id":"k2","title":"iota two"}`+"\n")
	r := tguard(t, nil, "index", "--index", ix, lines)
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, []string{"k1", "k2"}, searchIDs(t, ix, "iota"))

	r = tguard(t, nil, "delete", "--index", ix, "--json", "k1")
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct {
		Deleted, Indexed int
		Committed        bool
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum), r.Stdout)
	assert.Equal(t, 1, sum.Deleted)
	assert.Equal(t, 0, sum.Indexed)
	assert.True(t, sum.Committed)
	assert.Equal(t, []string{"k2"}, searchIDs(t, ix, "iota"))

	// Held by another: exit 75, the deletion stays journaled for flush.
	h := holder(t, ix, "--owner", "busy")
	r = tguard(t, nil, "delete", "--index", ix, "-n", "k2")
	assert.Equal(t, 75, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "1 documents stay journaled")
	_ = h
}
