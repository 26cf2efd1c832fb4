package indexer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/bridge"
)

// AddPaths journals what changed since the journal last saw it; with
// WithPrune it also journals the deletion of documents whose files are
// gone, and forgets those files, so that a file created again under the
// same path is indexed again.
func TestAddPathsPrunes(t *testing.T) {
	root := t.TempDir()
	docs := filepath.Join(root, "docs")
	require.NoError(t, os.MkdirAll(docs, 0o755))
	for _, n := range []string{"a.txt", "b.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(docs, n), []byte("text of "+n+"\n"), 0o644))
	}
	dir := filepath.Join(root, "index")
	run := func(opts ...Option) AddResult {
		t.Helper()
		var skipped []Skip
		opts = append(opts, WithJournal(filepath.Join(root, "j.db")), WithRoot(root),
			WithOnSkip(func(s Skip) { skipped = append(skipped, s) }))
		ix, err := New(dir, opts...)
		require.NoError(t, err)
		defer ix.Close()
		res, err := ix.AddPaths([]string{docs})
		require.NoError(t, err)
		assert.Empty(t, skipped)
		_, err = ix.Flush(context.Background())
		require.NoError(t, err)
		return res
	}
	ids := func() []string {
		t.Helper()
		idx, err := bridge.Open(dir)
		require.NoError(t, err)
		defer idx.Close()
		got, err := idx.IDsWithPrefix("/docs/")
		require.NoError(t, err)
		return got
	}

	assert.Equal(t, AddResult{Files: 2, Accepted: 2}, run())
	assert.ElementsMatch(t, []string{"/docs/a.txt", "/docs/b.txt"}, ids())
	assert.Equal(t, AddResult{Files: 2}, run(WithPrune()), "unchanged: nothing journaled")

	require.NoError(t, os.Remove(filepath.Join(docs, "b.txt")))
	assert.Equal(t, AddResult{Files: 1}, run(), "without WithPrune nothing is deleted")
	assert.ElementsMatch(t, []string{"/docs/a.txt", "/docs/b.txt"}, ids())
	assert.Equal(t, AddResult{Files: 1, Deleted: 1}, run(WithPrune()))
	assert.Equal(t, []string{"/docs/a.txt"}, ids())

	// Created again: indexed again.
	require.NoError(t, os.WriteFile(filepath.Join(docs, "b.txt"), []byte("text of b.txt\n"), 0o644))
	assert.Equal(t, AddResult{Files: 2, Accepted: 1}, run(WithPrune()))
	assert.ElementsMatch(t, []string{"/docs/a.txt", "/docs/b.txt"}, ids())
}
