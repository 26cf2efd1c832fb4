package shareindex

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/smbtest"
	"github.com/tguard/tguard/tests/testbin"
	"golang.org/x/sys/unix"
)

const (
	hostA = "tguard-host-a"
	hostB = "tguard-host-b"
	// casLease is long enough that neither stopped writer's renewal comes
	// due during the test (every lease / 3): a renewal on resume would see
	// the broken lease and stop the holder before its commit, which is not
	// the case under test.
	casLease = "300s"
)

// stopBeforeCommit starts tguard index of docs on host, into ix (as the
// host mounts it), and waits until it has stopped itself by its failpoint
// right before its commit, after every check in Go.
func stopBeforeCommit(t *testing.T, host, ix, owner, journal, docs string) *testbin.Proc {
	t.Helper()
	p := onHost(host, []string{"TGUARD_FAILPOINT=before-commit:stop"},
		"index", "--index", ix, "--owner", owner, "--journal", journal, "--lease", casLease, docs).Start(t)
	states := testbin.StoppedOrGone(p.Pid(), 60*time.Second)
	require.True(t, strings.HasSuffix(states, "T"), "%s did not stop before its commit (states seen: %s): %s",
		owner, states, p.Stderr())
	return p
}

// resume lets a stopped writer go on and returns its exit code and stderr.
func resume(t *testing.T, p *testbin.Proc) (int, string) {
	t.Helper()
	return p.Resume(t, 2*time.Minute), p.Stderr()
}

// openFiles lists the files process pid has open.
func openFiles(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	var files []string
	for _, e := range entries {
		if p, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil {
			files = append(files, p)
		}
	}
	return files
}

// holdsFlock reports whether process pid holds a flock(2) lock on path, from
// /proc/locks (device major:minor:inode as seen through the same mount).
func holdsFlock(t *testing.T, pid int, path string) bool {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	f, err := os.Open("/proc/locks")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 1234 00:3a:5678 0 EOF
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && fields[1] == "FLOCK" && fields[4] == strconv.Itoa(pid) && fields[5] == want {
			return true
		}
	}
	return false
}

// journalEntries counts the entries a journal still keeps.
func journalEntries(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM entries").Scan(&n))
	return n
}

// casFixture is one index folder on the share, seeded, with a holder H
// (host A, mount A) stopped right before its commit, whose lease was then
// force-broken from host B.
type casFixture struct {
	ixA, ixB             string // the index folder through mount A and B
	seed, hwords, wwords []string
	hj, wj               string // H's and W's journals
	wdocs                string // W's documents
	h                    *testbin.Proc
}

func newCASFixture(t *testing.T, share *smbtest.Share, name string) *casFixture {
	t.Helper()
	local := t.TempDir()
	f := &casFixture{ixA: filepath.Join(share.MountA, name), ixB: filepath.Join(share.MountB, name)}
	f.seed = testbin.Corpus(t, filepath.Join(local, "seed"), name+"seed", 3)
	f.hwords = testbin.Corpus(t, filepath.Join(local, "h"), name+"holder", 5)
	f.wwords = testbin.Corpus(t, filepath.Join(local, "w"), name+"successor", 5)
	f.wdocs = filepath.Join(local, "w")
	f.hj, f.wj = filepath.Join(local, "h.db"), filepath.Join(local, "w.db")

	r := onHost(hostB, nil, "index", "--index", f.ixB, "--owner", "seeder",
		"--journal", filepath.Join(local, "seed.db"), filepath.Join(local, "seed")).Run(t)
	require.Equal(t, 0, r.Code, r.Stderr)

	f.h = stopBeforeCommit(t, hostA, f.ixA, "H", f.hj, filepath.Join(local, "h"))
	r = onHost(hostB, nil, "lock", "break", "--force", "--index", f.ixB).Run(t)
	require.Equal(t, 0, r.Code, r.Stderr)
	// H built its commit on the index it opened; its journal keeps its
	// entries until a later grant reads them in the index.
	require.Equal(t, len(f.hwords), journalEntries(t, f.hj))
	// SMB does not replace a file another client holds open: a stopped
	// process holding meta.json would block every other host's commit
	// (README, known limits). Neither writer holds it at its stop point.
	assertMetaNotOpen(t, f.h.Pid(), "H")
	return f
}

