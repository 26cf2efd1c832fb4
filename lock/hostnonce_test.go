//go:build linux

package lock

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/tguard/tguard/tests/helperproc"
)

// The name of the override, spelled out: these tests also run against
// builds from before it existed, where they must fail.
const nonceDirEnv = "TGUARD_HOST_NONCE_DIR"

// tmpfsDir makes a folder on a tmpfs (/dev/shm): the host nonce of one
// simulated host.
func tmpfsDir(t *testing.T) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "tguard-test-host-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// reapedPID is the PID of a process that ran and was reaped.
func reapedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// A boot id that differs proves nothing (the record may
// come from another machine with the same hostname, machine id and initial
// PID namespace). A live holder whose record names another boot and a dead
// PID is not taken over while it renews; the old code granted the waiter
// at once.
func TestAnotherBootIsNotDead(t *testing.T) {
	dir := t.TempDir()
	const lease = 2 * time.Second
	c := startChild(t, "hold", "", param("DIR", dir), param("LEASE", lease.String()))
	c.Expect(t, "acquired 1", 10*time.Second)
	rewriteRecord(t, dir, 1, map[string]any{"boot_id": "0badb007-0000-4000-8000-000000000000", "pid": reapedPID(t)})

	l := newTestLocker(t, dir, WithLeaseDuration(lease))
	s, err := l.Status(context.Background())
	require.NoError(t, err)
	assert.False(t, s.Dead, "another boot is not a dead holder")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), lease+safetyMargin(lease)+500*time.Millisecond)
	defer cancel()
	got, err := l.Acquire(ctx)
	if err == nil {
		_ = got.Release(context.Background())
		t.Fatalf("a live holder was taken over after %v", time.Since(start))
	}
	require.ErrorIs(t, err, ErrHeld)
	require.NoError(t, c.CloseStdin())
	c.Expect(t, "released", 10*time.Second) // it never lost its lease
}

// Two hosts that share boot id, hostname, machine id and
// PID namespace (as far as the records tell) but not the per-boot memory
// file system have different host nonces: a crashed holder of the other is
// waited out by expiry, not judged dead.
func TestAnotherHostNonceIsNotDead(t *testing.T) {
	dir := t.TempDir()
	const lease = time.Second
	c := startChild(t, "crash", "", param("DIR", dir), param("LEASE", lease.String()), helperproc.Env(nonceDirEnv+"="+tmpfsDir(t)))
	c.Expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.Wait(10*time.Second))

	t.Setenv(nonceDirEnv, tmpfsDir(t))
	l := newTestLocker(t, dir, WithLeaseDuration(lease))
	s, err := l.Status(context.Background())
	require.NoError(t, err)
	assert.False(t, s.Dead, "another host's holder is never provably dead")
	start := time.Now()
	got, err := l.Acquire(context.Background())
	require.NoError(t, err)
	waited := time.Since(start)
	assert.GreaterOrEqual(t, waited, lease+safetyMargin(lease), "taken over before its lease expired")
	assert.Equal(t, uint64(2), got.Token())
	require.NoError(t, got.Release(context.Background()))
}

// The fast path still works for a simulated host: holder and waiter share
// one nonce folder, the holder died, and it is taken over at once.
func TestSameHostNonceDeadTakenOverAtOnce(t *testing.T) {
	dir := t.TempDir()
	host := tmpfsDir(t)
	c := startChild(t, "crash", "", param("DIR", dir), param("LEASE", "30s"), helperproc.Env(nonceDirEnv+"="+host))
	c.Expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.Wait(10*time.Second))

	t.Setenv(nonceDirEnv, host)
	l := newTestLocker(t, dir, WithLeaseDuration(30*time.Second))
	s, err := l.Status(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Dead)
	start := time.Now()
	got, err := l.TryAcquire(context.Background())
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second)
	require.NoError(t, got.Release(context.Background()))
}

// The nonce file: made once, whole, by one of many racing processes, 0644
// whatever the umask; a folder on disk gives no nonce.
func TestHostNonceFile(t *testing.T) {
	host := tmpfsDir(t)
	path := filepath.Join(host, "host-nonce")
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = loadHostNonce(path) }()
	}
	wg.Wait()
	require.Len(t, got[0], 2*hostNonceBytes)
	for _, n := range got {
		require.Equal(t, got[0], n, "one nonce per host")
	}
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "readable by every account")
	entries, err := os.ReadDir(host)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	t.Setenv(nonceDirEnv, host)
	assert.Equal(t, got[0], hostNonce())
	t.Setenv(nonceDirEnv, t.TempDir()) // on disk: outlives the boot
	assert.Empty(t, hostNonce())

	// /run/tguard's rules, on another path: made in a tmpfs parent, 0755
	// whatever the umask; never made on a disk.
	run := filepath.Join(tmpfsDir(t), "tguard")
	n := runNonce(run)
	require.Len(t, n, 2*hostNonceBytes)
	fi, err = os.Stat(run)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	assert.Equal(t, n, runNonce(run), "made once")
	onDisk := filepath.Join(t.TempDir(), "tguard")
	assert.Empty(t, runNonce(onDisk))
	assert.NoDirExists(t, onDisk)

	require.NoError(t, os.WriteFile(path, []byte("not a nonce\n"), 0o644))
	t.Setenv(nonceDirEnv, host)
	assert.Empty(t, hostNonce(), "a malformed nonce is no nonce")
}
