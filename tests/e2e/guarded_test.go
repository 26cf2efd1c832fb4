package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/testbin"
)

// corpus writes n files under dir, each with a word only it contains
// ("<tag>word<i>"), and returns those words.
func corpus(t *testing.T, dir, tag string, n int) []string {
	t.Helper()
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("%sword%d", tag, i)
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%03d.txt", i)),
			fmt.Sprintf("common text shared by all files\n%s\n", words[i]))
	}
	return words
}

type stats struct {
	Docs  int    `json:"docs"`
	Token uint64 `json:"token"`
}

func readStats(t *testing.T, ix string) stats {
	t.Helper()
	r := tguard(t, nil, "stats", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, "the index must open: %s", r.Stderr)
	var s stats
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &s))
	return s
}

func hits(t *testing.T, ix, query string) int {
	t.Helper()
	r := tguard(t, nil, "search", "--index", ix, "--json", "--limit", "5", query)
	require.Equal(t, 0, r.Code, r.Stderr)
	var res struct{ Total int }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res))
	return res.Total
}

// everyWordOnce checks that each word is found in exactly one document.
func everyWordOnce(t *testing.T, ix string, words []string) {
	t.Helper()
	for _, w := range words {
		require.Equal(t, 1, hits(t, ix, w), "documents with %q", w)
	}
}

// Three processes index overlapping folders into one index at the same time.
func TestConcurrentIndexersOverlap(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	var words []string
	for _, tag := range []string{"alpha", "beta", "gamma"} {
		words = append(words, corpus(t, filepath.Join(root, tag), tag, 40)...)
	}
	pairs := [][2]string{{"alpha", "beta"}, {"beta", "gamma"}, {"gamma", "alpha"}}
	var wg sync.WaitGroup
	results := make([]testbin.Result, len(pairs))
	for i, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = tguard(t, nil, "index", "--index", ix, "--owner", "p"+strconv.Itoa(i), "--json",
				filepath.Join(root, p[0]), filepath.Join(root, p[1]))
		}()
	}
	wg.Wait()
	tokens := map[uint64]bool{}
	for i, r := range results {
		require.Equal(t, 0, r.Code, "indexer %d: %s", i, r.Stderr)
		var sum struct {
			Indexed int
			Token   uint64
		}
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum))
		assert.Equal(t, 80, sum.Indexed)
		assert.False(t, tokens[sum.Token], "token %d granted twice", sum.Token)
		tokens[sum.Token] = true
	}
	s := readStats(t, ix)
	assert.Equal(t, len(words), s.Docs, "one document per distinct file")
	assert.Equal(t, uint64(3), s.Token)
	everyWordOnce(t, ix, words)
}

// A document acknowledged (journaled) by a process killed before its commit
// is in the index after the next flush.
func TestJournaledBeforeCrashIsFlushed(t *testing.T) {
	root := t.TempDir()
	ix, journal := filepath.Join(root, "index"), filepath.Join(root, "j.db")
	words := corpus(t, filepath.Join(root, "docs"), "acked", 5)
	r := tguard(t, []string{"TGUARD_FAILPOINT=before-commit:crash"}, "index", "--index", ix, "--journal", journal, filepath.Join(root, "docs"))
	require.NotEqual(t, 0, r.Code)
	assert.Equal(t, 0, hits(t, ix, words[0]))
	r = tguard(t, nil, "flush", "--index", ix, "--journal", journal, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	everyWordOnce(t, ix, words)
}

// A zombie writer on this host (stopped past its lease while holding
// Tantivy's writer lock): the successor gets the lease but Tantivy's own
// kernel lock keeps it out, so it fails cleanly with its documents
// journaled; the zombie, resumed, commits nothing (its lease is over); then
// the successor's flush applies everything. The cross-host case, where
// Tantivy's lock does not reach and the fence must act, runs on the real
// share in tests/shareindex.
func TestZombieWriterSameHost(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	zwords := corpus(t, filepath.Join(root, "z"), "zombie", 5)
	swords := corpus(t, filepath.Join(root, "s"), "successor", 5)
	zj, sj := filepath.Join(root, "zombie.db"), filepath.Join(root, "successor.db")
	z := stoppedAt(t, "before-commit", ix, "zombie", zj, "1s", filepath.Join(root, "z"))

	r := tguard(t, nil, "index", "--index", ix, "--owner", "successor", "--journal", sj, "--lease", "1s", filepath.Join(root, "s"))
	assert.Equal(t, 1, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "writer lock busy")
	assert.Contains(t, r.Stderr, "5 documents stay journaled")

	code, stderr := finish(t, z)
	assert.Equal(t, 76, code, stderr)
	assert.Contains(t, stderr, "lease", stderr)
	s := readStats(t, ix)
	assert.Equal(t, 0, s.Docs, "the zombie committed nothing")

	r = tguard(t, nil, "flush", "--index", ix, "--owner", "successor", "--journal", sj)
	require.Equal(t, 0, r.Code, r.Stderr)
	r = tguard(t, nil, "flush", "--index", ix, "--owner", "zombie", "--journal", zj)
	require.Equal(t, 0, r.Code, r.Stderr)
	everyWordOnce(t, ix, append(zwords, swords...))
}

func TestPrune(t *testing.T) {
	root := t.TempDir()
	ix, docs := filepath.Join(root, "index"), filepath.Join(root, "docs")
	words := corpus(t, docs, "prune", 4)
	writeFile(t, filepath.Join(root, "docs-other", "f.txt"), "outsider\n")
	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, docs, filepath.Join(root, "docs-other")).Code)
	require.NoError(t, os.Remove(filepath.Join(docs, "f000.txt")))

	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, docs).Code)
	assert.Equal(t, 1, hits(t, ix, words[0]), "without --prune a deleted file stays")

	r := tguard(t, nil, "index", "--index", ix, "--prune", "--json", docs)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, `"deleted":1`)
	assert.Equal(t, 0, hits(t, ix, words[0]))
	assert.Equal(t, 1, hits(t, ix, words[1]))
	assert.Equal(t, 1, hits(t, ix, "outsider"), "a folder next to the pruned one is left alone")
	assert.Equal(t, 4, readStats(t, ix).Docs)
}

// Not acquired within --wait: exit 75, the documents stay journaled.
func TestIndexWaitTimesOut(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	words := corpus(t, filepath.Join(root, "docs"), "waiting", 3)
	holder(t, ix, "--owner", "other")
	j := filepath.Join(root, "j.db")
	r := tguard(t, nil, "index", "--index", ix, "--journal", j, "--wait", "300ms", filepath.Join(root, "docs"))
	assert.Equal(t, 75, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "other")
	assert.Contains(t, r.Stderr, "3 documents stay journaled")
	_ = words
}
