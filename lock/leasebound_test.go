package lock

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A waiter that cannot read the holder's record still
// knows a bound of the holder's lease (the declared lease-<ms> folders), so
// a waiter with a much shorter lease does not take over early. The holder
// runs with 3 s, the waiter with 200 ms; the old code granted the waiter
// after 220 ms.
func TestUnreadableRecordLongerLease(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a longer lease: not under -short")
	}
	for name, spoil := range map[string]func(t *testing.T, dir string){
		"future version": func(t *testing.T, dir string) { rewriteRecordField(t, dir, "v", 99) },
		// As between the generation's mkdir and the record's rename.
		"missing": func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, ".tguard-lease", "1", "owner.json")))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			const holderLease, waiterLease = 3 * time.Second, 200 * time.Millisecond
			c := startChild(t, "hold", "", param("DIR", dir), param("LEASE", holderLease.String()))
			c.Expect(t, "acquired 1", 10*time.Second)
			spoil(t, dir)
			require.NoError(t, c.Kill())

			l := newTestLocker(t, dir, WithLeaseDuration(waiterLease))
			s, err := l.Status(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "unknown", s.State)
			start := time.Now()
			got, err := l.Acquire(context.Background())
			require.NoError(t, err)
			waited := time.Since(start)
			t.Logf("granted after %v", waited)
			assert.GreaterOrEqual(t, waited, holderLease+safetyMargin(holderLease),
				"taken over before the holder's lease could have run out")
			require.NoError(t, got.Release(context.Background()))
		})
	}
}

// rewriteRecord changes fields of generation gen's owner record in place
// (published by rename, as the holder does).
func rewriteRecord(t *testing.T, dir string, gen int, change map[string]any) {
	t.Helper()
	path := filepath.Join(dir, ".tguard-lease", numName(uint64(gen)), "owner.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	rec := map[string]any{}
	require.NoError(t, json.Unmarshal(b, &rec))
	for k, v := range change {
		rec[k] = v
	}
	b, err = json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+".new", append(b, '\n'), 0o644))
	require.NoError(t, os.Rename(path+".new", path))
}

func rewriteRecordField(t *testing.T, dir, key string, value any) {
	rewriteRecord(t, dir, 1, map[string]any{key: value})
}

// Every grant declares its lease duration once; the listing that shows the
// declaration spares the mkdir afterwards, and a readable record is trusted
// for its own lease (a declared 24 h lease does not slow down its expiry).
func TestDeclaredLeaseDurations(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	root := filepath.Join(dir, leaseDirName)
	a := newTestLocker(t, dir, WithLeaseDuration(300*time.Millisecond))
	for range 3 {
		lease, err := a.Acquire(ctx)
		require.NoError(t, err)
		require.NoError(t, lease.Release(ctx))
	}
	assert.DirExists(t, filepath.Join(root, "lease-300"))
	require.NoError(t, os.Mkdir(filepath.Join(root, "lease-86400000"), 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(root, "lease-007"), 0o755)) // not canonical: ignored

	v, err := readView(root)
	require.NoError(t, err)
	assert.True(t, v.declares(300*time.Millisecond))
	assert.False(t, v.declares(time.Second))
	assert.Equal(t, 300*time.Millisecond, v.holderLease(100*time.Millisecond), "a readable record names the holder's lease")
	v.recErr = os.ErrNotExist
	assert.Equal(t, 24*time.Hour, v.holderLease(100*time.Millisecond), "without it the longest declared bounds it")

	if runtime.GOOS == "windows" {
		// The 15 ms lease below is shorter than a Windows clock tick.
		t.Log("Windows: the 15 ms lease is not tried (a clock tick is 15.6 ms)")
		return
	}
	b := newTestLocker(t, dir, WithLeaseDuration(1500*time.Microsecond*10)) // 15 ms
	lease, err := b.Acquire(ctx)
	require.NoError(t, err)
	require.NoError(t, lease.Release(ctx))
	assert.DirExists(t, filepath.Join(root, "lease-15"))
}
