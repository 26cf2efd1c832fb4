// Package shareindex runs the guarded indexer on a real SMB share mounted
// twice, as two hosts would: there Tantivy's own writer lock (a kernel
// lock) does not reach from one client to the other, and only the lease,
// the deadline and the fencing token keep a zombie writer out.
package shareindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/smbtest"
	"github.com/tguard/tguard/tests/testbin"
)

var tguardBin string

func TestMain(m *testing.M) { testbin.Main(m, &tguardBin, "failpoints") }

// onHost returns tguard with args, to run on host (its own UTS namespace).
func onHost(host string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(tguardBin, args...)
	cmd.Env = append(os.Environ(), env...)
	smbtest.OtherHost(host, cmd)
	return cmd
}

func run(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func corpus(t *testing.T, dir, tag string, n int) []string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("%sword%d", tag, i)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.txt", i)),
			[]byte("shared text\n"+words[i]+"\n"), 0o644))
	}
	return words
}

func stats(t *testing.T, host, ix string) (docs int, token uint64) {
	t.Helper()
	code, out, errs := run(t, onHost(host, nil, "stats", "--index", ix, "--json"))
	require.Equal(t, 0, code, errs)
	var s struct {
		Docs  int
		Token uint64
	}
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	return s.Docs, s.Token
}

func hits(t *testing.T, host, ix, word string) int {
	t.Helper()
	code, out, errs := run(t, onHost(host, nil, "search", "--index", ix, "--json", word))
	require.Equal(t, 0, code, errs)
	var r struct{ Total int }
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	return r.Total
}

// pauseTrialsEnv sets the number of zombie trials; the first two are the
// failpoint cases, the rest alternate between them and a random pause.
const pauseTrialsEnv = "TGUARD_PAUSE_TRIALS"

// zombieMode is how a trial makes its zombie.
type zombieMode int

const (
	// pastLease: the zombie stops itself right before its commit (after
	// its last check in Go) and stays stopped past its lease.
	pastLease zombieMode = iota
	// forced: the same, but its lease is force-broken while it is stopped,
	// so that its own deadline is still valid and only the fence can
	// refuse it.
	forced
	// randomPause: the zombie is stopped from outside (SIGSTOP) at a random
	// moment after its grant, wherever it is in its work.
	randomPause
)

func (m zombieMode) String() string {
	return [...]string{"past-lease", "forced", "random-pause"}[m]
}

// zombieOutcome is what one trial saw.
type zombieOutcome struct {
	finishedEarly bool   // random pause: the zombie had exited before it
	blocked       bool   // the successor's flush failed on the share's I/O
	blockedBy     string // how: meta-json-open-elsewhere, segment-create-eexist, other-io
	refused       bool   // the zombie exited 76 (lost or fenced) instead of 0
	fenced        bool   // ... naming the fence
	successor     time.Duration
	// committedAfter: the zombie's commit came after the successor's;
	// successorLost: the successor's documents missing then.
	committedAfter bool // named for the figure: a commit under a stale lease
	successorLost  int
}

