package walk

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalPathResolvesSpellings(t *testing.T) {
	skipWithoutSymlinks(t)
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	corpus := filepath.Join(real, "corpus")
	require.NoError(t, os.MkdirAll(filepath.Join(corpus, "sub"), 0o755))
	require.NoError(t, os.Symlink(corpus, filepath.Join(real, "link")))
	for _, p := range []string{corpus, corpus + "/", filepath.Join(corpus, "sub", ".."), filepath.Join(real, "link"), filepath.Join(real, "link") + "/"} {
		got, err := CanonicalPath(p)
		require.NoError(t, err, p)
		assert.Equal(t, corpus, got, p)
	}
	_, err = CanonicalPath(filepath.Join(real, "absent"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestIDsBelowRoot(t *testing.T) {
	w := &Walker{Root: filepath.FromSlash("/mnt/share")}
	for in, want := range map[string]string{
		"/mnt/share/docs/a.txt": "/docs/a.txt",
		"/mnt/share":            "/",
		"/mnt/share/x y/é.md":   "/x y/é.md",
	} {
		got, err := w.ID(filepath.FromSlash(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, out := range []string{"/mnt/shared/a.txt", "/mnt/a.txt", "/srv/share/a.txt"} {
		_, err := w.ID(filepath.FromSlash(out))
		assert.True(t, errors.Is(err, ErrOutsideRoot), "%s: %v", out, err)
	}
	abs := &Walker{}
	got, err := abs.ID("/a/b.txt")
	require.NoError(t, err)
	assert.Equal(t, "/a/b.txt", got, "without a root the id is the canonical path")
}

func TestFolderPrefixes(t *testing.T) {
	skipWithoutSymlinks(t)
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	corpus := filepath.Join(real, "corpus")
	require.NoError(t, os.MkdirAll(corpus, 0o755))
	link := filepath.Join(real, "link")
	require.NoError(t, os.Symlink(corpus, link))

	p, err := (&Walker{}).FolderPrefixes(link)
	require.NoError(t, err)
	assert.Equal(t, []string{corpus + "/", link + "/"}, p, "the canonical prefix and the link's spelling")
	p, err = (&Walker{}).FolderPrefixes(corpus + "/")
	require.NoError(t, err)
	assert.Equal(t, []string{corpus + "/"}, p)
	p, err = (&Walker{Root: real}).FolderPrefixes(link)
	require.NoError(t, err)
	assert.Equal(t, []string{"/corpus/"}, p)
	p, err = (&Walker{Root: corpus}).FolderPrefixes(corpus)
	require.NoError(t, err)
	assert.Equal(t, []string{"/"}, p, "the root itself: every file id, never a JSON line's id")
}

// skipWithoutSymlinks skips on Windows: creating a symbolic link needs a
// privilege most accounts lack, and under Wine os.Symlink succeeds but the
// link does not resolve. The rule is the same code on every OS; Linux tests it.
func skipWithoutSymlinks(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows: symbolic links need a privilege (and do not resolve under Wine); tested on Linux")
	}
}
