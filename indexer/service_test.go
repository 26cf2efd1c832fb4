package indexer

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServiceAPI: sequence numbers of an acceptance, a document's state
// from pending to committed (with the token), the ids of the last commit,
// a bound on what one Flush applies, and the grant hook.
func TestServiceAPI(t *testing.T) {
	root := t.TempDir()
	var grants []uint64
	ix, err := New(filepath.Join(root, "index"), WithJournal(filepath.Join(root, "j.db")), WithMaxApply(3), WithBatch(1),
		WithOnAcquired(func(token uint64, _ time.Duration) { grants = append(grants, token) }))
	require.NoError(t, err)
	defer ix.Close()

	accepted, bad, err := ix.Accept([]Doc{{JSON: []byte(`{"id":"a"}`)}, {JSON: []byte(`{"x":1}`), Origin: "line 2"}, {JSON: []byte(`{"id":"b"}`)}})
	require.NoError(t, err)
	assert.Equal(t, 2, accepted)
	require.Len(t, bad, 1)
	assert.Equal(t, "line 2", bad[0].Path)
	var docs []Doc
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("c%d", i)
		docs, ids = append(docs, Doc{JSON: []byte(`{"id":"` + id + `"}`)}), append(ids, id)
	}
	seqs, err := ix.AcceptIdentified(docs, ids)
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4, 5}, seqs, "after a and b, 1 and 2; the refused document takes no number")
	_, err = ix.AcceptIdentified(docs, ids[:1])
	require.Error(t, err)
	_, err = DocID([]byte(`[1]`))
	require.Error(t, err)

	st, err := ix.DocState("b")
	require.NoError(t, err)
	assert.Equal(t, DocState{Seq: 2}, st)
	_, err = ix.DocState("nobody")
	require.ErrorIs(t, err, ErrNotJournaled)

	// At most 3 entries per Flush: 5 pending take two.
	res, err := ix.Flush(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, res.Applied)
	n, err := ix.Pending()
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	st, err = ix.DocState("b")
	require.NoError(t, err)
	assert.Equal(t, DocState{Seq: 2, Committed: true, Token: res.Token}, st)
	st, err = ix.DocState("c2")
	require.NoError(t, err)
	assert.False(t, st.Committed)
	committed, token, err := ix.CommittedIDs(10)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c0"}, committed)
	assert.Equal(t, res.Token, token)

	res2, err := ix.Flush(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, res2.Applied)
	// The second grant confirmed and dropped the first commit's entries.
	_, err = ix.DocState("a")
	require.ErrorIs(t, err, ErrNotJournaled)
	assert.Equal(t, []uint64{res.Token, res2.Token}, grants)
}
