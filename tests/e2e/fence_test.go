package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/testbin"
)

// stoppedAt starts tguard index with owner and journal, stopping itself
// (SIGSTOP) at failpoint step, and waits until it is stopped.
func stoppedAt(t *testing.T, step, ix, owner, journal, lease, docs string) *testbin.Proc {
	t.Helper()
	p := tguardBin.Command("index", "--index", ix, "--owner", owner, "--journal", journal, "--lease", lease, docs).
		With("TGUARD_FAILPOINT=" + step + ":stop").Start(t)
	p.WaitStopped(t)
	return p
}

// finish resumes a stopped tguard and returns its exit code and stderr.
func finish(t *testing.T, p *testbin.Proc) (int, string) {
	t.Helper()
	return p.Resume(t, 2*time.Minute), p.Stderr()
}

// A holder H whose lease was force-broken while it was
// stopped right before its commit still believes in its lease. Its
// successor W (a higher token) opens the index and stops before its own
// commit. H then
// commits (its token is above the index's, so a one-way fence lets it
// through); W commits after. With a one-way fence, W's meta.json, built on
// the index as W opened it, erased H's commit, and H's journal had already
// dropped those documents: they were lost. With the compare-and-set fence,
// W's publish is refused because meta.json is no longer the one it opened;
// W reopens and retries inside its lease, and every document of both is
// in the index exactly once.
//
// Tantivy's own writer lock is a kernel lock that only works on one host;
// removing its file here plays a second host, where it does not reach.
func TestForceBrokenHolderCannotEraseOrBeErased(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	seed := corpus(t, filepath.Join(root, "seed"), "seed", 3)
	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, "--owner", "seeder", "--journal", filepath.Join(root, "seed.db"),
		filepath.Join(root, "seed")).Code)
	hwords := corpus(t, filepath.Join(root, "h"), "holder", 5)
	wwords := corpus(t, filepath.Join(root, "w"), "successor", 5)
	hj, wj := filepath.Join(root, "h.db"), filepath.Join(root, "w.db")

	h := stoppedAt(t, "before-commit", ix, "H", hj, "30s", filepath.Join(root, "h"))
	r := tguard(t, nil, "lock", "break", "--force", "--index", ix)
	require.Equal(t, 0, r.Code, r.Stderr)
	require.NoError(t, os.Remove(filepath.Join(ix, ".tantivy-writer.lock")))
	w := stoppedAt(t, "before-commit", ix, "W", wj, "30s", filepath.Join(root, "w"))

	code, stderr := finish(t, h)
	require.Equal(t, 0, code, "H's commit lands: the index is still the one it opened: %s", stderr)
	code, stderr = finish(t, w)
	require.Equal(t, 0, code, "W reopens and retries inside its lease: %s", stderr)

	everyWordOnce(t, ix, append(append(seed, hwords...), wwords...))
	assert.Equal(t, len(seed)+len(hwords)+len(wwords), readStats(t, ix).Docs)

	// H's entries were kept until a later grant read them in the index.
	r = tguard(t, nil, "flush", "--index", ix, "--owner", "H", "--journal", hj, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	everyWordOnce(t, ix, hwords)
}

// A writer's entries leave its journal only when a later
// grant reads them in the index. Here the index loses the writer's commit
// after the writer believed it landed (an operator restores a copy taken
// before it: the same effect as a successor publishing over it); the next
// flush of that journal applies its documents again. When the journal
// trusted the writer's own word, they were gone from the index and from
// the journal.
func TestJournalKeptUntilConfirmed(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	seed := corpus(t, filepath.Join(root, "seed"), "seed", 2)
	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, "--owner", "seeder", filepath.Join(root, "seed")).Code)
	backup := filepath.Join(root, "backup")
	require.NoError(t, exec.Command("cp", "-a", ix, backup).Run())

	j := filepath.Join(root, "j.db")
	words := corpus(t, filepath.Join(root, "docs"), "kept", 4)
	r := tguard(t, nil, "index", "--index", ix, "--owner", "A", "--journal", j, filepath.Join(root, "docs"))
	require.Equal(t, 0, r.Code, r.Stderr)
	everyWordOnce(t, ix, words)

	// The commit is erased; only the lease folder is newer than the copy.
	lease := filepath.Join(ix, ".tguard-lease")
	require.NoError(t, os.Rename(lease, filepath.Join(root, "lease")))
	require.NoError(t, os.RemoveAll(ix))
	require.NoError(t, os.Rename(backup, ix))
	require.NoError(t, os.RemoveAll(filepath.Join(ix, ".tguard-lease")))
	require.NoError(t, os.Rename(filepath.Join(root, "lease"), lease))
	assert.Equal(t, 0, hits(t, ix, words[0]))

	r = tguard(t, nil, "flush", "--index", ix, "--owner", "A", "--journal", j, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	everyWordOnce(t, ix, append(seed, words...))

	// Once a later grant has read them in the index, they leave the journal.
	r = tguard(t, nil, "flush", "--index", ix, "--owner", "A", "--journal", j, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct{ Indexed, Pending int }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum))
	assert.Equal(t, 0, sum.Indexed)
	assert.Equal(t, 0, sum.Pending)
	everyWordOnce(t, ix, words)
}

