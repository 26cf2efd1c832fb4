package bridge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommitSurvivesReopen(t *testing.T) {
	ix, dir := newIndex(t)
	w := newWriterT(t, ix)
	res, err := w.AddJSONLines([]byte(`{"id":"a","path":"/a.md","title":"Durable notes","body":"persisted across reopen"}`))
	require.NoError(t, err)
	require.Equal(t, 1, res.Added)
	op, err := w.Commit(`{"token":1}`, 1)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, ix.Close())

	ix2, err := Open(dir)
	require.NoError(t, err)
	defer ix2.Close()
	st, err := ix2.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(1), st.Docs)
	require.Equal(t, op, st.Opstamp)
	require.NotNil(t, st.Payload)
	require.Equal(t, `{"token":1}`, *st.Payload)
	r, err := ix2.Search("persisted", 10)
	require.NoError(t, err)
	require.Equal(t, 1, r.Total)
	h := r.Hits[0]
	require.Equal(t, []string{"a", "/a.md", "Durable notes"}, []string{h.ID, h.Path, h.Title})
	require.Equal(t, "persisted across reopen", h.Fields["body"], "every stored field")
	require.NotNil(t, h.Snippet)
	require.Equal(t, [][2]int{{0, 9}}, h.Snippet.Highlighted)
	require.Greater(t, r.Hits[0].Score, float32(0))

	// OpenOrCreate on the existing index with the default schema reopens it.
	ix3, err := OpenOrCreate(dir, DefaultSchemaJSON())
	require.NoError(t, err)
	require.NoError(t, ix3.Close())
}

func TestPayloadRoundTripAndEmptyPayload(t *testing.T) {
	ix, _ := newIndex(t)
	st, err := ix.Stats()
	require.NoError(t, err)
	require.Nil(t, st.Payload)
	require.Zero(t, st.Docs)
	require.Zero(t, st.Segments)

	w := newWriterT(t, ix)
	payload := `{"token":42,"holder":"host-1/pid-7","note":"ünïcode"}`
	_, err = w.Commit(payload, 42)
	require.NoError(t, err)
	st, err = ix.Stats()
	require.NoError(t, err)
	require.Equal(t, payload, *st.Payload)
}

func TestFreshCommitIsFound(t *testing.T) {
	ix, _ := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.AddJSONLines([]byte(`{"id":"n1","title":"brand new"}`))
	require.NoError(t, err)
	r, err := ix.Search("brand", 10)
	require.NoError(t, err)
	require.Equal(t, 0, r.Total, "uncommitted documents must not be visible")
	require.NotNil(t, r.Hits)
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	r, err = ix.Search("brand", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"n1"}, hitIDs(r))
}

func TestSchemaMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	custom := `{"fields":[{"name":"id","type":"string","stored":true},{"name":"text","type":"text","stored":true}]}`
	ix, err := OpenOrCreate(dir, custom)
	require.NoError(t, err)
	require.NoError(t, ix.Close())

	// No schema given: the index keeps its own.
	ix, err = OpenOrCreate(dir, "")
	require.NoError(t, err)
	kept, err := ix.Schema()
	require.NoError(t, err)
	want, err := CheckSchema(custom)
	require.NoError(t, err)
	require.Equal(t, want, kept)
	require.NoError(t, ix.Close())

	_, err = OpenOrCreate(dir, DefaultSchemaJSON())
	require.ErrorIs(t, err, ErrSchemaMismatch)
	var be *Error
	require.True(t, errors.As(err, &be))
	require.NotContains(t, err.Error(), "\n")

	ix, err = Open(dir) // any schema
	require.NoError(t, err)
	require.NoError(t, ix.Close())
	ix, err = OpenOrCreate(dir, custom)
	require.NoError(t, err)
	require.NoError(t, ix.Close())
}

func TestInvalidSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	_, err := OpenOrCreate(dir, `{"fields":[{"name":"id","type":"string"},{"name":"size","type":"bigint"}]}`)
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), "size")
	require.Contains(t, err.Error(), "bigint")
	_, statErr := os.Stat(dir)
	require.True(t, os.IsNotExist(statErr), "a rejected schema must not create the directory")
	_, err = OpenOrCreate(dir, `{"fields":[{"name":"title","type":"text"}]}`)
	require.ErrorIs(t, err, ErrInvalidArgument)
}

