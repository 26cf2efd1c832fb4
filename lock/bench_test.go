package lock

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAcquireRelease is one uncontended grant and release on a local
// disk: the lock's hot path.
func BenchmarkAcquireRelease(b *testing.B) {
	l, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for b.Loop() {
		lease, err := l.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := lease.Release(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus reads the lease record.
func BenchmarkStatus(b *testing.B) {
	l, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	lease, err := l.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer lease.Release(ctx)
	for b.Loop() {
		if _, err := l.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandoff measures one release by a holder until the grant to a
// waiter already blocked in Acquire (two Lockers: the waiter is woken by
// the file watcher, not by its backoff).
func BenchmarkHandoff(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	holder, err := New(dir, WithOwner("holder"))
	if err != nil {
		b.Fatal(err)
	}
	waiter, err := New(dir, WithOwner("waiter"))
	if err != nil {
		b.Fatal(err)
	}
	defer holder.Close()
	defer waiter.Close()
	for b.Loop() {
		b.StopTimer()
		lease, err := holder.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		got := make(chan *Lease)
		go func() {
			l, err := waiter.Acquire(ctx)
			if err != nil {
				b.Error(err)
			}
			got <- l
		}()
		time.Sleep(2 * time.Millisecond) // let the waiter block
		b.StartTimer()
		if err := lease.Release(ctx); err != nil {
			b.Fatal(err)
		}
		l := <-got
		b.StopTimer()
		_ = l.Release(ctx)
		b.StartTimer()
	}
}
