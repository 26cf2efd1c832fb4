//go:build unix

package lock

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Windows has no SIGSTOP: this test stays on Unix.

// A stopped holder is alive (signal 0, never SIGCONT): it is not
// taken over early and stays stopped; once its lease has expired on the
// waiter's clock it is taken over, and its release then fails without
// touching the successor.
func TestStoppedHolderIsAliveThenExpires(t *testing.T) {
	dir := t.TempDir()
	const lease = 600 * time.Millisecond
	c := startChild(t, "hold", "", param("DIR", dir), param("LEASE", lease.String()))
	c.Expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.Process().Signal(syscall.SIGSTOP))
	t.Cleanup(func() { _ = c.Process().Signal(syscall.SIGCONT) })
	require.Eventually(t, func() bool { return procState(t, c.Pid()) == "T" }, 5*time.Second, time.Millisecond)

	l := newTestLocker(t, dir, WithLeaseDuration(lease))
	_, err := l.TryAcquire(context.Background())
	require.ErrorIs(t, err, ErrHeld, "a stopped holder is alive")
	assert.Equal(t, "T", procState(t, c.Pid()), "the probe must not resume it")

	start := time.Now()
	successor, err := l.Acquire(context.Background())
	require.NoError(t, err)
	waited := time.Since(start)
	assert.GreaterOrEqual(t, waited, lease, "no takeover before the lease has expired")
	assert.Equal(t, uint64(2), successor.Token())

	require.NoError(t, c.Process().Signal(syscall.SIGCONT))
	require.NoError(t, c.CloseStdin())
	c.Expect(t, "lost", 10*time.Second)
	require.NoError(t, successor.Check(), "the old holder's release must not end the successor")
	s, err := l.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(2), s.Token)
	assert.True(t, s.Held)
	require.NoError(t, successor.Release(context.Background()))
}

func procState(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	s := string(b)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ')' {
			return s[i+2 : i+3]
		}
	}
	return ""
}
