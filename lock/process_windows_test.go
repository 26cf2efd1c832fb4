package lock

import (
	"context"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// An owner record that another process holds open without sharing (an
// antivirus scanner, a backup agent, another client of the share) cannot be
// read: the lease is held with its record unreadable, never free, and a
// waiter is not granted it while the holder renews.
func TestSharingViolationIsHeldNotFree(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const lease = 300 * time.Millisecond
	holder := newTestLocker(t, dir, WithLeaseDuration(lease))
	held, err := holder.Acquire(ctx)
	require.NoError(t, err)
	defer held.Release(ctx)

	rec := filepath.Join(dir, leaseDirName, numName(held.Token()), ownerFileName)
	p, err := windows.UTF16PtrFromString(rec)
	require.NoError(t, err)
	h, err := windows.CreateFile(p, windows.GENERIC_READ, 0 /* no sharing */, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	require.NoError(t, err)
	closed := false
	closeIt := func() {
		if !closed {
			windows.CloseHandle(h)
			closed = true
		}
	}
	defer closeIt()

	waiter := newTestLocker(t, dir, WithLeaseDuration(lease))
	s, err := waiter.Status(ctx)
	require.NoError(t, err)
	assert.True(t, s.Held)
	assert.Contains(t, s.RecordError, windows.ERROR_SHARING_VIOLATION.Error(), "the sharing violation is named")
	_, err = waiter.TryAcquire(ctx)
	require.ErrorIs(t, err, ErrHeld)

	wctx, cancel := context.WithTimeout(ctx, 4*lease)
	_, err = waiter.Acquire(wctx)
	cancel()
	require.ErrorIs(t, err, ErrHeld, "granted while the holder renews")
	require.NoError(t, held.Check())

	closeIt()
	s, err = waiter.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, holder.Owner(), s.Owner)
	assert.Empty(t, s.RecordError)
}

// Liveness through OpenProcess and GetProcessTimes: this process is alive,
// a different start time is a reused PID (dead), an exited process is dead,
// and no handle is left open by the probes.
func TestProcessLivenessWindows(t *testing.T) {
	me := windows.GetCurrentProcessId()
	start, err := processStartTime(int(me))
	require.NoError(t, err)
	require.NotZero(t, start)
	alive, known := processAlive(int(me), start)
	assert.True(t, known)
	assert.True(t, alive)
	alive, known = processAlive(int(me), start+1)
	assert.True(t, known)
	assert.False(t, alive, "another start time: the PID was reused")

	gone := deadPID(t)
	alive, known = processAlive(gone, 0)
	assert.True(t, known)
	assert.False(t, alive, "an exited process")

	before := handleCount(t)
	for range 500 {
		processAlive(int(me), start)
		processAlive(gone, 0)
		_, _ = processStartTime(int(me))
	}
	after := handleCount(t)
	assert.Less(t, after-before, 10, "handles leaked: %d before, %d after", before, after)
}

var procGetProcessHandleCount = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetProcessHandleCount")

func handleCount(t *testing.T) int {
	var n uint32
	r, _, err := procGetProcessHandleCount.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&n)))
	require.NotZero(t, r, "GetProcessHandleCount: %v", err)
	return int(n)
}
