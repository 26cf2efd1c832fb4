package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/prereq"
)

func newTestLocker(t *testing.T, dir string, opts ...Option) *Locker {
	t.Helper()
	l, err := New(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// The written task's own test: lock1 acquires; lock2.TryAcquire fails at
// once; release lock1; lock2 acquires.
func TestSketch(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l1 := newTestLocker(t, dir, WithOwner("lock1"))
	l2 := newTestLocker(t, dir, WithOwner("lock2"))

	lease1, err := l1.Acquire(ctx)
	require.NoError(t, err)

	start := time.Now()
	_, err = l2.TryAcquire(ctx)
	require.ErrorIs(t, err, ErrHeld)
	var held *HeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, "lock1", held.Holder.Owner)
	assert.Less(t, time.Since(start), time.Second, "TryAcquire must not wait")

	require.NoError(t, lease1.Release(ctx))
	lease2, err := l2.Acquire(ctx)
	require.NoError(t, err)
	assert.Greater(t, lease2.Token(), lease1.Token())
	require.NoError(t, lease2.Release(ctx))
}

// Acquiring again under one's own lease: the lease is not re-entrant; a
// second acquire by the same owner is refused, so callers take one lease
// for a whole batch.
func TestNotReentrant(t *testing.T) {
	ctx := context.Background()
	l := newTestLocker(t, t.TempDir())
	lease, err := l.Acquire(ctx)
	require.NoError(t, err)
	_, err = l.TryAcquire(ctx)
	require.ErrorIs(t, err, ErrHeld)
	require.NoError(t, lease.Release(ctx))
}

func TestOptionsValidatedEagerly(t *testing.T) {
	dir := t.TempDir()
	for name, opt := range map[string]Option{
		"short lease":   WithLeaseDuration(time.Microsecond),
		"empty owner":   WithOwner(""),
		"newline owner": WithOwner("a\nb"),
		"nil logger":    WithLogger(nil),
	} {
		_, err := New(dir, opt)
		assert.Error(t, err, name)
	}
	f := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err := New(f)
	assert.ErrorContains(t, err, "not a folder")
	assert.ErrorIs(t, err, ErrNotFolder, "told apart from bad options")
}

// Tokens grow across grants, releases and takeovers, and Status tells.
func TestTokensGrowAndStatus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := newTestLocker(t, dir, WithOwner("me"))
	s, err := l.Status(ctx)
	require.NoError(t, err)
	assert.False(t, s.Held)
	assert.Equal(t, "free", s.State)

	var last uint64
	for i := 0; i < 20; i++ {
		lease, err := l.Acquire(ctx)
		require.NoError(t, err)
		require.Greater(t, lease.Token(), last)
		last = lease.Token()
		s, err := l.Status(ctx)
		require.NoError(t, err)
		assert.True(t, s.Held)
		assert.Equal(t, "me", s.Owner)
		assert.Equal(t, os.Getpid(), s.PID)
		assert.Equal(t, last, s.Token)
		require.NoError(t, lease.Release(ctx))
	}
	s, err = l.Status(ctx)
	require.NoError(t, err)
	assert.False(t, s.Held)
	assert.Equal(t, "released", s.State)
	// Old generations are collected: the folder does not grow with grants.
	gens, err := listNumbers(filepath.Join(dir, leaseDirName))
	require.NoError(t, err)
	assert.LessOrEqual(t, len(gens), 2)
}

// The lease renews itself well past its duration, keeps its slots bounded,
// and a waiter is not granted it meanwhile.
func TestRenewalKeepsLease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := []Option{WithLeaseDuration(200 * time.Millisecond)}
	holder := newTestLocker(t, dir, opts...)
	waiter := newTestLocker(t, dir, opts...)
	lease, err := holder.Acquire(ctx)
	require.NoError(t, err)

	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = waiter.Acquire(wctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrHeld, "the error names the holder")
	require.NoError(t, lease.Err())
	assert.NoError(t, lease.Check())

	slots, err := listNumbers(filepath.Join(dir, leaseDirName, strconv.FormatUint(lease.Token(), 10)))
	require.NoError(t, err)
	assert.LessOrEqual(t, len(slots), 2, "old slots are collected")
	require.NoError(t, lease.Release(ctx))
	assert.ErrorIs(t, lease.Err(), ErrReleased)
	assert.NoError(t, lease.Release(ctx), "release is idempotent")
}

