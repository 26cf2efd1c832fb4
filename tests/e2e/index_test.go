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

func TestIndexSearchStats(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "a.txt"), "the quick brown fox jumps\n")
	writeFile(t, filepath.Join(docs, "sub", "b.md"), "zebras graze on the savanna\n")
	writeFile(t, filepath.Join(docs, "bin.dat"), "\x00\x01\x02binary")
	writeFile(t, filepath.Join(docs, "latin1.txt"), "caf\xe9\n")
	writeFile(t, filepath.Join(docs, "more.jsonl"),
		`{"id":"doc-1","title":"Walrus","body":"a walrus on ice"}`+"\n"+
			`{"id":"doc-2","title":"broken"`+"\n"+
			`{"id":"doc-3","title":"Narwhal","body":"tusked whale"}`+"\n"+
			"{\"id\":\"doc-4\",\"body\":\"bad \xff utf8\"}\n")

	r := tguard(t, nil, "index", "--index", ix, "--json", docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct {
		Files, Indexed, Skipped, Bad int
		Skips                        []struct{ Path, Reason string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum), r.Stdout)
	assert.Equal(t, 5, sum.Files)
	assert.Equal(t, 4, sum.Indexed, "a.txt, b.md, doc-1, doc-3")
	assert.Equal(t, 2, sum.Bad)
	reasons := map[string]string{}
	for _, s := range sum.Skips {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	assert.Equal(t, "binary", reasons["bin.dat"])
	assert.Equal(t, "not UTF-8", reasons["latin1.txt"])
	assert.Contains(t, reasons, "more.jsonl:2", "malformed line named with its line number")
	assert.Contains(t, reasons, "more.jsonl:4", "invalid UTF-8 line named with its line number")

	r = tguard(t, nil, "search", "--index", ix, "--json", "zebras")
	require.Equal(t, 0, r.Code, r.Stderr)
	var res struct {
		Total int
		Hits  []struct{ ID, Path, Title string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res))
	require.Equal(t, 1, res.Total)
	require.NotEmpty(t, res.Hits, "a total of 1 and no hit listed: %s", r.Stdout)
	assert.True(t, strings.HasSuffix(res.Hits[0].Path, "b.md"))

	r = tguard(t, nil, "search", "--index", ix, "--json", "walrus")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res))
	require.Equal(t, 1, res.Total)
	require.NotEmpty(t, res.Hits, "a total of 1 and no hit listed: %s", r.Stdout)
	assert.Equal(t, "doc-1", res.Hits[0].ID)

	r = tguard(t, nil, "stats", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var st struct {
		Docs     int
		Segments int
		Payload  *string
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &st))
	assert.Equal(t, 4, st.Docs)
	assert.NotNil(t, st.Payload)

	// Re-indexing replaces documents by id instead of adding copies.
	writeFile(t, filepath.Join(docs, "a.txt"), "the slow red fox\n")
	r = tguard(t, nil, "index", "--index", ix, docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	r = tguard(t, nil, "stats", "--index", ix, "--json")
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &st))
	assert.Equal(t, 4, st.Docs)
	r = tguard(t, nil, "search", "--index", ix, "--json", "quick")
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res))
	assert.Equal(t, 0, res.Total, "the old version of a.txt is gone")
}

// Each bad input gets exit 1 or 2 and one line naming the cause.
func TestBadInput(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	writeFile(t, filepath.Join(root, "docs", "a.txt"), "hello world\n")
	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, filepath.Join(root, "docs")).Code)
	notIndex := filepath.Join(root, "plain")
	require.NoError(t, os.MkdirAll(notIndex, 0o755))

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing index folder", []string{"search", "--index", filepath.Join(root, "nope"), "x"}, 1, "not found"},
		{"not an index", []string{"stats", "--index", notIndex}, 1, "not an index"},
		{"schema mismatch", []string{"index", "--index", ix, "--schema",
			`{"fields":[{"name":"id","type":"string","stored":true,"indexed":true},{"name":"n","type":"u64","fast":true}]}`,
			filepath.Join(root, "docs")}, 1, "schema mismatch"},
		{"empty query", []string{"search", "--index", ix, "  "}, 2, "empty query"},
		{"query syntax", []string{"search", "--index", ix, "title:("}, 1, "syntax"},
		{"missing path", []string{"index", "--index", ix, filepath.Join(root, "absent")}, 1, "no such file"},
		{"no --index", []string{"stats"}, 2, "--index"},
		{"unknown flag", []string{"stats", "--index", ix, "--frobnicate"}, 2, "unknown flag"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"bad skew", []string{"lock", "status", "--index", ix}, 2, "TGUARD_CLOCK_SKEW"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var env []string
			if c.name == "bad skew" {
				env = []string{"TGUARD_CLOCK_SKEW=soon"}
			}
			r := tguard(t, env, c.args...)
			assert.Equal(t, c.code, r.Code, r.Stderr)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			assert.Len(t, lines, 1, "one line: %q", r.Stderr)
			assert.Contains(t, strings.ToLower(r.Stderr), strings.ToLower(c.want))
			assert.NotContains(t, r.Stderr, "goroutine", "no panic trace")
		})
	}
}
