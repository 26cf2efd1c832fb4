package indexer

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file whose size, times and inode match its record is unchanged,
// unless it was racy when recorded (modified within RacyWindow of it):
// then only its content hash decides.
func TestUnchangedComparesRacyFilesByHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.txt")
	require.NoError(t, os.WriteFile(path, []byte("same size A\n"), 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)

	racy := refOf(fi, time.Now())
	require.True(t, racy.racy())
	settled := refOf(fi, fi.ModTime().Add(time.Hour))
	require.False(t, settled.racy())

	for _, c := range []struct {
		name string
		ref  FileRef
		hash []byte
		want bool
	}{
		{"settled, same stat", settled, nil, true},
		{"racy, same content", racy, hashOf([]byte("same size A\n")), true},
		{"racy, other content of the same size", racy, hashOf([]byte("same size B\n")), false},
		{"racy, no hash recorded", racy, nil, false},
	} {
		ref := c.ref
		ref.Hash = c.hash
		s := &FileState{known: map[string]FileRef{path: ref}}
		assert.Equal(t, c.want, s.Unchanged(path, f, fi), c.name)
	}
	// Another size, or a file never journaled, is changed.
	other := settled
	other.Size++
	assert.False(t, (&FileState{known: map[string]FileRef{path: other}}).Unchanged(path, f, fi))
	assert.False(t, (&FileState{known: map[string]FileRef{}}).Unchanged(path, f, fi))
}

// A version 1 journal (no reference columns) opens as version 2 with its
// entries, and takes references from then on.
func TestJournalVersion1Upgraded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	for _, q := range []string{
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
		"CREATE TABLE entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, op INTEGER NOT NULL, doc_id TEXT NOT NULL, doc BLOB, origin TEXT NOT NULL)",
		"INSERT INTO meta VALUES('id', 'v1journal')",
		`INSERT INTO entries(op, doc_id, doc, origin) VALUES(1, 'a', '{"id":"a"}', 'x')`,
		"PRAGMA user_version = 1",
	} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	j, err := OpenJournal(path)
	require.NoError(t, err)
	defer j.Close()
	assert.Equal(t, "v1journal", j.ID())
	ref := FileRef{Size: 3, MtimeNs: 1, CtimeNs: 2, Ino: 4, SeenNs: 5}
	_, err = j.Append([]Entry{{Op: OpUpsert, ID: "/f", Origin: "f", Ref: &ref}})
	require.NoError(t, err)
	got, err := j.Pending(0, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []byte(`{"id":"a"}`), got[0].Doc)
	assert.Nil(t, got[0].Ref)
	require.NotNil(t, got[1].Ref)
	assert.Equal(t, ref, *got[1].Ref)
	files, err := j.Files()
	require.NoError(t, err)
	assert.Equal(t, ref, files["/f"])
}
