package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type indexStats struct {
	Docs     int    `json:"docs"`
	Segments int    `json:"segments"`
	Opstamp  uint64 `json:"opstamp"`
	Token    uint64 `json:"token"`
}

func fullStats(t *testing.T, ix string) indexStats {
	t.Helper()
	r := tguard(t, nil, "stats", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var s indexStats
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &s))
	return s
}

type runSummary struct {
	Accepted, Indexed, Deleted int
	Token                      uint64
	Skips                      []struct{ Path, Reason string }
}

func indexRun(t *testing.T, args ...string) runSummary {
	t.Helper()
	r := tguard(t, nil, append([]string{"index", "--json"}, args...)...)
	require.Equal(t, 0, r.Code, r.Stderr)
	var s runSummary
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &s), r.Stdout)
	return s
}

// An unchanged folder indexed again commits nothing (the index keeps its
// opstamp and token) and, once the earlier commit is confirmed, takes no
// lease; a changed file is indexed again, a deleted one removed with
// --prune, and a file rewritten with the same size and its old
// modification time is caught too.
func TestReindexUnchangedCommitsNothing(t *testing.T) {
	root := t.TempDir()
	ix, docs, j := filepath.Join(root, "index"), filepath.Join(root, "docs"), filepath.Join(root, "j.db")
	words := corpus(t, docs, "incr", 5)
	// Files older than the racy window, as in a folder indexed every hour.
	old := time.Now().Add(-time.Hour)
	for i := range words {
		p := filepath.Join(docs, fmt.Sprintf("f%03d.txt", i))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	s := indexRun(t, "--index", ix, "--journal", j, docs)
	require.Equal(t, 5, s.Indexed)
	first := fullStats(t, ix)

	s = indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 0, s.Accepted, "nothing changed, nothing journaled")
	assert.Equal(t, 0, s.Indexed)
	assert.Equal(t, first, fullStats(t, ix), "nothing committed: same opstamp, token, segments")
	s = indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, uint64(0), s.Token, "nothing to apply or confirm: no lease taken")
	assert.Equal(t, first, fullStats(t, ix))

	// A changed file.
	writeFile(t, filepath.Join(docs, "f001.txt"), "common text shared by all files\nincrchanged\n")
	s = indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 1, s.Accepted)
	assert.Equal(t, 1, hits(t, ix, "incrchanged"))
	assert.Equal(t, 0, hits(t, ix, words[1]))

	// Same size, same modification time, other content.
	p := filepath.Join(docs, "f002.txt")
	fi, err := os.Stat(p)
	require.NoError(t, err)
	writeFile(t, p, "common text shared by all files\nincrsamez\n")
	require.NoError(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
	fi2, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), fi2.Size())
	require.Equal(t, fi.ModTime(), fi2.ModTime())
	s = indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 1, s.Accepted)
	assert.Equal(t, 1, hits(t, ix, "incrsamez"))

	// A deleted file, with --prune.
	require.NoError(t, os.Remove(filepath.Join(docs, "f003.txt")))
	s = indexRun(t, "--index", ix, "--journal", j, "--prune", docs)
	assert.Equal(t, 1, s.Deleted)
	assert.Equal(t, 0, hits(t, ix, words[3]))
	assert.Equal(t, 4, fullStats(t, ix).Docs)

	// Written again under the same path: indexed again.
	writeFile(t, filepath.Join(docs, "f003.txt"), "incrback\n")
	s = indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 1, s.Accepted)
	assert.Equal(t, 1, hits(t, ix, "incrback"))
	assert.Equal(t, 5, fullStats(t, ix).Docs)

	// A new index under the same journal: every file is indexed again.
	require.NoError(t, os.RemoveAll(ix))
	s = indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 5, s.Accepted)
	assert.Equal(t, 5, fullStats(t, ix).Docs)
	everyWordOnce(t, ix, []string{words[0], "incrchanged", "incrsamez", "incrback"})
}

