//go:build linux

package windows

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heartbeatsStopped reports whether none of the files changes within d.
func heartbeatsStopped(files []string, d time.Duration) bool {
	read := func() (s []string) {
		for _, f := range files {
			b, _ := os.ReadFile(f)
			s = append(s, string(b))
		}
		return s
	}
	before := read()
	time.Sleep(d)
	after := read()
	for i := range before {
		if before[i] != after[i] {
			return false
		}
	}
	return true
}

func waitForFiles(t *testing.T, files []string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, f := range files {
			if _, err := os.Stat(f); err != nil {
				return false
			}
		}
		return true
	}, within, 50*time.Millisecond, "the command did not start: %v", files)
}

// A lease broken while tguard.exe lock exec runs its command: the command
// and what it started (a job object) are ended at the next renewal, and
// tguard.exe exits 76 well before the lease would have run out.
func TestWineLockExecEndsCommandOnLeaseLoss(t *testing.T) {
	ctx := withTimeout(t, 2*time.Minute)
	dir, beats := t.TempDir(), t.TempDir()
	files := []string{filepath.Join(beats, "cmd"), filepath.Join(beats, "grandchild")}
	const lease = 6 * time.Second
	cmd := wineCmd(ctx, []string{"TGUARD_HEARTBEAT=" + winPath(files[0]), "TGUARD_HEARTBEAT_CHILD=" + winPath(files[1])},
		"lock", "exec", "--index", winPath(dir), "--lease", lease.String(), "--", winPath(contenderWin))
	exited := make(chan int, 1)
	var stderr safeBuffer
	cmd.Stderr = &stderr
	p := cmd.Start(t)
	go func() { <-p.Done(); exited <- p.ProcessState.ExitCode() }()
	waitForFiles(t, files, 30*time.Second)

	broke := time.Now()
	linuxCmd(ctx, nil, "lock", "break", "--force", "--index", dir).Output(t)
	select {
	case code := <-exited:
		took := time.Since(broke)
		t.Logf("FIGURE wine_lease_loss exit=%d after_break_ms=%d", code, took.Milliseconds())
		assert.Equal(t, 76, code, "stderr: %s", stderr.String())
		// Renewals run every lease/3: the loss is seen within one, and the
		// command is ended at once (no SIGTERM grace on Windows).
		assert.Less(t, took, lease/3+2*time.Second, "the command ran on after the loss")
		assert.Contains(t, stderr.String(), "lease lost")
	case <-time.After(lease + 10*time.Second):
		t.Fatalf("tguard.exe still running %v after its lease was broken; stderr: %s", lease+10*time.Second, stderr.String())
	}
	assert.True(t, heartbeatsStopped(files, time.Second), "the command or its child still runs")
}
