package indexer

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalAppendPendingApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := OpenJournal(path)
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
	j, err = OpenJournal(path)
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
	j, err := OpenJournal(truncated)
	require.NoError(t, err)
	_, err = j.Append([]Entry{{Op: OpUpsert, ID: "a", Doc: bytes.Repeat([]byte("x"), 100000)}})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	b, err := os.ReadFile(truncated)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, b[:len(b)/3], 0o644))

	for path, want := range map[string]error{garbage: ErrJournalCorrupt, future: ErrJournalVersion, truncated: ErrJournalCorrupt} {
		before, err := os.ReadFile(path)
		require.NoError(t, err)
		_, err = OpenJournal(path)
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
