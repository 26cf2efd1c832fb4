package journal

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/indexer/internal/fileref"
)

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

	j, err := Open(path)
	require.NoError(t, err)
	defer j.Close()
	assert.Equal(t, "v1journal", j.ID())
	ref := fileref.Ref{Size: 3, MtimeNs: 1, CtimeNs: 2, Ino: 4, SeenNs: 5}
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