// A run that ends without committing (lease not acquired) copies the files
// it journaled into the journal: what it reported as journaled is what a
// later flush applies, even after the file changed.
func TestJournaledFileKeptWhenNotCommitted(t *testing.T) {
	root := t.TempDir()
	ix, docs, j := filepath.Join(root, "index"), filepath.Join(root, "docs"), filepath.Join(root, "j.db")
	writeFile(t, filepath.Join(docs, "a.txt"), "keptfirst version\n")
	writeFile(t, filepath.Join(docs, "b.jsonl"), `{"id":"line1","body":"keptline first"}`+"\n")
	h := holder(t, ix, "--owner", "other")
	r := tguard(t, nil, "index", "--index", ix, "--journal", j, "--wait", "300ms", docs)
	require.Equal(t, 75, r.Code, r.Stderr)
	writeFile(t, filepath.Join(docs, "a.txt"), "keptsecond version, longer\n")
	writeFile(t, filepath.Join(docs, "b.jsonl"), `{"id":"line1","body":"keptline second"}`+"\n")
	_ = syscall.Kill(-h.Process.Pid, syscall.SIGKILL)
	<-h.Done()

	r = tguard(t, nil, "flush", "--index", ix, "--journal", j)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 1, hits(t, ix, "keptfirst"), "the journaled content was applied")
	assert.Equal(t, 0, hits(t, ix, "keptsecond"))
	assert.Equal(t, 1, hits(t, ix, "first"), "the journaled line was applied")

	// The next run sees the change and indexes the new content.
	s := indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 2, s.Accepted)
	assert.Equal(t, 0, hits(t, ix, "keptfirst"))
	assert.Equal(t, 1, hits(t, ix, "keptsecond"))
	assert.Equal(t, 1, hits(t, ix, "second"))
}

// Many small runs do not pile up segments: the merge policy after each
// commit bounds them, and tguard merge merges them down under the lease.
func TestSegmentsBoundedAfterSmallRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("many small index runs: not under -short")
	}
	root := t.TempDir()
	ix, docs, j := filepath.Join(root, "index"), filepath.Join(root, "docs"), filepath.Join(root, "j.db")
	words := corpus(t, docs, "seg", 20)
	indexRun(t, "--index", ix, "--journal", j, docs)
	for i := range 30 {
		writeFile(t, filepath.Join(docs, "f000.txt"), "segrun"+string(rune('a'+i%26))+" run\n"+words[0]+"\n")
		s := indexRun(t, "--index", ix, "--journal", j, docs)
		require.Equal(t, 1, s.Accepted)
	}
	st := fullStats(t, ix)
	assert.LessOrEqual(t, st.Segments, 10, "segments after 30 small runs")
	assert.Equal(t, 20, st.Docs)

	r := tguard(t, nil, "merge", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	after := fullStats(t, ix)
	assert.Equal(t, 1, after.Segments)
	assert.Equal(t, 20, after.Docs)
	assert.Greater(t, after.Token, st.Token, "the merge committed under its own lease")
	everyWordOnce(t, ix, words)
	// Indexing goes on after the merge: the journal's mark was kept.
	s := indexRun(t, "--index", ix, "--journal", j, docs)
	assert.Equal(t, 0, s.Accepted)
	assert.Equal(t, after, fullStats(t, ix))
}

