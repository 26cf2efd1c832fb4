package lock

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A holder that renews but never progresses stops
// renewing after the stall timeout; its lease ends with ErrStalled (and
// ErrLeaseLost), it is not released, and a waiter takes it over once it
// has expired.
func TestStallEndsLease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const lease, stall = 600 * time.Millisecond, 300 * time.Millisecond
	holder := newTestLocker(t, dir, WithLeaseDuration(lease), WithStallTimeout(stall))
	start := time.Now()
	l, err := holder.Acquire(ctx)
	require.NoError(t, err)
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a stalled lease did not end")
	}
	ended := time.Since(start)
	assert.GreaterOrEqual(t, ended, stall)
	assert.Less(t, ended, lease-safetyMargin(lease), "ended at the stall, before the deadline")
	require.ErrorIs(t, l.Err(), ErrStalled)
	require.ErrorIs(t, l.Err(), ErrLeaseLost)
	require.ErrorIs(t, context.Cause(l.Context()), ErrStalled)
	require.ErrorIs(t, l.Release(ctx), ErrStalled)

	waiter := newTestLocker(t, dir, WithLeaseDuration(lease))
	s, err := waiter.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "held", s.State, "not released: the stuck work may resume")
	wstart := time.Now()
	got, err := waiter.Acquire(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), lease+safetyMargin(lease), "taken over only once expired")
	t.Logf("stalled after %v, taken over %v later", ended, time.Since(wstart))
	assert.Equal(t, l.Token()+1, got.Token())
	require.NoError(t, got.Release(ctx))
}

// With progress reported, the lease renews well past the stall timeout;
// once progress stops, it ends.
func TestProgressKeepsLease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const lease, stall = 300 * time.Millisecond, 200 * time.Millisecond
	holder := newTestLocker(t, dir, WithLeaseDuration(lease), WithStallTimeout(stall))
	l, err := holder.Acquire(ctx)
	require.NoError(t, err)
	for end := time.Now().Add(5 * stall); time.Now().Before(end); {
		l.Progress()
		time.Sleep(stall / 5)
		require.NoError(t, l.Check())
	}
	select {
	case <-l.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the lease did not end once progress stopped")
	}
	require.ErrorIs(t, l.Err(), ErrStalled)

	_, err = New(dir, WithStallTimeout(-time.Second))
	require.Error(t, err)
	off := newTestLocker(t, dir, WithLeaseDuration(lease), WithStallTimeout(0))
	l, err = off.Acquire(ctx)
	require.NoError(t, err)
	time.Sleep(3 * stall)
	require.NoError(t, l.Check(), "0 turns it off")
	require.NoError(t, l.Release(ctx))
}

func BenchmarkProgress(b *testing.B) {
	l, err := New(b.TempDir(), WithStallTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	lease, err := l.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer lease.Release(context.Background())
	for b.Loop() {
		lease.Progress()
	}
}