// A renewal and a takeover racing for the same slot end with
// exactly one winner, every time.
func TestRenewalRacesTakeover(t *testing.T) {
	for i := 0; i < 200; i++ {
		dir := t.TempDir()
		holder := newFileBackend(dir, discard(), systemClock{})
		id, err := selfIdentity("holder")
		require.NoError(t, err)
		g, err := holder.Attempt(context.Background(), id, time.Second)
		require.NoError(t, err)
		waiter := newFileBackend(dir, discard(), systemClock{})
		v, err := readView(waiter.root)
		require.NoError(t, err)

		var renewErr, endErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); renewErr = g.Renew(context.Background()) }()
		go func() { defer wg.Done(); endErr = waiter.end(v, markerExpired) }()
		wg.Wait()
		require.True(t, (renewErr == nil) != (endErr == nil), "round %d: renew=%v end=%v", i, renewErr, endErr)
		if renewErr != nil {
			require.ErrorIs(t, renewErr, ErrLeaseLost)
		} else {
			require.ErrorIs(t, endErr, ErrHeld)
		}
	}
}

// A crashed holder's lease is taken over (a stale record never blocks
// forever), at once on the same host.
func TestDeadHolderTakenOverAtOnce(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "crash", "", param("DIR", dir), param("LEASE", "30s"))
	c.Expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.Wait(10*time.Second))

	l := newTestLocker(t, dir, WithLeaseDuration(30*time.Second))
	s, err := l.Status(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Held)
	assert.True(t, s.Dead)

	start := time.Now()
	lease, err := l.TryAcquire(context.Background())
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second, "a dead holder on this host is not waited for")
	assert.Equal(t, uint64(2), lease.Token())
	require.NoError(t, lease.Release(context.Background()))
}

// A holder killed while a waiter waits: the waiter learns of the death
// (pidfd) and does not wait for the 30 s lease.
func TestKilledHolderFailover(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "hold", "", param("DIR", dir), param("LEASE", "30s"))
	c.Expect(t, "acquired", 10*time.Second)
	l := newTestLocker(t, dir, WithLeaseDuration(30*time.Second))
	got := make(chan error, 1)
	go func() {
		lease, err := l.Acquire(context.Background())
		if err == nil {
			err = lease.Release(context.Background())
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, c.Process().Kill())
	start := time.Now()
	select {
	case err := <-got:
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(20 * time.Second):
		t.Fatal("waiter not granted after the holder was killed")
	}
}

// PID reuse and cloned hosts: only a record provably written
// on this boot of this machine (same host nonce, boot id, hostname, machine
// id, PID namespace) is judged; a live PID whose start time differs is a
// dead holder; anything else is unknown, never dead.
func TestJudgeHolder(t *testing.T) {
	self, err := selfIdentity("x")
	require.NoError(t, err)
	self.HostNonce = randomHex(hostNonceBytes) // whatever this machine offers
	base := ownerRecord{Version: recordVersion, Token: 1, Identity: self, LeaseMS: 1000}
	assert.Equal(t, fateAlive, judgeHolder(base, self))
	rec := base
	rec.StartTime++
	assert.Equal(t, fateDead, judgeHolder(rec, self), "the PID was reused")

	for name, change := range map[string]func(*ownerRecord){
		"another boot id":       func(r *ownerRecord) { r.BootID = "another-boot" },
		"another host nonce":    func(r *ownerRecord) { r.HostNonce = randomHex(hostNonceBytes) },
		"no host nonce":         func(r *ownerRecord) { r.HostNonce = "" },
		"another hostname":      func(r *ownerRecord) { r.Hostname = "elsewhere" },
		"another machine id":    func(r *ownerRecord) { r.MachineID = "m2" },
		"another PID namespace": func(r *ownerRecord) { r.PIDNS = "pid:[1]" },
		"no PID":                func(r *ownerRecord) { r.PID = 0 },
	} {
		rec := base
		rec.StartTime++ // dead, if it were judged
		change(&rec)
		assert.Equal(t, fateUnknown, judgeHolder(rec, self), name)
	}
	noNonce := self
	noNonce.HostNonce = ""
	rec = base
	rec.HostNonce, rec.StartTime = "", rec.StartTime+1
	assert.Equal(t, fateUnknown, judgeHolder(rec, noNonce), "without a nonce this host proves nothing")
}

