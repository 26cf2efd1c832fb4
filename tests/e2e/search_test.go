package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Search results worth reading: text output with title, path and a
// snippet; JSON hits with every stored field, the snippet's matched ranges
// and the score; --fields; a folder found by path:; a warning for a
// trailing * that Tantivy ignores.
func TestSearchResults(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "sync", "mutex.go"), "package sync\n\n// A Mutex is a mutual exclusion lock.\ntype Mutex struct{}\n")
	writeFile(t, filepath.Join(docs, "net", "conn.go"), "package net\n\n// Conn holds a mutex too.\n")
	writeFile(t, filepath.Join(docs, "films.jsonl"), `{"id":"film-1","title":"The Mutex Affair","body":"a thriller about one lock"}`+"\n")
	r := tguard(t, nil, "index", "--index", ix, docs)
	require.Equal(t, 0, r.Code, r.Stderr)

	r = tguard(t, nil, "search", "--index", ix, "mutex")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "3 hits")
	assert.Contains(t, r.Stdout, filepath.Join("sync", "mutex.go"), "the path")
	assert.Contains(t, r.Stdout, "The Mutex Affair  film-1", "title and id")
	assert.Contains(t, r.Stdout, "A Mutex is a mutual exclusion lock.", "a one-line snippet")
	assert.NotContains(t, r.Stdout, "\x1b[", "plain when not on a terminal")

	r = tguard(t, nil, "search", "--index", ix, "--json", "exclusion")
	require.Equal(t, 0, r.Code, r.Stderr)
	var res struct {
		Total int
		Hits  []map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res), r.Stdout)
	require.Equal(t, 1, res.Total)
	require.NotEmpty(t, res.Hits, "a total of 1 and no hit listed: %s", r.Stdout)
	h := res.Hits[0]
	for _, k := range []string{"id", "path", "title", "body", "modified", "snippet", "score"} {
		assert.Contains(t, h, k, "every stored field, the snippet and the score")
	}
	var sn struct {
		Field       string
		Text        string
		Highlighted [][2]int
	}
	require.NoError(t, json.Unmarshal(h["snippet"], &sn))
	assert.Equal(t, "body", sn.Field)
	require.Len(t, sn.Highlighted, 1)
	assert.Equal(t, "exclusion", sn.Text[sn.Highlighted[0][0]:sn.Highlighted[0][1]])
	assert.NotContains(t, sn.Text, "\n", "one line")

	r = tguard(t, nil, "search", "--index", ix, "--json", "--fields", "title,modified", "exclusion")
	require.Equal(t, 0, r.Code, r.Stderr)
	res.Hits = nil
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res), r.Stdout)
	require.NotEmpty(t, res.Hits, "no hit: %s", r.Stdout)
	assert.Contains(t, res.Hits[0], "modified")
	assert.NotContains(t, res.Hits[0], "body")
	assert.NotContains(t, res.Hits[0], "path")
	r = tguard(t, nil, "search", "--index", ix, "--fields", "nope", "exclusion")
	assert.Equal(t, 2, r.Code, r.Stderr)

	// A folder: path: matches a folder or file name word.
	r = tguard(t, nil, "search", "--index", ix, "--json", "+mutex +path:sync")
	require.Equal(t, 0, r.Code, r.Stderr)
	res.Hits = nil
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res), r.Stdout)
	require.Equal(t, 1, res.Total, r.Stdout)
	require.NotEmpty(t, res.Hits, "a total of 1 and no hit listed: %s", r.Stdout)
	assert.Contains(t, string(res.Hits[0]["path"]), "sync")

	r = tguard(t, nil, "search", "--index", ix, "mutex*")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 1, strings.Count(r.Stderr, "\n"), r.Stderr)
	assert.Contains(t, r.Stderr, "warning: mutex* is searched as mutex")
}
