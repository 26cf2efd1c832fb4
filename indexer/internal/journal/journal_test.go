package journal

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/indexer/internal/payload"
)

func TestJournalAppendPendingApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path)
	require.NoError(t, err)
	last, err := j.Append([]Entry{{Op: OpUpsert, ID: "a", Doc: []byte(`{"id":"a"}`), Origin: "x"}, {Op: OpDelete, ID: "b", Origin: "y"}})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), last)
	got, err := j.Pending(0, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, OpDelete, got[1].Op)
	require.NoError(t, j.Applied(1))
	got, err = j.Pending(0, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	id := j.ID()
	require.NoError(t, j.Applied(2))
	require.NoError(t, j.Close())

	// Sequence numbers are never reused, and the id survives reopening.
	j, err = Open(path)
	require.NoError(t, err)
	defer j.Close()
	assert.Equal(t, id, j.ID())
	last, err = j.Append([]Entry{{Op: OpUpsert, ID: "c", Doc: []byte(`{"id":"c"}`)}})
	require.NoError(t, err)
	assert.Equal(t, uint64(3), last)
}

// A corrupt journal or one from a newer version is refused with a clear
// error and left byte for byte as it was.
func TestJournalRefusedAndUntouched(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	require.NoError(t, os.WriteFile(garbage, bytes.Repeat([]byte("not sqlite "), 500), 0o644))

	future := filepath.Join(dir, "future.db")
	db, err := sql.Open("sqlite3", future)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE entries(x); PRAGMA user_version = 99")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	truncated := filepath.Join(dir, "truncated.db")
	j, err := Open(truncated)
	require.NoError(t, err)
	_, err = j.Append([]Entry{{Op: OpUpsert, ID: "a", Doc: bytes.Repeat([]byte("x"), 100000)}})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	b, err := os.ReadFile(truncated)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, b[:len(b)/3], 0o644))

	for path, want := range map[string]error{garbage: ErrCorrupt, future: ErrVersion, truncated: ErrCorrupt} {
		before, err := os.ReadFile(path)
		require.NoError(t, err)
		_, err = Open(path)
		require.ErrorIs(t, err, want, path)
		assert.NotContains(t, err.Error(), "\n")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(before, after), "%s was modified", path)
	}
}

// A local disk passes; tests/shareindex checks that the share is refused.
func TestJournalAcceptsLocalDisk(t *testing.T) {
	require.NoError(t, checkLocalDisk(t.TempDir()))
}

// A journal confirms only what a payload shows; its own commit mark counts
// only when the payload evicted it.
func TestJournalConfirmed(t *testing.T) {
	j, err := Open(filepath.Join(t.TempDir(), "j.db"))
	require.NoError(t, err)
	defer j.Close()
	_, err = j.Append([]Entry{{Op: OpUpsert, ID: "a", Doc: []byte(`{"id":"a"}`)}, {Op: OpUpsert, ID: "b", Doc: []byte(`{"id":"b"}`)}})
	require.NoError(t, err)
	require.NoError(t, j.Committed(2, 7))
	n, err := j.PendingCount()
	require.NoError(t, err)
	assert.Equal(t, 0, n, "committed entries are not pending")
	n, err = j.Unconfirmed()
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	done, err := j.Confirmed(payload.Payload{Token: 8})
	require.NoError(t, err)
	assert.Equal(t, uint64(0), done, "a payload without this journal confirms nothing")
	done, err = j.Confirmed(payload.Payload{Token: 9, Evicted: 6})
	require.NoError(t, err)
	assert.Equal(t, uint64(0), done, "evicted below our commit's token: ours was not evicted")
	done, err = j.Confirmed(payload.Payload{Token: 9, Evicted: 7})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), done)
	done, err = j.Confirmed(payload.Payload{Token: 9, Applied: map[string]payload.Mark{j.ID(): {Seq: 1, Token: 7}}})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), done, "the payload's word beats the journal's own")
}
