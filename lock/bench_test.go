package lock

import (
	"context"
	"testing"
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