// The journal's record of files is keyed by the canonical id: with --root
// an unchanged folder indexed again journals nothing, and so does a rerun
// that spells the folder another way (a trailing slash, a symbolic link)
// or reaches the root through a link; none of them commits.
func TestIncrementalCanonicalIDs(t *testing.T) {
	root := t.TempDir()
	ix, j := filepath.Join(root, "index"), filepath.Join(root, "j.db")
	share := filepath.Join(root, "share")
	docs := filepath.Join(share, "docs")
	corpus(t, docs, "canon", 3)
	old := time.Now().Add(-time.Hour)
	for i := range 3 {
		p := filepath.Join(docs, fmt.Sprintf("f%03d.txt", i))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	link := filepath.Join(root, "link")
	require.NoError(t, os.Symlink(share, link))

	s := indexRun(t, "--index", ix, "--journal", j, "--root", share, docs)
	require.Equal(t, 3, s.Indexed)
	assert.Equal(t, []string{"/docs/f000.txt", "/docs/f001.txt", "/docs/f002.txt"}, searchIDs(t, ix, "common"))
	first := fullStats(t, ix)
	for _, args := range [][]string{
		{"--root", share, docs},
		{"--root", share + "/", docs + "/"},
		{"--root", share, filepath.Join(link, "docs")},
		{"--root", link, filepath.Join(link, "docs") + "/"},
	} {
		s = indexRun(t, append([]string{"--index", ix, "--journal", j}, args...)...)
		assert.Equal(t, 0, s.Accepted, "%v: nothing journaled", args)
		assert.Equal(t, 0, s.Indexed, "%v", args)
		st := fullStats(t, ix)
		assert.Equal(t, first.Opstamp, st.Opstamp, "%v: nothing committed", args)
		assert.Equal(t, 3, st.Docs, "%v", args)
	}
	s = indexRun(t, "--index", ix, "--journal", j, "--root", share, docs)
	assert.Equal(t, uint64(0), s.Token, "nothing to apply or confirm: no lease taken")

	// A changed file is journaled again under its relative id, read from
	// its absolute path when applied.
	writeFile(t, filepath.Join(docs, "f001.txt"), "common text shared by all files\ncanonchanged\n")
	s = indexRun(t, "--index", ix, "--journal", j, "--root", link, filepath.Join(link, "docs"))
	assert.Equal(t, 1, s.Accepted)
	assert.Equal(t, 1, s.Indexed)
	assert.Equal(t, []string{"/docs/f001.txt"}, searchIDs(t, ix, "canonchanged"))
	assert.Equal(t, 3, fullStats(t, ix).Docs)

	// --prune under --root forgets a deleted file: written again, it is
	// indexed again.
	require.NoError(t, os.Remove(filepath.Join(docs, "f002.txt")))
	s = indexRun(t, "--index", ix, "--journal", j, "--root", share, "--prune", docs)
	assert.Equal(t, 1, s.Deleted)
	assert.Equal(t, 2, fullStats(t, ix).Docs)
	writeFile(t, filepath.Join(docs, "f002.txt"), "canonback\n")
	s = indexRun(t, "--index", ix, "--journal", j, "--root", share, docs)
	assert.Equal(t, 1, s.Accepted)
	assert.Equal(t, []string{"/docs/f002.txt"}, searchIDs(t, ix, "canonback"))
}

// A file that changes or goes away between its journaling and the commit
// is counted apart in the summary's skips by reason, and warned about.
func TestChangedAndGoneCounted(t *testing.T) {
	root := t.TempDir()
	ix, docs := filepath.Join(root, "index"), filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "a.txt"), "epsilon first\n")
	writeFile(t, filepath.Join(docs, "b.txt"), "epsilon other\n")
	writeFile(t, filepath.Join(docs, "c.txt"), "epsilon kept\n")
	require.NoError(t, os.MkdirAll(ix, 0o755))
	h := holder(t, ix, "--owner", "other-host")
	p := tguardBin.Command("index", "--index", ix, "--journal", filepath.Join(root, "j.db"), docs).Start(t)
	require.Eventually(t, func() bool { return strings.Contains(p.Stderr(), "waiting for the lease held by other-host") },
		30*time.Second, 20*time.Millisecond)
	writeFile(t, filepath.Join(docs, "a.txt"), "epsilon second, longer\n")
	require.NoError(t, os.Remove(filepath.Join(docs, "b.txt")))
	require.NoError(t, syscall.Kill(-h.Process.Pid, syscall.SIGTERM))
	<-h.Done()
	require.Equal(t, 0, p.Wait(t, 2*time.Minute), p.Stderr())
	assert.Contains(t, p.Stdout(), "indexed 2, skipped 2 (changed after it was journaled 1, gone 1)")
	assert.Contains(t, p.Stderr(), "a.txt: changed after it was journaled")
	assert.Contains(t, p.Stderr(), "b.txt: not indexed")
	assert.Equal(t, 1, hits(t, ix, "second"))
	assert.Equal(t, 0, hits(t, ix, "other"))
}
