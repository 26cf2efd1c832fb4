// Package shareindex runs the guarded indexer on a real SMB share mounted
// twice, as two hosts would: there Tantivy's own writer lock (a kernel
// lock) does not reach from one client to the other, and only the lease,
// the deadline and the fencing token keep a zombie writer out.
package shareindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/smbtest"
	"github.com/tguard/tguard/tests/testbin"
)

var tguardBin string

func TestMain(m *testing.M) { testbin.Main(m, &tguardBin) }

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

// zombieRun is one zombie: an indexer on host A that stops itself right
// before its commit (after its last check in Go), then is resumed after a
// successor on host B committed. force breaks the zombie's lease instead of
// letting it expire, so that the zombie's own deadline is still valid and
// only the fence can refuse it.
func zombieRun(t *testing.T, force bool) {
	share := smbtest.Start(t)
	local := t.TempDir()
	zwords := corpus(t, filepath.Join(local, "z"), "zombie", 5)
	swords := corpus(t, filepath.Join(local, "s"), "successor", 5)
	ixA := filepath.Join(share.MountA, "index")
	ixB := filepath.Join(share.MountB, "index")
	zj := filepath.Join(local, "zombie.db")

	lease := "2s"
	if force {
		lease = "120s"
	}
	z := onHost("tguard-host-a", []string{"TGUARD_FAILPOINT=before-commit:stop"},
		"index", "--index", ixA, "--owner", "zombie", "--journal", zj, "--lease", lease, filepath.Join(local, "z"))
	var zerr bytes.Buffer
	z.Stderr = &zerr
	require.NoError(t, z.Start())
	t.Cleanup(func() { _ = z.Process.Kill(); _ = z.Process.Signal(syscall.SIGCONT); _ = z.Wait() })
	testbin.WaitStopped(t, z.Process.Pid)

	if force {
		code, _, errs := run(t, onHost("tguard-host-b", nil, "lock", "break", "--index", ixB, "--force"))
		require.Equal(t, 0, code, errs)
	}
	start := time.Now()
	code, _, errs := run(t, onHost("tguard-host-b", nil, "index", "--index", ixB, "--owner", "successor",
		"--journal", filepath.Join(local, "successor.db"), "--lease", "2s", "--wait", "60s", filepath.Join(local, "s")))
	require.Equal(t, 0, code, "the successor on the other host must not be blocked: %s", errs)
	t.Logf("FIGURE zombie force=%v successor_committed_after_ms=%d", force, time.Since(start).Milliseconds())
	_, token := stats(t, "tguard-host-b", ixB)
	require.Equal(t, uint64(2), token)

	require.NoError(t, z.Process.Signal(syscall.SIGCONT))
	err := z.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the zombie must fail: %s", zerr.String())
	assert.Equal(t, 76, ee.ExitCode(), zerr.String())
	if force {
		assert.Contains(t, zerr.String(), "fenced", "only the fence can refuse it")
	}
	docs, token := stats(t, "tguard-host-a", ixA)
	assert.Equal(t, uint64(2), token, "the zombie committed nothing")
	assert.Equal(t, 5, docs)
	for _, w := range swords {
		assert.Equal(t, 1, hits(t, "tguard-host-a", ixA, w), w)
	}
	assert.Equal(t, 0, hits(t, "tguard-host-a", ixA, zwords[0]))

	// The zombie's documents stayed in its journal: its next flush applies them.
	code, _, errs = run(t, onHost("tguard-host-a", nil, "flush", "--index", ixA, "--owner", "zombie", "--journal", zj))
	require.Equal(t, 0, code, errs)
	for _, w := range append(zwords, swords...) {
		assert.Equal(t, 1, hits(t, "tguard-host-b", ixB, w), w)
	}
}

func TestZombiePastLeaseAcrossHosts(t *testing.T) { zombieRun(t, false) }

func TestZombieFencedAcrossHosts(t *testing.T) { zombieRun(t, true) }

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