// zombieTrial runs one zombie against a successor on another host, in
// folder n of the share: the zombie (host A) is stopped while holding the
// lease, a successor (host B) commits, the zombie resumes. The zombie must
// never commit after the successor (the last commit is the successor's),
// the successor loses nothing, and the zombie's documents, kept in its
// journal, are applied by its next flush, each document exactly once.
func zombieTrial(t *testing.T, share *smbtest.Share, n int, mode zombieMode) zombieOutcome {
	t.Helper()
	local := t.TempDir()
	files := 5
	if mode == randomPause {
		files = 1000 // enough work that the pause lands in it
	}
	zwords := corpus(t, filepath.Join(local, "z"), fmt.Sprintf("zombie%d", n), files)
	swords := corpus(t, filepath.Join(local, "s"), fmt.Sprintf("successor%d", n), 5)
	name := fmt.Sprintf("index-%02d", n)
	ixA, ixB := filepath.Join(share.MountA, name), filepath.Join(share.MountB, name)
	zj := filepath.Join(local, "zombie.db")

	lease, env := "2s", []string{"TGUARD_FAILPOINT=before-commit:stop"}
	switch mode {
	case forced:
		lease = "120s"
	case randomPause:
		env = nil
	}
	z := onHost("tguard-host-a", env,
		"index", "--index", ixA, "--owner", "zombie", "--journal", zj, "--lease", lease, filepath.Join(local, "z"))
	// Its stderr goes to a file, which the zombie writes directly: the
	// test reads it while the zombie runs (a bytes.Buffer would be written
	// by exec's copying goroutine meanwhile: a data race).
	zerr := zombieLog{path: filepath.Join(local, "zombie.stderr")}
	zf, err := os.Create(zerr.path)
	require.NoError(t, err)
	defer zf.Close()
	z.Stderr = zf
	require.NoError(t, z.Start())
	t.Cleanup(func() { _ = z.Process.Kill(); _ = z.Process.Signal(syscall.SIGCONT); _ = z.Wait() })
	if mode == randomPause {
		// Granted: the first generation's record is on the server's disk.
		gen := filepath.Join(share.Root, name, ".tguard-lease", "1", "owner.json")
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(gen); err == nil {
				break
			}
			require.True(t, time.Now().Before(deadline), "zombie never granted: %s", zerr.String())
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		require.NoError(t, z.Process.Signal(syscall.SIGSTOP))
	}
	states := waitStopped(z.Process.Pid, 60*time.Second)
	if mode == randomPause && (strings.HasSuffix(states, "Z") || strings.HasSuffix(states, "-")) {
		// It finished before the pause landed: not a zombie this time.
		out := zombieOutcome{finishedEarly: true}
		require.NoError(t, z.Wait(), zerr.String())
		return out
	}
	require.True(t, strings.HasSuffix(states, "T"), "the zombie did not stop (states seen: %s): %s", states, zerr.String())

	if mode == forced {
		code, _, errs := run(t, onHost("tguard-host-b", nil, "lock", "break", "--index", ixB, "--force"))
		require.Equal(t, 0, code, errs)
	}
	successorJournal := filepath.Join(local, "successor.db")
	start := time.Now()
	code, _, errs := run(t, onHost("tguard-host-b", nil, "index", "--index", ixB, "--owner", "successor",
		"--journal", successorJournal, "--lease", "2s", "--wait", "60s", filepath.Join(local, "s")))
	out := zombieOutcome{successor: time.Since(start)}
	if code == 1 && mode == randomPause && strings.Contains(errs, "documents stay journaled") {
		// The share refused one of the successor's writes while the zombie
		// was paused in the middle of its own: SMB does not replace a file
		// another client holds open (the zombie was reading meta.json), and
		// smbnetfs sometimes answers a create of a new segment file with
		// EEXIST. The successor's commit fails and its documents stay
		// journaled; checked below: nothing is lost once the zombie is gone.
		out.blocked = true
		out.blockedBy = "other-io"
		switch {
		case strings.Contains(errs, "replacing meta.json"):
			out.blockedBy = "meta-json-open-elsewhere"
		case strings.Contains(errs, "File exists"):
			out.blockedBy = "segment-create-eexist"
		}
		t.Logf("trial %d: the successor's flush failed while the zombie was paused: %s", n, strings.TrimSpace(errs))
	} else {
		require.Equal(t, 0, code, "the successor on the other host must not be blocked: %s", errs)
	}
	var successorToken uint64
	if !out.blocked {
		_, successorToken = stats(t, "tguard-host-b", ixB)
	}

	require.NoError(t, z.Process.Signal(syscall.SIGCONT))
	err = z.Wait()
	var ee *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &ee, zerr.String())
		require.Equal(t, 76, ee.ExitCode(), "a zombie fails only with 76 (lease lost or fenced): %s", zerr.String())
		out.refused = true
		out.fenced = strings.Contains(zerr.String(), "fenced")
	}
	if out.blocked {
		// The zombie is gone: the successor's documents, still in its
		// journal, go in now.
		code, _, errs := run(t, onHost("tguard-host-b", nil, "flush", "--index", ixB, "--owner", "successor",
			"--journal", successorJournal, "--lease", "2s", "--wait", "60s"))
		require.Equal(t, 0, code, "the blocked successor's next flush: %s", errs)
		_, successorToken = stats(t, "tguard-host-b", ixB)
	}
	if mode != randomPause {
		// Stopped right before its commit: it can only be refused.
		require.True(t, out.refused, "the zombie must not commit: %s", zerr.String())
	}
	if mode == forced {
		assert.True(t, out.fenced, "only the fence can refuse it: %s", zerr.String())
	}
	// A refused zombie committed nothing: the last commit is the
	// successor's. One that exited 0 committed before its pause, or lost
	// its lease in the pause and was granted a new one after the successor
	// (a later token). Either way the committed token never goes back.
	_, token := stats(t, "tguard-host-a", ixA)
	out.committedAfter = token < successorToken || (out.refused && token != successorToken)
	assert.False(t, out.committedAfter, "trial %d (%s, zombie refused: %v): last commit token %d, successor's %d",
		n, mode, out.refused, token, successorToken)
	for _, w := range swords {
		if hits(t, "tguard-host-a", ixA, w) != 1 {
			out.successorLost++
		}
	}
	assert.Zero(t, out.successorLost, "trial %d (%s): the successor's documents must all be there once", n, mode)

	// The zombie's documents stayed in its journal: its next flush applies them.
	code, _, errs = run(t, onHost("tguard-host-a", nil, "flush", "--index", ixA, "--owner", "zombie", "--journal", zj))
	require.Equal(t, 0, code, errs)
	docs, _ := stats(t, "tguard-host-b", ixB)
	assert.Equal(t, len(zwords)+len(swords), docs, "trial %d (%s): every document exactly once", n, mode)
	for _, w := range []string{zwords[0], zwords[len(zwords)-1], swords[0]} {
		assert.Equal(t, 1, hits(t, "tguard-host-b", ixB, w), "trial %d (%s): %s", n, mode, w)
	}
	return out
}

