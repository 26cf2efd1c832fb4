package lock

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkLog reads a log of "A token pid" / "R token pid" lines and returns
// the violations: a second holder entering before the first left, a release
// by a non-holder, or a token that does not grow.
func checkLog(t *testing.T, path string) (cycles int, violations []string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	holder, lastToken := "", uint64(0)
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		var op string
		var token uint64
		var pid int
		_, err := fmt.Sscanf(s.Text(), "%s %d %d", &op, &token, &pid)
		require.NoError(t, err, "line %d: %q", n, s.Text())
		who := fmt.Sprintf("%d/%d", pid, token)
		switch op {
		case "A":
			if holder != "" {
				violations = append(violations, fmt.Sprintf("line %d: %s entered while %s held", n, who, holder))
			}
			if token != 0 && token <= lastToken {
				violations = append(violations, fmt.Sprintf("line %d: token %d after %d", n, token, lastToken))
			}
			holder, lastToken = who, max(lastToken, token)
			cycles++
		case "R":
			if holder != who {
				violations = append(violations, fmt.Sprintf("line %d: %s released while %q held", n, who, holder))
			}
			holder = ""
		}
	}
	require.NoError(t, s.Err())
	return cycles, violations
}

// runContenders runs procs real processes doing cycles acquire/release
// rounds each on one folder, and returns what the log and counter show.
func runContenders(t *testing.T, procs, cycles int, nolock bool) (logged int, violations []string, counter int) {
	dir := t.TempDir()
	logPath, counterPath := filepath.Join(dir, "log"), filepath.Join(dir, "counter")
	flag := "NOLOCK=0"
	if nolock {
		flag = "NOLOCK=1"
	}
	var wg sync.WaitGroup
	for i := 0; i < procs; i++ {
		c := startChild(t, "cycles", "", "DIR="+filepath.Join(dir, "index"), "LEASE=5s",
			"CYCLES="+strconv.Itoa(cycles), "LOG="+logPath, "COUNTER="+counterPath, flag)
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.cmd.Wait())
		}()
	}
	wg.Wait()
	logged, violations = checkLog(t, logPath)
	b, err := os.ReadFile(counterPath)
	require.NoError(t, err)
	counter, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	return logged, violations, counter
}

// Eight processes, 200 cycles each, on a local disk: no overlap, tokens
// grow, no lost increment.
func TestMultiProcessExclusion(t *testing.T) {
	procs, cycles := 8, 200
	if testing.Short() {
		cycles = 50
	}
	start := time.Now()
	logged, violations, counter := runContenders(t, procs, cycles, false)
	t.Logf("FIGURE exclusion_local procs=%d cycles=%d violations=%d counter=%d seconds=%.1f",
		procs, logged, len(violations), counter, time.Since(start).Seconds())
	assert.Equal(t, procs*cycles, logged)
	assert.Empty(t, violations)
	assert.Equal(t, procs*cycles, counter, "an increment was lost: two holders at once")
}

// The control: the same run without the lock must be caught, or the check
// above proves nothing.
func TestMultiProcessExclusionControl(t *testing.T) {
	logged, violations, counter := runContenders(t, 8, 50, true)
	t.Logf("FIGURE exclusion_control procs=8 cycles=%d violations=%d counter=%d", logged, len(violations), counter)
	assert.NotEmpty(t, violations, "the checker did not catch unlocked contenders")
	assert.Less(t, counter, 8*50, "unlocked contenders lost no increment")
}

// Many waiters racing for one dead holder's lease: exactly one wins.
func TestRaceForDeadHolder(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "crash", "", "DIR="+dir, "LEASE=30s")
	c.expect(t, "acquired 1", 10*time.Second)
	require.NoError(t, c.cmd.Wait())
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
		_ = c.cmd.Wait()
		deadPIDOnce.pid = c.cmd.Process.Pid
	})
	return deadPIDOnce.pid
}
