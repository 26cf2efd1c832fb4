package bridge

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func addIDs(t *testing.T, w *Writer, ids ...string) {
	t.Helper()
	lines := make([]string, 0, len(ids))
	for _, id := range ids {
		lines = append(lines, fmt.Sprintf(`{"id":%q,"title":"t"}`, id))
	}
	res, err := w.AddJSONLines([]byte(strings.Join(lines, "\n")))
	require.NoError(t, err)
	require.Equal(t, len(ids), res.Added, res.Errors)
}

func TestIDsWithPrefix(t *testing.T) {
	ix, dir := newIndex(t)
	ids, err := ix.IDsWithPrefix("")
	require.NoError(t, err)
	require.NotNil(t, ids)
	require.Empty(t, ids)

	w := newWriterT(t, ix)
	// Segment 1. "/a/b/dup" is upserted twice in one batch: its term has
	// two postings in this segment, the first one deleted.
	addIDs(t, w, "/a/b/x", "/a/bc", "/a/b/y", "/a/b/z", "/a/b", "/c/d", "/a/b/日本",
		"/a/b/dup", "/a/b/dup", "/a/b/gone")
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	// Segment 2: delete one id of segment 1, update another, add one; and
	// one deleted in segment 1 and again after being re-added in segment 2.
	require.NoError(t, w.DeleteID("/a/b/y"))
	addIDs(t, w, "/a/b/z", "/a/b/new", "/a/b/gone")
	require.NoError(t, w.DeleteID("/a/b/gone"))
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	// Uncommitted changes are not seen.
	addIDs(t, w, "/a/b/pending")
	require.NoError(t, w.DeleteID("/a/b/x"))

	st, err := ix.Stats()
	require.NoError(t, err)
	require.Equal(t, 2, st.Segments)

	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"/a/b", "/a/b/dup", "/a/b/new", "/a/b/x", "/a/b/z", "/a/b/日本", "/a/bc", "/c/d"}},
		// A plain string prefix: matches the folder itself and "/a/bc" too.
		{"/a/b", []string{"/a/b", "/a/b/dup", "/a/b/new", "/a/b/x", "/a/b/z", "/a/b/日本", "/a/bc"}},
		// The caller adds the separator to mean "inside the folder".
		{"/a/b/", []string{"/a/b/dup", "/a/b/new", "/a/b/x", "/a/b/z", "/a/b/日本"}},
		{"/a/b/日", []string{"/a/b/日本"}},
		{"/a/b/z", []string{"/a/b/z"}},
		{"/c", []string{"/c/d"}},
		{"/a/b/y", []string{}},
		{"/a/b/gone", []string{}},
		{"/a/b/zz", []string{}},
		{"/b", []string{}},
		{"0", []string{}},
		{"/zzz", []string{}},
	} {
		got, err := ix.IDsWithPrefix(tc.prefix)
		require.NoError(t, err, tc.prefix)
		require.Equal(t, tc.want, got, "prefix %q", tc.prefix)
	}

	_, err = w.Commit("", 0)
	require.NoError(t, err)
	got, err := ix.IDsWithPrefix("/a/b/")
	require.NoError(t, err)
	require.Equal(t, []string{"/a/b/dup", "/a/b/new", "/a/b/pending", "/a/b/z", "/a/b/日本"}, got)

	// Everything under a prefix deleted: an empty list, not an error.
	require.NoError(t, w.DeleteID("/c/d"))
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	got, err = ix.IDsWithPrefix("/c")
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)

	// Another handle (as another process would) sees the same committed state.
	all, err := ix.IDsWithPrefix("")
	require.NoError(t, err)
	other, err := Open(dir)
	require.NoError(t, err)
	defer other.Close()
	got, err = other.IDsWithPrefix("")
	require.NoError(t, err)
	require.Equal(t, all, got)

	_, err = ix.IDsWithPrefix("/a/\xff")
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.Contains(t, err.Error(), "prefix")

	require.NoError(t, ix.Close())
	_, err = ix.IDsWithPrefix("")
	require.ErrorIs(t, err, ErrClosed)
}

func TestIDsWithPrefixConcurrent(t *testing.T) {
	ix, _ := newIndex(t)
	w := newWriterT(t, ix)
	names := make([]string, 200)
	for i := range names {
		names[i] = fmt.Sprintf("/r/%04d", i)
	}
	addIDs(t, w, names...)
	_, err := w.Commit("", 0)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				got, err := ix.IDsWithPrefix("/r/")
				// Some committed snapshot: a suffix of the sorted names.
				if err == nil && (len(got) < 190 || len(got) > 200 || !slices.Equal(got, names[200-len(got):])) {
					err = fmt.Errorf("unexpected snapshot of %d ids: %q", len(got), got)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, n := range names[:10] {
		require.NoError(t, w.DeleteID(n))
		_, err := w.Commit("", 0)
		require.NoError(t, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := ix.IDsWithPrefix("/r/")
	require.NoError(t, err)
	require.Equal(t, names[10:], got)
}

// Ids come back in byte order (upper case before lower, multi-byte after
// ASCII), and quotes and backslashes survive the JSON in between.
func TestIDsAreByteSortedAndEscaped(t *testing.T) {
	ix, _ := newIndex(t)
	w := newWriterT(t, ix)
	addIDs(t, w, "/p/été", "/p/Z", `/p/a "q"\b`, "/p/日", "/p")
	_, err := w.Commit("", 0)
	require.NoError(t, err)
	got, err := ix.IDsWithPrefix("/p/")
	require.NoError(t, err)
	require.Equal(t, []string{"/p/Z", `/p/a "q"\b`, "/p/été", "/p/日"}, got)
	got, err = ix.IDsWithPrefix("/p/é") // a multi-byte prefix
	require.NoError(t, err)
	require.Equal(t, []string{"/p/été"}, got)
}