// zombieLog is a zombie's stderr, kept in a file.
type zombieLog struct{ path string }

func (l zombieLog) String() string {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}

// waitStopped waits until process pid is stopped (state T in /proc, twice
// 20 ms apart), or has exited, or timeout passes, and returns the states it
// saw in order, without repeats (the last is the state it ended in).
func waitStopped(pid int, timeout time.Duration) string {
	var seen []byte
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		st := testbin.ProcState(pid)
		if st == 0 {
			st = '-'
		}
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if st == 'Z' || st == '-' {
			break
		}
		if st == 'T' {
			time.Sleep(20 * time.Millisecond)
			if testbin.ProcState(pid) == 'T' {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return string(seen)
}

// Zombie writers across two hosts on the real share, on one share: the
// failpoint cases (stopped past its lease; lease force-broken), then, with
// TGUARD_PAUSE_TRIALS above 2, random pauses between them.
func TestZombiesAcrossHosts(t *testing.T) {
	share := smbtest.Start(t)
	trials := 2
	if n, err := strconv.Atoi(os.Getenv(pauseTrialsEnv)); err == nil && n > 0 {
		trials = n
	}
	counts := map[zombieMode]int{}
	var refused, fenced, completed, early, committedAfter, lost int
	blocked := map[string]int{}
	var successor []time.Duration
	for n := 0; n < trials; n++ {
		mode := zombieMode(n % 3)
		if n < 2 {
			mode = zombieMode(n)
		}
		o := zombieTrial(t, share, n, mode)
		counts[mode]++
		if o.finishedEarly {
			early++
			continue
		}
		successor = append(successor, o.successor)
		lost += o.successorLost
		if o.blocked {
			blocked[o.blockedBy]++
		}
		if o.committedAfter {
			committedAfter++
		}
		switch {
		case o.fenced:
			fenced++
			refused++
		case o.refused:
			refused++
		default:
			completed++
		}
		if t.Failed() {
			break
		}
	}
	slices.Sort(successor)
	t.Logf("FIGURE pauses trials=%d past_lease=%d forced=%d random=%d refused=%d fenced=%d zombie_committed=%d finished_before_pause=%d "+
		"successor_flush_failed_meta_json_open_elsewhere=%d successor_flush_failed_segment_create_eexist=%d successor_flush_failed_other_io=%d "+
		"zombie_commits_after_successor=%d successor_docs_lost=%d successor_p50_ms=%d",
		trials, counts[pastLease], counts[forced], counts[randomPause], refused, fenced, completed, early,
		blocked["meta-json-open-elsewhere"], blocked["segment-create-eexist"], blocked["other-io"],
		committedAfter, lost, successor[len(successor)/2].Milliseconds())
}

// The journal is refused on the share: SQLite's locking is not reliable
// there, and each host's journal is its own.
func TestJournalRefusedOnShare(t *testing.T) {
	share := smbtest.Start(t)
	code, _, errs := run(t, onHost("tguard-host-a", nil, "flush", "--index", filepath.Join(share.MountA, "index"),
		"--journal", filepath.Join(share.MountA, "journal.db")))
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "journal must be on a local disk")
	assert.Contains(t, errs, "FUSE")
}