func TestNotAnIndexAndMissingDir(t *testing.T) {
	tmp := t.TempDir()
	_, err := Open(tmp)
	require.ErrorIs(t, err, ErrNotAnIndex)
	require.False(t, errors.Is(err, ErrNotFound))

	_, err = Open(filepath.Join(tmp, "missing"))
	require.ErrorIs(t, err, ErrNotFound)

	_, err = Open(tmp + "/\xff")
	require.ErrorIs(t, err, ErrInvalidArgument, "a path that is not UTF-8")

	require.NoError(t, os.WriteFile(filepath.Join(tmp, "meta.json"), []byte("{garbage"), 0o644))
	_, err = Open(tmp)
	require.ErrorIs(t, err, ErrCorruptIndex)
	_, err = OpenOrCreate(tmp, "")
	require.ErrorIs(t, err, ErrCorruptIndex, "a corrupt index is never rebuilt")
}

// A committed index that lost a segment file is corrupt, not empty.
func TestMissingSegmentFileIsCorrupt(t *testing.T) {
	ix, dir := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.AddJSONLines([]byte(`{"id":"a","title":"hello"}`))
	require.NoError(t, err)
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, ix.Close())
	stores, err := filepath.Glob(filepath.Join(dir, "*.store"))
	require.NoError(t, err)
	require.Len(t, stores, 1)
	require.NoError(t, os.Remove(stores[0]))
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrCorruptIndex)
}

func TestEmptyQueryAndSyntaxError(t *testing.T) {
	ix, _ := newIndex(t)
	_, err := ix.Search("", 10)
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), "empty query")
	_, err = ix.Search("   ", 10)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = ix.Search(`title:(unclosed`, 10)
	require.ErrorIs(t, err, ErrQuerySyntax)
	_, err = ix.Search("nosuchfield:x", 10)
	require.ErrorIs(t, err, ErrQuerySyntax)
	_, err = ix.Search(`"unclosed`, 10)
	require.ErrorIs(t, err, ErrQuerySyntax)
	_, err = ix.Search("modified:notadate", 10)
	require.ErrorIs(t, err, ErrQuerySyntax)
	_, err = ix.Search("x", -1)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = ix.Search("x", 100_001) // above TG_MAX_SEARCH_LIMIT
	require.ErrorIs(t, err, ErrInvalidArgument)
}

// limit 0 only counts, limit caps the hits and not the total, field
// queries work on the id, and a stored field a document lacks is left out.
func TestSearchLimitsAndFieldQueries(t *testing.T) {
	ix, _ := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.AddJSONLines([]byte(strings.Join([]string{
		`{"id":"1","path":"/a.txt","title":"Rust and Go","body":"cgo bridges","modified":"2024-01-02T03:04:05Z"}`,
		`{"id":"2","path":"/b.txt","title":"Only Go","body":"goroutines"}`,
		`{"id":"3","title":"Zebra"}`,
	}, "\n")))
	require.NoError(t, err)
	_, err = w.Commit("", 0)
	require.NoError(t, err)

	r, err := ix.Search("go", 10)
	require.NoError(t, err)
	require.Equal(t, 2, r.Total)
	require.ElementsMatch(t, []string{"1", "2"}, hitIDs(r))
	r, err = ix.Search("go", 0)
	require.NoError(t, err)
	require.Equal(t, 2, r.Total)
	require.Empty(t, r.Hits)
	r, err = ix.Search("go", 1)
	require.NoError(t, err)
	require.Equal(t, 2, r.Total)
	require.Len(t, r.Hits, 1)
	r, err = ix.Search("id:2", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"2"}, hitIDs(r))
	r, err = ix.Search("zebra", 10)
	require.NoError(t, err)
	require.Len(t, r.Hits, 1)
	require.NotContains(t, r.Hits[0].Fields, "path")
	require.Equal(t, "Zebra", r.Hits[0].Title)
}

func TestClosedIndex(t *testing.T) {
	ix, _ := newIndex(t)
	require.NoError(t, ix.Close())
	require.NoError(t, ix.Close())
	_, err := ix.Search("x", 1)
	require.ErrorIs(t, err, ErrClosed)
	_, err = ix.Stats()
	require.ErrorIs(t, err, ErrClosed)
	_, err = ix.Writer(mb15, 1)
	require.ErrorIs(t, err, ErrClosed)
}

func TestVersionAndDefaultSchema(t *testing.T) {
	require.True(t, strings.HasPrefix(Version(), "tguard-bridge "), Version())
	require.Contains(t, Version(), "0.27.0")
	require.Contains(t, DefaultSchemaJSON(), `"name":"id"`)
}