// Foreign hosts and skewed clocks: a holder on another host (own UTS
// namespace) with its wall clock an hour ahead or behind is never taken
// over early, and is taken over by expiry within lease + margin + a poll
// once it is gone.
func TestForeignHostExpiryUnderSkew(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out leases of simulated hosts: not under -short")
	}
	for _, skews := range [][2]string{{"1h", "-1h"}, {"-1h", "1h"}, {"0s", "0s"}} {
		t.Run(skews[0]+"_vs_"+skews[1], func(t *testing.T) {
			dir := t.TempDir()
			const lease = time.Second
			c := startChild(t, "hold", "otherhost", param("DIR", dir), param("LEASE", lease.String()), param("SKEW", skews[0]))
			c.Expect(t, "acquired 1", 10*time.Second)
			skew, _ := time.ParseDuration(skews[1])
			l := newTestLocker(t, dir, WithLeaseDuration(lease), WithClock(SkewedClock(skew)))
			s, err := l.Status(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "otherhost", s.Hostname)
			assert.False(t, s.Dead, "another host's holder is never provably dead")

			// While the foreign holder renews, no takeover in 3 leases.
			ctx, cancel := context.WithTimeout(context.Background(), 3*lease)
			_, err = l.Acquire(ctx)
			cancel()
			require.ErrorIs(t, err, ErrHeld)

			// Killed: only expiry frees it.
			require.NoError(t, c.Process().Kill())
			start := time.Now()
			got, err := l.Acquire(context.Background())
			require.NoError(t, err)
			waited := time.Since(start)
			// The holder's last renewal was at most a renew interval before
			// the kill, and its lease counts from there.
			renew := lease / 3
			assert.GreaterOrEqual(t, waited, lease+safetyMargin(lease)-renew, "taken over before the lease could have run out")
			assert.Less(t, waited, lease+safetyMargin(lease)+time.Second, "not taken over within lease + margin + a poll")
			t.Logf("FIGURE foreign_takeover skew=%s/%s waited_ms=%d", skews[0], skews[1], waited.Milliseconds())
			require.NoError(t, got.Release(context.Background()))
		})
	}
}

// A torn, garbage or future-version owner record is held until it has stayed
// unchanged for a whole lease, then taken over with a warning.
func TestUnreadableRecordsHeldThenTakenOver(t *testing.T) {
	cases := map[string][]byte{
		"missing":   nil,
		"empty":     {},
		"truncated": []byte(`{"v":1,"token":1,"owner":"x`),
		"garbage":   {0xff, 0x00, 0x13, 0x37},
		"future":    []byte(`{"v":99,"token":1,"owner":"x","nonce":"n","lease_ms":1000,"pid":1}`),
		"types":     []byte(`{"v":"1","token":-1}`),
		"huge":      make([]byte, 10<<20),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			gen := filepath.Join(dir, leaseDirName, "1")
			require.NoError(t, os.MkdirAll(gen, 0o755))
			if content != nil {
				require.NoError(t, os.WriteFile(filepath.Join(gen, ownerFileName), content, 0o644))
			}
			const lease = 300 * time.Millisecond
			l := newTestLocker(t, dir, WithLeaseDuration(lease))
			s, err := l.Status(context.Background())
			require.NoError(t, err)
			assert.True(t, s.Held)
			assert.Equal(t, "unknown", s.State)
			assert.NotEmpty(t, s.RecordError, "says why")
			_, err = l.TryAcquire(context.Background())
			require.ErrorIs(t, err, ErrHeld)

			start := time.Now()
			got, err := l.Acquire(context.Background())
			require.NoError(t, err)
			assert.GreaterOrEqual(t, time.Since(start), lease)
			assert.Equal(t, uint64(2), got.Token())
			require.NoError(t, got.Release(context.Background()))
		})
	}
}

