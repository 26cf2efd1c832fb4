package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/prereq"
)

var interruptedRe = regexp.MustCompile("interrupted: ([0-9]+) documents journaled; `tguard flush --index (.+)` applies them")

// goSources is $GOROOT/src (of the go command that builds tguard, as
// testbin does): thousands of files, slow enough to interrupt.
func goSources(t *testing.T) string {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	require.NoError(t, err)
	src := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("no Go sources: %v", err)
	}
	return src
}

// interrupt starts tguard with args, sends sig once ready says the run is
// in the middle of the step under test, and checks the one line it ends
// with and its exit code; it returns how many documents the line says are
// journaled.
func interrupt(t *testing.T, sig os.Signal, code int, ready func() bool, args ...string) int {
	t.Helper()
	p := tguardBin.Command(args...).Start(t)
	require.Eventually(t, ready, 60*time.Second, 5*time.Millisecond, "the run did not get there")
	p.Signal(t, sig)
	sent := time.Now()
	got := p.Wait(t, time.Minute)
	took := time.Since(sent)
	var ee *exec.ExitError
	require.ErrorAs(t, p.Err(), &ee, "run ended before the signal: %s", p.Stdout())
	assert.Equal(t, code, got, p.Stderr())
	assert.Less(t, took, 10*time.Second, "stops promptly")
	m := interruptedRe.FindStringSubmatch(p.Stderr())
	require.NotNil(t, m, "stderr: %s", p.Stderr())
	assert.Equal(t, 1, strings.Count(p.Stderr(), "\n"), "one line: %s", p.Stderr())
	n, _ := strconv.Atoi(m[1])
	return n
}

// leaseFree checks that the lease of ix is free (a folder not yet made
// has none).
func leaseFree(t *testing.T, ix string) {
	t.Helper()
	if _, err := os.Stat(ix); err != nil {
		return
	}
	r := tguard(t, nil, "lock", "status", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var st struct{ Held bool }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &st))
	assert.False(t, st.Held, "lease released at once: %s", r.Stdout)
}

// flushAll runs flush and checks that it applied want documents.
func flushAll(t *testing.T, ix, journal string, want int) {
	t.Helper()
	r := tguard(t, nil, "flush", "--index", ix, "--journal", journal, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var sum struct{ Indexed, Pending int }
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &sum), r.Stdout)
	assert.Equal(t, want, sum.Indexed, "flush applies every journaled document")
	assert.Equal(t, 0, sum.Pending)
	assert.Equal(t, want, docCount(t, ix))
}

// Ctrl-C while index walks the Go sources: one line saying what is
// journaled and how to apply it, exit 130, the lease free at once, and
// flush applies every journaled document. The journal holds references to
// the files while it walks; the line is an acknowledgement, so their
// contents are in the journal by then: flush applies them all after the
// files are gone.
func TestInterruptIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes $GOROOT/src until interrupted: not under -short")
	}
	src := goSources(t)
	ix := filepath.Join(t.TempDir(), "index")
	journal := filepath.Join(t.TempDir(), "j.db")
	// A copy of the sources (hard links: fast) that can be removed.
	cp := filepath.Join(t.TempDir(), "src")
	removable := exec.Command("cp", "-al", src, cp).Run() == nil
	if removable {
		src = cp
	} else {
		t.Logf("no hard-linked copy of %s (another file system?): the files stay", src)
	}
	// In the middle of the walk: the journal's WAL holds a few batches
	// (of references: about 4 MB for the whole walk).
	walking := func() bool { return fileSize(journal+"-wal") > 1<<20 }
	n := interrupt(t, os.Interrupt, 130, walking,
		"index", "--index", ix, "--journal", journal, "--batch", "200", src)
	leaseFree(t, ix)
	require.Greater(t, n, 0)
	if removable {
		require.NoError(t, os.RemoveAll(cp))
	}
	flushAll(t, ix, journal, n)
}

