package bridge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// secondWriter opens another writer on ix as a second host would: Tantivy's
// writer lock is an flock, which does not reach across hosts on a share,
// so here it is removed first.
func secondWriter(t *testing.T, ix *Index, dir string) *Writer {
	t.Helper()
	if runtime.GOOS == "windows" {
		// Tantivy's lock there is LockFileEx, which SMB does carry across
		// hosts, and a removed lock file lives on while its handle is open.
		t.Skip("Windows: a second writer cannot be simulated by removing Tantivy's lock file")
	}
	require.NoError(t, os.Remove(filepath.Join(dir, ".tantivy-writer.lock")))
	return newWriterT(t, ix)
}

func readMeta(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	require.NoError(t, err)
	return b
}

// A zombie holder (lease broken while it was stopped)
// commits under its old token; its successor opened the meta.json from
// before that commit and must not publish over it.
func TestWriterOpenedOnOldMetaConflicts(t *testing.T) {
	ix, dir := newIndex(t)
	zombie := newWriterT(t, ix)
	successor := secondWriter(t, ix, dir)

	_, err := zombie.AddJSONLines([]byte(`{"id":"z","title":"zombie document"}`))
	require.NoError(t, err)
	_, err = zombie.Commit(`{"v":2,"token":1,"grant":"g1"}`, 1)
	require.NoError(t, err)
	committed := readMeta(t, dir)

	_, err = successor.AddJSONLines([]byte(`{"id":"s","title":"successor document"}`))
	require.NoError(t, err)
	_, err = successor.Commit(`{"v":2,"token":2,"grant":"g2"}`, 2)
	require.ErrorIs(t, err, ErrConflict)
	require.NotErrorIs(t, err, ErrFenced)
	require.Contains(t, err.Error(), "meta.json changed since this writer opened it")
	require.Equal(t, committed, readMeta(t, dir), "meta.json must be the zombie's")

	// A writer reopened after the conflict builds on the zombie's commit.
	require.NoError(t, successor.Close())
	require.NoError(t, zombie.Close())
	w := newWriterT(t, ix)
	_, err = w.AddJSONLines([]byte(`{"id":"s","title":"successor document"}`))
	require.NoError(t, err)
	_, err = w.Commit(`{"v":2,"token":2,"grant":"g2"}`, 2)
	require.NoError(t, err)
	r, err := ix.Search("document", 10)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"z", "s"}, hitIDs(r))
}

// Two grants that carry one token are told apart by the
// grant nonce in the payload.
func TestSameTokenOtherGrantIsFenced(t *testing.T) {
	ix, _ := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.Commit(`{"v":2,"token":7,"grant":"aaaa"}`, 7)
	require.NoError(t, err)
	_, err = w.Commit(`{"v":2,"token":7,"grant":"aaaa"}`, 7)
	require.NoError(t, err, "one grant commits as often as it likes")
	require.NoError(t, w.Close())

	w2 := newWriterT(t, ix)
	_, err = w2.AddJSONLines([]byte(`{"id":"x","title":"second grant"}`))
	require.NoError(t, err)
	_, err = w2.Commit(`{"v":2,"token":7,"grant":"bbbb"}`, 7)
	require.ErrorIs(t, err, ErrFenced)
	require.Contains(t, err.Error(), "two grants with one fence token")
	st, err := ix.Stats()
	require.NoError(t, err)
	require.Equal(t, `{"v":2,"token":7,"grant":"aaaa"}`, *st.Payload)
}

