package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// searchIDs returns the ids of every hit of query, sorted.
func searchIDs(t *testing.T, ix, query string) []string {
	t.Helper()
	r := tguard(t, nil, "search", "--index", ix, "--json", "--limit", "1000", query)
	require.Equal(t, 0, r.Code, r.Stderr)
	var res struct{ Hits []struct{ ID string } }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res), r.Stdout)
	ids := []string{}
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	sort.Strings(ids)
	return ids
}

func docCount(t *testing.T, ix string) int {
	t.Helper()
	r := tguard(t, nil, "stats", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var st struct{ Docs int }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &st), r.Stdout)
	return st.Docs
}

// One file has one id, however the folder is spelled on the command line.
func TestCanonicalIDs(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	corpus := filepath.Join(root, "corpus")
	writeFile(t, filepath.Join(corpus, "a.txt"), "alpha words\n")
	writeFile(t, filepath.Join(corpus, "sub", "b.txt"), "alpha more\n")
	link := filepath.Join(root, "cl")
	require.NoError(t, os.Symlink(corpus, link))

	for _, spelling := range []string{corpus, corpus + "/", filepath.Join(corpus, "sub", ".."), link, link + "/"} {
		r := tguard(t, nil, "index", "--index", ix, "--json", spelling)
		require.Equal(t, 0, r.Code, "%s: %s", spelling, r.Stderr)
		var sum struct{ Files, Accepted int }
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum), r.Stdout)
		assert.Equal(t, 2, sum.Files, "%s: every file is walked", spelling)
		assert.Equal(t, 2, docCount(t, ix), "%s adds no document", spelling)
	}
	real, err := filepath.EvalSymlinks(corpus)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(real, "a.txt"), filepath.Join(real, "sub", "b.txt")}, searchIDs(t, ix, "alpha"))

	// An id an older tguard gave through the link goes with --prune.
	old := filepath.Join(root, "old.jsonl")
	writeFile(t, old, `{"id":"`+filepath.Join(link, "a.txt")+`","title":"alpha old"}`+"\n")
	r := tguard(t, nil, "index", "--index", ix, old)
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, 3, docCount(t, ix))
	r = tguard(t, nil, "index", "--index", ix, "--prune", "--json", link)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 2, docCount(t, ix), "the non-canonical id is pruned: %s", r.Stdout)
}

// --root: the same file has the same id from two mount points.
func TestRootIDs(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	// Two "hosts" see one share at two places (/mnt/share, /srv/share):
	// two copies of the same tree stand in for the two mounts.
	mntA, mntB := filepath.Join(root, "mnt", "share"), filepath.Join(root, "srv", "share")
	writeFile(t, filepath.Join(mntA, "docs", "a.txt"), "beta words\n")
	writeFile(t, filepath.Join(mntB, "docs", "a.txt"), "beta words\n")
	share := mntA
	r := tguard(t, nil, "index", "--index", ix, "--root", mntA, filepath.Join(mntA, "docs"))
	require.Equal(t, 0, r.Code, r.Stderr)
	r = tguard(t, nil, "index", "--index", ix, "--root", mntB+"/", filepath.Join(mntB, "docs"))
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 1, docCount(t, ix))
	assert.Equal(t, []string{"/docs/a.txt"}, searchIDs(t, ix, "beta"))

	// A path outside the root is a usage error, before anything is journaled.
	r = tguard(t, nil, "index", "--index", ix, "--root", filepath.Join(share, "docs"), root)
	assert.Equal(t, 2, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "not below --root")
}
