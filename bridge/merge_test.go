package bridge

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Merge merges committed segments and publishes through the fence: the
// documents stay, upserts stay replaced, and a writer behind a newer
// token's commit is refused.
func TestMergeFencedLikeACommit(t *testing.T) {
	ix, dir := newIndex(t)
	w := newWriterT(t, ix)
	for i := range 4 {
		_, err := w.AddJSONLines([]byte(fmt.Sprintf(`{"id":"d%d","title":"merged"}`+"\n"+`{"id":"same","title":"v%d"}`, i, i)))
		require.NoError(t, err)
		_, err = w.Commit(`{"token":3,"grant":"g"}`, 3)
		require.NoError(t, err)
	}
	st, err := ix.Stats()
	require.NoError(t, err)
	require.Equal(t, 4, st.Segments)

	left, err := w.Merge(2, 3)
	require.NoError(t, err)
	assert.Equal(t, 2, left)
	left, err = w.Merge(1, 3)
	require.NoError(t, err)
	assert.Equal(t, 1, left)
	st, err = ix.Stats()
	require.NoError(t, err)
	assert.Equal(t, 1, st.Segments)
	assert.Equal(t, uint64(5), st.Docs)
	require.NotNil(t, st.Payload)
	assert.Equal(t, `{"token":3,"grant":"g"}`, *st.Payload, "a merge keeps the last commit's payload")
	r, err := ix.Search("v3", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"same"}, hitIDs(r))
	require.NoError(t, w.Close())

	// A newer token committed: a writer fenced at token 3 may not merge.
	w2 := newWriterT(t, ix)
	_, err = w2.Commit(`{"token":9,"grant":"h"}`, 9)
	require.NoError(t, err)
	require.NoError(t, w2.Close())
	w3 := newWriterT(t, ix)
	_, err = w3.AddJSONLines([]byte(`{"id":"x"}`))
	require.NoError(t, err)
	_, err = w3.Commit(`{"token":9,"grant":"h"}`, 9)
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	require.NoError(t, err)
	_, err = w3.Merge(1, 3)
	assert.ErrorIs(t, err, ErrFenced)
	after, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing published")
}
