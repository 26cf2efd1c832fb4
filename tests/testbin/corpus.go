package testbin

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Corpus writes n text files under dir for "tguard index", each with a word
// of its own (tag + "word" + i), and returns those words: a search for one
// finds exactly its file.
func Corpus(t testing.TB, dir, tag string, n int) []string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("%sword%d", tag, i)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.txt", i)),
			[]byte("common text\n"+words[i]+"\n"), 0o644))
	}
	return words
}
