package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Quiet by default: a summary line with skipped files counted by reason
// (bad JSON lines apart), the files listed with --verbose, nothing but
// errors with -q.
func TestIndexOutput(t *testing.T) {
	root := t.TempDir()
	// Each run indexes into a fresh index (and so a fresh default journal):
	// a rerun on the same journal does not read the unchanged e.jsonl
	// again (incremental indexing), so its bad line would not show.
	n := 0
	fresh := func() string { n++; return filepath.Join(root, fmt.Sprintf("index%d", n)) }
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "a.txt"), "zeta\n")
	writeFile(t, filepath.Join(docs, "b.bin"), "\x00\x01")
	writeFile(t, filepath.Join(docs, "c.bin"), "\x00\x02")
	writeFile(t, filepath.Join(docs, "d.txt"), "caf\xe9\n")
	writeFile(t, filepath.Join(docs, "e.jsonl"), `{"id":"x1","title":"ok"}`+"\n"+`{"id":`+"\n")

	r := tguard(t, nil, "index", "--index", fresh(), docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Empty(t, r.Stderr, "no line per skipped file by default")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	require.Len(t, lines, 1, "one summary line: %q", r.Stdout)
	assert.Contains(t, lines[0], "skipped 3 (binary 2, not UTF-8 1)")
	assert.Contains(t, lines[0], "bad lines 1")
	assert.Contains(t, lines[0], "--verbose")

	r = tguard(t, nil, "index", "--index", fresh(), "--verbose", docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 4, strings.Count(r.Stderr, "tguard: skipped "), r.Stderr)
	assert.Contains(t, r.Stderr, "b.bin: binary")
	assert.Contains(t, r.Stderr, "e.jsonl:2")

	r = tguard(t, nil, "index", "--index", fresh(), "-q", docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Empty(t, r.Stdout)
	assert.Empty(t, r.Stderr)
	r = tguard(t, nil, "index", "--index", fresh(), "-q", filepath.Join(root, "absent"))
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "absent", "errors still print with -q")

	r = tguard(t, nil, "index", "--index", fresh(), "--json", docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct {
		Skipped   int
		Bad       int
		SkippedBy map[string]int `json:"skipped_by_reason"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum), r.Stdout)
	assert.Equal(t, 3, sum.Skipped, "files only")
	assert.Equal(t, 1, sum.Bad)
	assert.Equal(t, map[string]int{"binary": 2, "not UTF-8": 1}, sum.SkippedBy)
}
