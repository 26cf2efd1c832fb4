package lock

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The lease folder is deleted after five grants (an
// operator "clears a stale lock"); with the index's committed token as the
// floor, the next token is 6, not 1.
func TestTokenFloorAfterLeaseFolderLost(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var committed atomic.Uint64
	floor := func(context.Context) (uint64, error) { return committed.Load(), nil }
	l := newTestLocker(t, dir, WithTokenFloor(floor))
	for i := 1; i <= 5; i++ {
		lease, err := l.Acquire(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(i), lease.Token())
		committed.Store(lease.Token())
		require.NoError(t, lease.Release(ctx))
	}
	require.NoError(t, os.RemoveAll(filepath.Join(dir, leaseDirName)))

	lease, err := l.Acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), lease.Token(), "a token above the index's")
	s, err := l.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), s.Token)
	assert.True(t, s.Held)
	require.NoError(t, lease.Release(ctx))

	// A Locker without a floor goes on from the folder.
	other := newTestLocker(t, dir)
	lease, err = other.Acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), lease.Token())
	require.NoError(t, lease.Release(ctx))
	gens, err := listNumbers(filepath.Join(dir, leaseDirName))
	require.NoError(t, err)
	assert.Equal(t, []uint64{6, 7}, gens, "the skipped-over generation is collected")
}

// A lease folder restored from an older copy (generation 2 ended, the
// index at 9): the next token is 10.
func TestTokenFloorOlderLeaseFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := newTestLocker(t, dir)
	for range 2 {
		lease, err := plain.Acquire(ctx)
		require.NoError(t, err)
		require.NoError(t, lease.Release(ctx))
	}
	l := newTestLocker(t, dir, WithTokenFloor(func(context.Context) (uint64, error) { return 9, nil }))
	lease, err := l.Acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(10), lease.Token())
	_, err = plain.TryAcquire(ctx)
	require.ErrorIs(t, err, ErrHeld, "the skipped-ahead generation is held")
	require.NoError(t, lease.Release(ctx))
	lease, err = plain.Acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(11), lease.Token())
	require.NoError(t, lease.Release(ctx))
}

// An error from the floor fails the attempt: a transient one is retried by
// Acquire, any other is returned, and nothing is granted meanwhile.
func TestTokenFloorErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	broken := errors.New("meta.json is garbage")
	l := newTestLocker(t, dir, WithTokenFloor(func(context.Context) (uint64, error) { return 0, broken }))
	_, err := l.Acquire(ctx)
	require.ErrorIs(t, err, broken)
	s, err := newTestLocker(t, dir).Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "free", s.State, "nothing granted")

	var calls atomic.Int32
	l = newTestLocker(t, dir, WithTokenFloor(func(context.Context) (uint64, error) {
		if calls.Add(1) <= 2 {
			return 0, &os.PathError{Op: "read", Path: "meta.json", Err: transientIOErr}
		}
		return 3, nil
	}))
	lease, err := l.Acquire(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), lease.Token())
	assert.Equal(t, int32(3), calls.Load())
	require.NoError(t, lease.Release(ctx))

	_, err = New(dir, WithTokenFloor(nil))
	require.Error(t, err)
	_, err = New(dir, WithTokenFloor(func(context.Context) (uint64, error) { return 0, nil }), WithBackend(newFileBackend(dir, discard(), systemClock{})))
	require.ErrorContains(t, err, "file backend")
}

// Contenders with a floor race while the lease folder is deleted now and
// then between leases: never two holders at once, and every token is above
// the last committed one.
func TestTokenFloorRaces(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var mu sync.Mutex
	var committed uint64
	// A slow floor, as reading meta.json on a share is: a holder may be
	// granted and commit between a contender's reading of the lease folder
	// and its floor. Making the floor's token+1 straight away would then
	// put a second holder above the first.
	floor := func(context.Context) (uint64, error) {
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		mu.Lock()
		defer mu.Unlock()
		return committed, nil
	}
	var inside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := New(dir, WithTokenFloor(floor))
			if err != nil {
				errs <- err
				return
			}
			defer l.Close()
			for i := range 25 {
				lease, err := l.Acquire(ctx)
				if err != nil {
					errs <- err
					return
				}
				if !inside.CompareAndSwap(0, 1) {
					errs <- errors.New("two holders at once")
				}
				mu.Lock()
				if lease.Token() <= committed {
					errs <- errors.New("token at or below the committed one")
				}
				committed = lease.Token()
				mu.Unlock()
				time.Sleep(200 * time.Microsecond)
				inside.Store(0)
				if i%8 == 7 && w == 0 {
					// Gone while held: our own release then fails, and
					// the next grant starts from the floor.
					_ = os.RemoveAll(filepath.Join(dir, leaseDirName))
					_ = lease.Release(ctx)
					continue
				}
				if err := lease.Release(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.GreaterOrEqual(t, committed, uint64(100))
}
