package bridge

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const mb15 = 15_000_000

// newIndex creates a default-schema index in a fresh temp dir.
func newIndex(t *testing.T) (*Index, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "idx")
	ix, err := OpenOrCreate(dir, "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	return ix, dir
}

func newWriterT(t *testing.T, ix *Index) *Writer {
	t.Helper()
	w, err := ix.Writer(mb15, 1)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func hitIDs(r SearchResult) []string {
	ids := make([]string, 0, len(r.Hits))
	for _, h := range r.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}
