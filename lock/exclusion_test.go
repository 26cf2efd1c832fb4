package lock

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tguard/tguard/tests/helperproc"
	"github.com/tguard/tguard/tests/verifier"
)

// runContenders runs procs real processes doing cycles acquire/release
// rounds each on one folder, reporting every grant and release to the
// verifier (tests/verifier), and returns its report and the counter.
func runContenders(t *testing.T, procs, cycles int, nolock bool) (rep verifier.Report, counter int) {
	dir := t.TempDir()
	counterPath := filepath.Join(dir, "counter")
	srv := verifier.Start(t)
	flag := "0"
	if nolock {
		flag = "1"
	}
	children := make([]*helperproc.Proc, procs)
	for i := range children {
		children[i] = startChild(t, "cycles", "", param("DIR", filepath.Join(dir, "index")), param("LEASE", "5s"),
			param("CYCLES", strconv.Itoa(cycles)), param("VERIFIER", srv.Addr()), param("COUNTER", counterPath),
			param("NOLOCK", flag))
	}
	for _, c := range children {
		assert.NoError(t, c.Wait(5*time.Minute))
	}
	b, err := os.ReadFile(counterPath)
	require.NoError(t, err)
	counter, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	return srv.Report(), counter
}

// Eight processes, 200 cycles each, on a local disk: no overlap, tokens
// grow, no lost increment.
func TestMultiProcessExclusion(t *testing.T) {
	procs, cycles := 8, 200
	if testing.Short() {
		cycles = 50
	}
	start := time.Now()
	rep, counter := runContenders(t, procs, cycles, false)
	t.Logf("FIGURE exclusion_local procs=%d cycles=%d violations=%d counter=%d seconds=%.1f",
		procs, rep.Cycles, len(rep.Violations), counter, time.Since(start).Seconds())
	assert.Equal(t, procs*cycles, rep.Acquired)
	assert.Equal(t, procs*cycles, rep.Cycles)
	assert.Empty(t, rep.Violations)
	assert.Empty(t, rep.Holders)
	assert.Equal(t, procs*cycles, counter, "an increment was lost: two holders at once")
}

// The control: the same run without the lock must be caught, or the check
// above proves nothing.
func TestMultiProcessExclusionControl(t *testing.T) {
	rep, counter := runContenders(t, 8, 50, true)
	t.Logf("FIGURE exclusion_control procs=8 cycles=%d violations=%d overlaps=%d counter=%d",
		rep.Acquired, len(rep.Violations), rep.Overlaps, counter)
	assert.NotZero(t, rep.Overlaps, "the verifier did not catch unlocked contenders")
	assert.Less(t, counter, 8*50, "unlocked contenders lost no increment")
}

// Many waiters racing for one dead holder's lease: exactly one wins.
func TestRaceForDeadHolder(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "crash", "", param("DIR", dir), param("LEASE", "30s"))
	c.Expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.Wait(10*time.Second))
	for round := 0; round < 50; round++ {
		const racers = 8
		var wg sync.WaitGroup
		leases := make(chan *Lease, racers)
		for i := 0; i < racers; i++ {
			l := newTestLocker(t, dir, WithLeaseDuration(30*time.Second))
			wg.Add(1)
			go func() {
				defer wg.Done()
				lease, err := l.TryAcquire(context.Background())
				if err == nil {
					leases <- lease
				} else {
					assert.ErrorIs(t, err, ErrHeld)
				}
			}()
		}
		wg.Wait()
		close(leases)
		require.Len(t, leases, 1, "round %d", round)
		// Leave it held by a "dead" owner again: end it as a crash would,
		// by dropping it without release (stop renewing by hand).
		for lease := range leases {
			lease.stopOnce.Do(func() { close(lease.stop) })
			<-lease.renewed
			fakeDeadOwner(t, dir, lease.Token())
		}
	}
}

// fakeDeadOwner rewrites the owner record of token so that it names a
// process of this host that no longer exists.
func fakeDeadOwner(t *testing.T, dir string, token uint64) {
	gen := filepath.Join(dir, leaseDirName, strconv.FormatUint(token, 10))
	rec, err := readRecord(filepath.Join(gen, ownerFileName))
	require.NoError(t, err)
	rec.PID, rec.StartTime = deadPID(t), 0
	b, err := encodeRecord(rec)
	require.NoError(t, err)
	require.NoError(t, writeFileAtomic(filepath.Join(gen, ownerFileName), b))
}

var deadPIDOnce struct {
	sync.Once
	pid int
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	deadPIDOnce.Do(func() {
		c := startChild(t, "exit", "")
		_ = c.Wait(10 * time.Second)
		deadPIDOnce.pid = c.Pid()
	})
	return deadPIDOnce.pid
}
