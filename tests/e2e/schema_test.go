package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A custom schema in Tantivy's own JSON, end to end: checked before
// anything is journaled (exit 2, nothing journaled), kept by the index
// (later runs need no --schema), printed by "tguard schema", and its stored
// fields come back in hits.
func TestCustomSchemaTantivyFormat(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	journal := filepath.Join(root, "j.db")
	schema := `[
 {"name":"id","type":"text","options":{"indexing":{"record":"basic","fieldnorms":false,"tokenizer":"raw"},"stored":true,"fast":false}},
 {"name":"title","type":"text","options":{"indexing":{"record":"position","fieldnorms":true,"tokenizer":"en_stem"},"stored":true,"fast":false}},
 {"name":"year","type":"u64","options":{"indexed":true,"fieldnorms":false,"fast":true,"stored":true}}
]`
	schemaFile := filepath.Join(root, "schema.json")
	writeFile(t, schemaFile, schema)
	docs := filepath.Join(root, "films.jsonl")
	writeFile(t, docs, `{"id":"f1","title":"Running dogs","year":1999}`+"\n")

	// Invalid: exit 2 with the reason, and nothing journaled.
	bad := strings.Replace(schema, `"en_stem"`, `"klingon"`, 1)
	r := tguard(t, nil, "index", "--index", ix, "--journal", journal, "--schema", bad, docs)
	assert.Equal(t, 2, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, `unknown tokenizer "klingon"`)
	_, err := os.Stat(ix)
	assert.True(t, os.IsNotExist(err), "no index made")
	_, err = os.Stat(journal)
	assert.True(t, os.IsNotExist(err), "nothing journaled")

	r = tguard(t, nil, "index", "--index", ix, "--schema", schemaFile, docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	// Kept: no --schema needed later.
	writeFile(t, docs, `{"id":"f2","title":"A dog runs","year":2001}`+"\n")
	r = tguard(t, nil, "index", "--index", ix, docs)
	require.Equal(t, 0, r.Code, r.Stderr)

	r = tguard(t, nil, "schema", "--index", ix)
	require.Equal(t, 0, r.Code, r.Stderr)
	var kept []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &kept), r.Stdout)
	require.Len(t, kept, 3)
	assert.Equal(t, "year", kept[2]["name"])
	// What it prints is accepted as --schema: the same schema, no mismatch.
	r = tguard(t, nil, "index", "--index", ix, "--schema", r.Stdout, docs)
	require.Equal(t, 0, r.Code, r.Stderr)

	// Another schema for this index: refused before journaling.
	r = tguard(t, nil, "index", "--index", ix, "--journal", journal, "--schema",
		`[{"name":"id","type":"text","options":{"indexing":{"record":"basic","tokenizer":"raw"},"stored":true}}]`, docs)
	assert.Equal(t, 1, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "schema mismatch")

	// Tantivy's fields are not stored unless they say so: an id that is
	// not stored gets a warning (hits could not say which document).
	r = tguard(t, nil, "index", "--index", filepath.Join(root, "bare"), "--schema",
		`[{"name":"id","type":"text","options":{"indexing":{"record":"basic","tokenizer":"raw"}}}]`, docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, `warning: --schema does not store "id"`)

	r = tguard(t, nil, "search", "--index", ix, "--json", "run")
	require.Equal(t, 0, r.Code, r.Stderr)
	var res struct {
		Total int
		Hits  []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res), r.Stdout)
	assert.Equal(t, 2, res.Total, "en_stem: run, runs, running")
	for _, h := range res.Hits {
		assert.NotEmpty(t, h["year"], "stored fields come back: %v", h)
	}
}
