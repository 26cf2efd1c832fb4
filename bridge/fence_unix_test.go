//go:build unix

package bridge

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/helperproc"
)

// A guarded creator found no meta.json;
// another process published one before the creator's rename. The creator
// must refuse (ErrConflict), not replace it with an empty index.
//
// The creator is held between Tantivy's "no meta.json here" check and its
// publish by making .managed.json a FIFO: Tantivy reads that file in
// between, and opening a FIFO for reading waits for a writer.
func TestCreationRefusedWhenMetaAppeared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	require.NoError(t, os.MkdirAll(dir, 0o777))
	fifo := filepath.Join(dir, ".managed.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o666))

	// What the other process publishes: a real index's meta.json.
	other, otherDir := newIndex(t)
	ow := newWriterT(t, other)
	_, err := ow.Commit(`{"v":2,"token":3,"grant":"other"}`, 3)
	require.NoError(t, err)
	theirs := readMeta(t, otherDir)

	type result struct {
		ix  *Index
		err error
	}
	done := make(chan result, 1)
	go func() {
		ix, err := OpenOrCreateGuarded(dir, "", ClockNow()+int64(time.Minute), 5)
		done <- result{ix, err}
	}()
	// Opening the FIFO for writing returns once the creator opened it for
	// reading, that is, once it is past its check for meta.json.
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meta.json"), theirs, 0o666))
	_, err = f.WriteString("[]\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("creator did not finish")
	}
	if r.ix != nil {
		_ = r.ix.Close()
	}
	require.ErrorIs(t, r.err, ErrConflict)
	require.Contains(t, r.err.Error(), "opened none: a new index")
	got, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	require.NoError(t, err)
	require.Equal(t, theirs, got, "the other process's meta.json must stay")
}

// Another service account (umask 0, or a shared group)
// must be able to search the index: nothing may be created 0600.
func TestIndexFilesFollowTheUmask(t *testing.T) {
	for _, c := range []struct {
		umask      int
		file, fold fs.FileMode
	}{{0, 0o666, 0o777}, {0o022, 0o644, 0o755}} {
		t.Run(fmt.Sprintf("umask%03o", c.umask), func(t *testing.T) {
			old := syscall.Umask(c.umask)
			dir := filepath.Join(t.TempDir(), "idx")
			func() {
				defer syscall.Umask(old)
				ix, err := OpenOrCreate(dir, "")
				require.NoError(t, err)
				defer ix.Close()
				w, err := ix.Writer(mb15, 1)
				require.NoError(t, err)
				defer w.Close()
				_, err = w.AddJSONLines([]byte(`{"id":"a","title":"shared"}`))
				require.NoError(t, err)
				_, err = w.Commit("", 0)
				require.NoError(t, err)
				_, err = ix.Search("shared", 1) // takes the meta lock
				require.NoError(t, err)
			}()
			fi, err := os.Stat(dir)
			require.NoError(t, err)
			require.Equal(t, c.fold, fi.Mode().Perm(), "index folder")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			seen := map[string]bool{}
			for _, e := range entries {
				fi, err := e.Info()
				require.NoError(t, err)
				require.Equal(t, c.file, fi.Mode().Perm(), e.Name())
				seen[e.Name()] = true
			}
			for _, must := range []string{"meta.json", ".managed.json", ".tantivy-meta.lock", ".tantivy-writer.lock"} {
				require.True(t, seen[must], "%s not created: %v", must, seen)
			}
		})
	}
}

func init() { helperRoles["meta-lock"] = roleMetaLock }

// roleMetaLock holds Tantivy's meta lock in the folder DIR, as a stopped
// `tguard search` would, until stdin closes.
func roleMetaLock() error {
	f, err := os.OpenFile(filepath.Join(helperproc.Value("DIR"), ".tantivy-meta.lock"), os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	helperproc.Printf("ready")
	helperproc.AwaitStop()
	return nil
}

// Another process of this host holding Tantivy's meta
// lock (blocking flock) must not hang a commit: Tantivy takes it for the
// garbage collection after publishing, and the bridge waits for it only
// until the lease deadline (or 30 s). The commit stands.
func TestHeldMetaLockDoesNotHangCommit(t *testing.T) {
	ix, dir := newIndex(t)
	w := newWriterT(t, ix)
	_, err := w.AddJSONLines([]byte(`{"id":"a","title":"behind a lock"}`))
	require.NoError(t, err)

	p := startHelper(t, "meta-lock", dir)
	release := func() { _ = p.CloseStdin(); _ = p.Wait(60 * time.Second) }

	const lease = 2 * time.Second
	w.SetDeadline(ClockNow() + int64(lease))
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := w.Commit(`{"v":2,"token":1,"grant":"g"}`, 1); done <- err }()
	select {
	case err = <-done:
	case <-time.After(lease + 15*time.Second):
		release() // let the old code's commit finish before the test ends
		<-done
		t.Fatalf("commit still blocked on the meta lock %v after the lease deadline", time.Since(start)-lease)
	}
	require.NoError(t, err, "the publish happened; only the garbage collection was skipped")
	require.Less(t, time.Since(start), lease+5*time.Second)
	require.Contains(t, string(readMeta(t, dir)), `\"grant\":\"g\"`)

	release()
	r, err := ix.Search("lock", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, hitIDs(r))
}