// Ctrl-C while flush applies the Go sources: nothing half-done is
// committed, the lease is free at once, and the next flush applies all.
func TestInterruptFlush(t *testing.T) {
	prereq.Long(t, "journals and flushes all of $GOROOT/src")
	src := goSources(t)
	ix := filepath.Join(t.TempDir(), "index")
	journal := filepath.Join(t.TempDir(), "j.db")
	require.NoError(t, os.MkdirAll(ix, 0o755))
	// Journal everything while another process holds the lease: -n gives
	// up at once, keeping the documents.
	h := holder(t, ix, "--owner", "other")
	r := tguard(t, nil, "index", "--index", ix, "--journal", journal, "-n", "--json", src)
	require.Equal(t, 75, r.Code, r.Stderr)
	var fail struct {
		Error string
		Code  int
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &fail), "--json failure on stdout: %q", r.Stdout)
	assert.Equal(t, 75, fail.Code)
	require.NoError(t, syscall.Kill(-h.Process.Pid, syscall.SIGTERM))
	<-h.Done()
	leaseFree(t, ix)

	// In the middle of applying: Tantivy's writer lock is taken (the
	// index is created by this flush) and a moment has passed.
	applying := func() bool {
		if _, err := os.Stat(filepath.Join(ix, ".tantivy-writer.lock")); err != nil {
			return false
		}
		time.Sleep(300 * time.Millisecond)
		return true
	}
	n := interrupt(t, os.Interrupt, 130, applying,
		"flush", "--index", ix, "--journal", journal, "--batch", "100")
	leaseFree(t, ix)
	r = tguard(t, nil, "stats", "--index", ix, "--json")
	t.Logf("after the interrupt: %s%s", r.Stdout, r.Stderr)
	if r.Code == 0 {
		var st struct{ Docs int }
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &st))
		assert.Equal(t, 0, st.Docs, "nothing half-done committed")
	}
	require.Greater(t, n, 1000)
	flushAll(t, ix, journal, n)
}

// SIGTERM while waiting for the lease: exit 143, the holder named while
// waiting, the documents kept.
func TestInterruptWhileWaiting(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	docs := filepath.Join(root, "docs")
	writeFile(t, filepath.Join(docs, "a.txt"), "gamma\n")
	require.NoError(t, os.MkdirAll(ix, 0o755))
	h := holder(t, ix, "--owner", "other-host")
	p := tguardBin.Command("index", "--index", ix, "--journal", filepath.Join(root, "j.db"), docs).Start(t)
	require.Eventually(t, func() bool { return strings.Contains(p.Stderr(), "waiting for the lease held by other-host") },
		30*time.Second, 20*time.Millisecond)
	p.Signal(t, syscall.SIGTERM)
	assert.Equal(t, 143, p.Wait(t, time.Minute), p.Stderr())
	assert.Regexp(t, interruptedRe, p.Stderr())
	assert.Contains(t, p.Stderr(), "interrupted: 1 documents journaled")
	// Acknowledged means copied: what flush applies is the content as it
	// was journaled, though the file changed after the interrupt.
	writeFile(t, filepath.Join(docs, "a.txt"), "delta, written after the interrupt\n")
	require.NoError(t, syscall.Kill(-h.Process.Pid, syscall.SIGTERM))
	<-h.Done()
	flushAll(t, ix, filepath.Join(root, "j.db"), 1)
	assert.Equal(t, 1, hits(t, ix, "gamma"))
	assert.Equal(t, 0, hits(t, ix, "delta"))
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// A second signal exits at once, wherever the run is: here both arrive
// while the run is stopped right before its commit, under the lease. The
// documents are not lost: the next flush applies each exactly once.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	root := t.TempDir()
	ix := filepath.Join(root, "index")
	journal := filepath.Join(root, "j.db")
	docs := filepath.Join(root, "docs")
	for i := 0; i < 20; i++ {
		writeFile(t, filepath.Join(docs, strconv.Itoa(i)+".txt"), "kappa "+strconv.Itoa(i)+"\n")
	}
	p := tguardBin.Command("index", "--index", ix, "--journal", journal, docs).
		With("TGUARD_FAILPOINT=before-commit:stop").Start(t)
	p.WaitStopped(t)
	p.Signal(t, os.Interrupt)
	p.Signal(t, syscall.SIGTERM)
	assert.Contains(t, []int{130, 143}, p.Resume(t, time.Minute), p.Stderr())
	assert.Contains(t, p.Stderr(), "again: exiting at once", p.Stderr())

	// The holder died with the lease; this host sees it dead and flush
	// takes over at once.
	r := tguard(t, nil, "flush", "--index", ix, "--journal", journal, "--wait", "30s", "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 20, docCount(t, ix), "every document once")
	assert.Len(t, searchIDs(t, ix, "kappa"), 20)
}
