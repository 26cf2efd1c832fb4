package indexer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/indexer/internal/fileref"
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

	racy := fileref.Of(fi, time.Now())
	require.True(t, racy.Racy())
	settled := fileref.Of(fi, fi.ModTime().Add(time.Hour))
	require.False(t, settled.Racy())

	for _, c := range []struct {
		name string
		ref  fileref.Ref
		hash []byte
		want bool
	}{
		{"settled, same stat", settled, nil, true},
		{"racy, same content", racy, fileref.Hash([]byte("same size A\n")), true},
		{"racy, other content of the same size", racy, fileref.Hash([]byte("same size B\n")), false},
		{"racy, no hash recorded", racy, nil, false},
	} {
		ref := c.ref
		ref.Hash = c.hash
		s := &fileState{known: map[string]fileref.Ref{path: ref}}
		assert.Equal(t, c.want, s.Unchanged(path, f, fi), c.name)
	}
	// Another size, or a file never journaled, is changed.
	other := settled
	other.Size++
	assert.False(t, (&fileState{known: map[string]fileref.Ref{path: other}}).Unchanged(path, f, fi))
	assert.False(t, (&fileState{known: map[string]fileref.Ref{}}).Unchanged(path, f, fi))
}
