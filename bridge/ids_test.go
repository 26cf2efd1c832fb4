package bridge

import (
	"fmt"
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
	ix, _ := newIndex(t)
	ids, err := ix.IDsWithPrefix("")
	require.NoError(t, err)
	require.NotNil(t, ids)
	require.Empty(t, ids)

	w := newWriterT(t, ix)
	// Segment 1.
	addIDs(t, w, "/a/b/x", "/a/bc", "/a/b/y", "/a/b/z", "/a/b", "/c/d", "/a/b/日本")
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	// Segment 2: delete one id of segment 1, update another, add one.
	require.NoError(t, w.DeleteID("/a/b/y"))
	addIDs(t, w, "/a/b/z", "/a/b/new")
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
		{"", []string{"/a/b", "/a/b/new", "/a/b/x", "/a/b/z", "/a/b/日本", "/a/bc", "/c/d"}},
		// A plain string prefix: matches the folder itself and "/a/bc" too.
		{"/a/b", []string{"/a/b", "/a/b/new", "/a/b/x", "/a/b/z", "/a/b/日本", "/a/bc"}},
		// The caller adds the separator to mean "inside the folder".
		{"/a/b/", []string{"/a/b/new", "/a/b/x", "/a/b/z", "/a/b/日本"}},
		{"/a/b/日", []string{"/a/b/日本"}},
		{"/c", []string{"/c/d"}},
		{"/a/b/y", []string{}},
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
	require.Equal(t, []string{"/a/b/new", "/a/b/pending", "/a/b/z", "/a/b/日本"}, got)

	_, err = ix.IDsWithPrefix("/a/\xff")
	require.ErrorIs(t, err, ErrInvalidArgument)

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
				if err == nil && (len(got) < 190 || len(got) > 200 || got[0] != names[200-len(got)]) {
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