// The lease folder is removed after five commits (an
// operator "clearing a stale lock", or a copy without dot folders). Tokens
// restarted at 1 and every later run was fenced (exit 76) for ever; with
// the token floor read from the index, the next grant is above the
// index's last token.
func TestTokensAnchoredToTheIndex(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	for i := range 5 {
		corpus(t, filepath.Join(root, "docs"), "round"+string(rune('a'+i)), 2)
		r := tguard(t, nil, "index", "--index", ix, filepath.Join(root, "docs"))
		require.Equal(t, 0, r.Code, r.Stderr)
	}
	require.Equal(t, uint64(5), readStats(t, ix).Token)
	require.NoError(t, os.RemoveAll(filepath.Join(ix, ".tguard-lease")))

	words := corpus(t, filepath.Join(root, "more"), "afterloss", 3)
	r := tguard(t, nil, "index", "--index", ix, "--json", filepath.Join(root, "more"))
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct{ Token uint64 }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum))
	assert.Equal(t, uint64(6), sum.Token)
	assert.Equal(t, uint64(6), readStats(t, ix).Token)
	everyWordOnce(t, ix, words)
}

// A publish on a share that replaces meta.json by delete
// then rename can fail between the two, leaving the new commit only in its
// temporary file. Opening such an index says exactly how to restore it,
// and never creates a new index over it; after the move it opens.
func TestMissingMetaWithCompleteTemporary(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	words := corpus(t, filepath.Join(root, "docs"), "orphaned", 3)
	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, filepath.Join(root, "docs")).Code)
	tmp := filepath.Join(ix, ".meta.json.tguard-0123456789ab.tmp")
	require.NoError(t, os.Rename(filepath.Join(ix, "meta.json"), tmp))

	for _, args := range [][]string{
		{"search", "--index", ix, words[0]},
		{"stats", "--index", ix},
		{"index", "--index", ix, "--journal", filepath.Join(root, "j.db"), filepath.Join(root, "docs")},
	} {
		r := tguard(t, nil, args...)
		assert.NotEqual(t, 0, r.Code, "%v", args)
		assert.Contains(t, r.Stderr, "mv ", "%v: %s", args, r.Stderr)
		assert.Contains(t, r.Stderr, tmp, "%v", args)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.Stderr), "\n")+1, "one line: %s", r.Stderr)
		_, err := os.Stat(filepath.Join(ix, "meta.json"))
		assert.ErrorIs(t, err, os.ErrNotExist, "%v created an index over the lost commit", args)
	}
	require.NoError(t, os.Rename(tmp, filepath.Join(ix, "meta.json")))
	everyWordOnce(t, ix, words)
}

// With umask 0 (or a shared group), another service
// account must be able to search the index and take the lease. Lease
// folders used to be made 0755 whatever the umask, and Tantivy wrote
// .managed.json 0600, so "nobody" could not even search.
func TestSecondAccountSharesTheIndex(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	for _, d := range []string{filepath.Dir(root), root} {
		require.NoError(t, os.Chmod(d, 0o777))
	}
	ix := filepath.Join(root, "index")
	words := corpus(t, filepath.Join(root, "docs"), "shared", 3)
	// umask 0 for tguard alone: sh sets it and execs.
	umask0 := testbin.Bin{Path: "sh", Args: []string{"-c", `umask 0 && exec "$@"`, "sh", tguardBin.Path}}
	umask0.Command("index", "--index", ix, "--journal", filepath.Join(root, "root.db"), filepath.Join(root, "docs")).Output(t)

	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	r, _ := tguardAs(t, nobody, "search", "--index", ix, "--json", words[0])
	require.Equal(t, 0, r.Code, "another account searches: %s", r.Stderr)
	assert.Contains(t, r.Stdout, `"total":1`)

	more := corpus(t, filepath.Join(root, "more"), "nobodys", 2)
	require.NoError(t, os.Chmod(filepath.Join(root, "more"), 0o755))
	r, _ = tguardAs(t, nobody, "index", "--index", ix, "--journal", filepath.Join(root, "nobody", "j.db"),
		"--json", filepath.Join(root, "more"))
	require.Equal(t, 0, r.Code, "another account takes the lease and commits: %s", r.Stderr)
	everyWordOnce(t, ix, append(words, more...))
}

// Another process on the writer's host holds Tantivy's
// meta lock and never lets go (a stopped "tguard search" holds it while it
// reloads). Tantivy takes that lock, blocking, after publishing a commit
// (to collect garbage); the writer used to wait there for ever while its
// lease kept being renewed, so no host could write. Now the wait ends at
// the lease's deadline (or 30 s): the commit stands, tguard exits, and the
// lease is free for the next writer.
func TestHeldMetaLockDoesNotBlockForEver(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	corpus(t, filepath.Join(root, "seed"), "seed", 1)
	require.Equal(t, 0, tguard(t, nil, "index", "--index", ix, filepath.Join(root, "seed")).Code)
	// -o: flock holds the lock itself, not the sleep, so killing it frees
	// the lock.
	holder := exec.Command("flock", "-o", filepath.Join(ix, ".tantivy-meta.lock"), "sleep", "300")
	require.NoError(t, holder.Start())
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	require.Eventually(t, func() bool {
		return exec.Command("flock", "-n", filepath.Join(ix, ".tantivy-meta.lock"), "true").Run() != nil
	}, 10*time.Second, 10*time.Millisecond, "the meta lock must be held")

	words := corpus(t, filepath.Join(root, "docs"), "blocked", 3)
	cmd := tguardBin.Command("index", "--index", ix, "--lease", "2s", filepath.Join(root, "docs"))
	cmd.Timeout = 60 * time.Second // else: still blocked on the meta lock
	r := cmd.Run(t)
	require.Equal(t, 0, r.Code, "%s%s", r.Stdout, r.Stderr)
	t.Logf("tguard index took %v with the meta lock held", r.Took.Round(time.Millisecond))

	r = tguard(t, nil, "lock", "status", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, `"held":false`)
	require.NoError(t, holder.Process.Kill())
	_ = holder.Wait()
	everyWordOnce(t, ix, words)
}