// A lease whose record is removed under it (someone deleted the lease
// folder) is reported lost at the next renewal, before its deadline.
func TestLeaseLostSignalled(t *testing.T) {
	dir := t.TempDir()
	l := newTestLocker(t, dir, WithLeaseDuration(300*time.Millisecond))
	lease, err := l.Acquire(context.Background())
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(filepath.Join(dir, leaseDirName)))
	select {
	case <-lease.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("loss not signalled")
	}
	require.ErrorIs(t, lease.Err(), ErrLeaseLost)
	require.ErrorIs(t, context.Cause(lease.Context()), ErrLeaseLost)
	require.ErrorIs(t, lease.Check(), ErrLeaseLost)
	require.ErrorIs(t, lease.Release(context.Background()), ErrLeaseLost)
}

// Break removes a provably dead holder's lease, refuses a live one without
// force, and ends it with force.
func TestBreak(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := startChild(t, "crash", "", param("DIR", dir), param("LEASE", "30s"))
	c.Expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.Wait(10*time.Second))
	l := newTestLocker(t, dir)
	_, err := l.Break(ctx, false)
	require.NoError(t, err)
	s, err := l.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "expired", s.State)

	other := newTestLocker(t, dir)
	lease, err := other.Acquire(ctx)
	require.NoError(t, err)
	_, err = l.Break(ctx, false)
	require.ErrorIs(t, err, ErrNotProvablyDead)
	_, err = l.Break(ctx, true)
	require.NoError(t, err)
	s, err = l.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "broken", s.State)
	// The broken holder learns it at its next renewal.
	require.ErrorIs(t, lease.Release(ctx), ErrLeaseLost)
}

func TestBadEnvironments(t *testing.T) {
	ctx := context.Background()
	t.Run("file where the lease folder should be", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, leaseDirName), []byte("x"), 0o644))
		l := newTestLocker(t, dir)
		_, err := l.Acquire(ctx)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrHeld)
	})
	t.Run("read-only folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores permissions")
		}
		if runtime.GOOS == "windows" {
			t.Skip("Windows: a folder's read-only attribute does not stop creating files in it")
		}
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, 0o555))
		l := newTestLocker(t, dir)
		_, err := l.Acquire(ctx)
		require.Error(t, err)
	})
	t.Run("missing folder is created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		l := newTestLocker(t, dir)
		lease, err := l.Acquire(ctx)
		require.NoError(t, err)
		require.NoError(t, lease.Release(ctx))
	})
	// One inode left: enough for a generation folder, not for a record
	// besides it. The attempt must fail without leaving a generation that
	// nobody can read, which the next holder would have to wait out.
	t.Run("no inode left for the owner record", func(t *testing.T) {
		prereq.Root(t, "mount a tmpfs")
		dir := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=64", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
		require.NoError(t, os.Mkdir(filepath.Join(dir, leaseDirName), 0o755))
		var fill []string
		for i := 0; ; i++ {
			p := filepath.Join(dir, "fill"+strconv.Itoa(i))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				require.ErrorIs(t, err, syscall.ENOSPC)
				break
			}
			fill = append(fill, p)
		}
		require.NoError(t, os.Remove(fill[len(fill)-1]))
		fill = fill[:len(fill)-1]

		l := newTestLocker(t, dir, WithLeaseDuration(time.Minute))
		_, err := l.Acquire(ctx)
		require.ErrorIs(t, err, syscall.ENOSPC)
		entries, err := os.ReadDir(filepath.Join(dir, leaseDirName))
		require.NoError(t, err)
		assert.Empty(t, entries, "no generation, no temporary file")

		for _, p := range fill {
			require.NoError(t, os.Remove(p))
		}
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		lease, err := l.Acquire(tctx)
		require.NoError(t, err, "nothing left behind to wait out")
		assert.Equal(t, uint64(1), lease.Token())
		require.NoError(t, lease.Release(ctx))
	})
	t.Run("no temporary record left behind", func(t *testing.T) {
		dir := t.TempDir()
		a, b := newTestLocker(t, dir), newTestLocker(t, dir)
		for range 3 {
			lease, err := a.Acquire(ctx)
			require.NoError(t, err)
			_, err = b.TryAcquire(ctx)
			require.ErrorIs(t, err, ErrHeld)
			require.NoError(t, lease.Release(ctx))
		}
		entries, err := os.ReadDir(filepath.Join(dir, leaseDirName))
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.Equal(t, []string{"2", "3", "lease-30000"}, names, "and the declared lease duration")
	})
}

func discard() *slogLogger { return discardLogger }

var _ = errors.New