func assertMetaNotOpen(t *testing.T, pid int, who string) {
	t.Helper()
	for _, p := range openFiles(pid) {
		assert.NotEqual(t, "meta.json", filepath.Base(p), "%s holds meta.json open at its stop point", who)
	}
}

// check searches on both hosts: every word of seed, H and W exactly once,
// and nothing else; then H's next flush finds its entries in the index
// (applied by nobody again) and its journal lets them go.
func (f *casFixture) check(t *testing.T) {
	t.Helper()
	all := append(append(append([]string{}, f.seed...), f.hwords...), f.wwords...)
	for _, host := range []struct{ name, ix string }{{hostA, f.ixA}, {hostB, f.ixB}} {
		docs, _ := stats(t, host.name, host.ix)
		assert.Equal(t, len(all), docs, "documents in the index, seen on %s", host.name)
		var missing, doubled []string
		for _, w := range all {
			switch n := hits(t, host.name, host.ix, w); {
			case n == 0:
				missing = append(missing, w)
			case n > 1:
				doubled = append(doubled, w)
			}
		}
		assert.Empty(t, missing, "documents lost, seen on %s", host.name)
		assert.Empty(t, doubled, "documents twice, seen on %s", host.name)
	}

	var sum struct{ Indexed, Pending int }
	onHost(hostA, nil, "flush", "--index", f.ixA, "--owner", "H", "--journal", f.hj, "--json").Run(t).JSON(t, &sum)
	assert.Equal(t, 0, sum.Indexed, "H's next flush: W's commit already carries H's entries")
	assert.Equal(t, 0, sum.Pending)
	assert.Equal(t, 0, journalEntries(t, f.hj), "H's journal keeps entries the index confirms")
	for _, w := range f.hwords {
		assert.Equal(t, 1, hits(t, hostB, f.ixB, w), w)
	}
}

// On the real SMB share, the two mounts as two hosts (each
// with its own hostname, boot id, machine id and host nonce), where
// Tantivy's writer lock (a flock, local to one client) does not reach from
// one to the other. Holder H on host A stops right before its commit and
// its lease is force-broken; successor W on host B is granted.
//
// Successor opens first, zombie commits first: W opens the index at the
// seed's meta.json and stops before its commit; H resumes and commits (its
// token is above the index's, and meta.json is still the one it opened);
// W resumes. A one-way fence let W publish a meta.json built on the seed,
// erasing H's commit, whose entries H's journal had already dropped. The
// compare-and-set fence refuses W's publish; W reopens and retries inside
// its lease, and every document of both is there exactly once.
//
// Zombie commits first, successor opens after: H resumes and commits, then
// W runs from the start, opening after H's commit.
func TestCompareAndSetFenceAcrossHosts(t *testing.T) {
	share := smbtest.Start(t)

	t.Run("successor_opens_first_zombie_commits_first", func(t *testing.T) {
		f := newCASFixture(t, share, "cas-1")
		w := stopBeforeCommit(t, hostB, f.ixB, "W", f.wj, f.wdocs)
		// W opened a writer on mount B while H, on mount A, holds
		// Tantivy's writer lock: the lock does not reach across clients,
		// which is why only the lease and the fence guard the index there.
		assert.True(t, holdsFlock(t, f.h.Pid(), filepath.Join(f.ixA, ".tantivy-writer.lock")),
			"H holds Tantivy's writer lock through mount A")
		assertMetaNotOpen(t, w.Pid(), "W")

		code, stderr := resume(t, f.h)
		require.Equal(t, 0, code, "H's commit lands: meta.json is still the one it opened: %s", stderr)
		code, stderr = resume(t, w)
		require.Equal(t, 0, code, "W reopens and retries inside its lease: %s", stderr)
		t.Logf("W: %s", strings.TrimSpace(stderr))
		assert.Contains(t, stderr, "reopening", "W's first publish must be refused: meta.json changed since W opened it")
		f.check(t)
	})

	t.Run("zombie_commits_first_successor_opens_after", func(t *testing.T) {
		f := newCASFixture(t, share, "cas-2")
		code, stderr := resume(t, f.h)
		require.Equal(t, 0, code, "H's commit lands: meta.json is still the one it opened: %s", stderr)
		r := onHost(hostB, nil, "index", "--index", f.ixB, "--owner", "W",
			"--journal", f.wj, "--lease", casLease, f.wdocs).Run(t)
		require.Equal(t, 0, r.Code, r.Stderr)
		f.check(t)
	})
}