// A newer holder (on another host, say) committed while this writer was
// open: the token is read back from meta.json at commit time, and the
// newer token fences (before the compare-and-set could call it a conflict).
func TestNewerTokenOnDiskIsFenced(t *testing.T) {
	ix, dir := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.AddJSONLines([]byte(`{"id":"a"}`))
	require.NoError(t, err)
	_, err = w.Commit(`{"token":1}`, 1)
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.Unmarshal(readMeta(t, dir), &meta))
	meta["payload"] = `{"token":5,"holder":"other"}`
	b, err := json.Marshal(meta)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o644))

	_, err = w.AddJSONLines([]byte(`{"id":"b"}`))
	require.NoError(t, err)
	_, err = w.Commit(`{"token":1}`, 1)
	require.ErrorIs(t, err, ErrFenced)
	require.NotErrorIs(t, err, ErrConflict)
	require.NoError(t, w.Close())
	st, err := ix.Stats()
	require.NoError(t, err)
	require.Equal(t, `{"token":5,"holder":"other"}`, *st.Payload)
	require.Equal(t, uint64(1), st.Docs)
}

// meta.json deleted by smbnetfs's delete-then-rename and
// the rename failed: the temporary copy is all there is. Opening must say
// how to restore it, never create a new index over it.
func TestMissingMetaWithTempCopyNamesTheMv(t *testing.T) {
	ix, dir := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.AddJSONLines([]byte(`{"id":"a","title":"acknowledged"}`))
	require.NoError(t, err)
	_, err = w.Commit(`{"v":2,"token":4,"grant":"g"}`, 4)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, ix.Close())
	tmp := filepath.Join(dir, ".meta.json.tguard-5f0c2a9e.tmp")
	require.NoError(t, os.Rename(filepath.Join(dir, "meta.json"), tmp))

	for name, open := range map[string]func() (*Index, error){
		"Open":         func() (*Index, error) { return Open(dir) },
		"OpenOrCreate": func() (*Index, error) { return OpenOrCreate(dir, "") },
		"Guarded":      func() (*Index, error) { return OpenOrCreateGuarded(dir, "", ClockNow()+60e9, 5) },
	} {
		_, err := open()
		require.ErrorIs(t, err, ErrCorruptIndex, name)
		msg := err.Error()
		require.NotContains(t, msg, "\n")
		require.Contains(t, msg, "meta.json is missing but "+tmp+" holds a complete commit", name)
		require.Contains(t, msg, "fence token 4", name)
		restore := "mv '" + tmp + "' '" + filepath.Join(dir, "meta.json") + "'"
		if runtime.GOOS == "windows" {
			restore = `move /Y "` + tmp + `" "` + filepath.Join(dir, "meta.json") + `"`
		}
		require.True(t, strings.HasSuffix(msg, restore), msg)
	}
	_, err = os.Stat(filepath.Join(dir, "meta.json"))
	require.True(t, os.IsNotExist(err), "no index may be created over the copy")

	// The command it prints restores the index.
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "meta.json")))
	ix2, err := Open(dir)
	require.NoError(t, err)
	defer ix2.Close()
	st, err := ix2.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(1), st.Docs)
}

// The counter the lease watchdog reads.
func TestProgressGrowsWithWork(t *testing.T) {
	ix, _ := newIndex(t)
	w := newWriterT(t, ix)
	p0 := w.Progress()
	var sb strings.Builder
	for i := range 200 {
		sb.WriteString(`{"id":"p` + string(rune('a'+i%26)) + strings.Repeat("x", i) + `","title":"progress"}` + "\n")
	}
	_, err := w.AddJSONLines([]byte(sb.String()))
	require.NoError(t, err)
	p1 := w.Progress()
	require.GreaterOrEqual(t, p1, p0+400, "each document admitted and added counts")
	require.NoError(t, w.DeleteID("pa"))
	p2 := w.Progress()
	require.Greater(t, p2, p1)
	_, err = w.Commit("", 0)
	require.NoError(t, err)
	p3 := w.Progress()
	require.Greater(t, p3, p2+3, "segment files and commit steps count")
	require.Equal(t, p3, w.Progress(), "an idle writer makes no progress")
	require.NoError(t, w.Close())
	require.Equal(t, p3, w.Progress(), "the last value after Close")
}
