package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tguard/tguard/tests/testbin"
)

type lockStatus struct {
	Held        bool   `json:"held"`
	State       string `json:"state"`
	Owner       string `json:"owner"`
	Hostname    string `json:"hostname"`
	PID         int    `json:"pid"`
	Token       uint64 `json:"token"`
	ExpiresInMS *int64 `json:"expires_in_ms"`
	HolderDead  bool   `json:"holder_dead"`
	RecordError string `json:"record_error"`
}

func status(t *testing.T, ix string) lockStatus {
	t.Helper()
	r := tguard(t, nil, "lock", "status", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var s lockStatus
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &s), r.Stdout)
	require.NotNil(t, s.ExpiresInMS, "expires_in_ms is part of the contract")
	return s
}

// holder starts "tguard lock exec ... -- sh -c 'echo ready; sleep 60'" and
// waits until the command runs. It has its own process group, so that
// cleanup also ends the command when a test killed tguard alone.
func holder(t *testing.T, ix string, args ...string) *testbin.Proc {
	t.Helper()
	all := append([]string{"lock", "exec", "--index", ix}, args...)
	all = append(all, "--", "sh", "-c", `echo "ready $TGUARD_FENCING_TOKEN"; exec sleep 60`)
	cmd := tguardBin.Command(all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := cmd.Start(t)
	require.Eventually(t, func() bool {
		select {
		case <-p.Done():
			return true
		default:
			return strings.Contains(p.Stdout(), "\n")
		}
	}, time.Minute, time.Millisecond, "the holder's command did not start: %s", p.Stderr())
	require.True(t, strings.HasPrefix(p.Stdout(), "ready "), p.Stdout())
	return p
}

func TestLockExecRunsWithTokenAndPassesExitCode(t *testing.T) {
	ix := filepath.Join(t.TempDir(), "not", "yet", "there")
	// A folder that does not exist has no lease: an error, never "free".
	r := tguard(t, nil, "lock", "status", "--index", ix)
	assert.Equal(t, 1, r.Code, r.Stdout)
	assert.Contains(t, r.Stderr, "does not exist")

	r = tguard(t, nil, "lock", "exec", "--index", ix, "--owner", "job-7", "--",
		"sh", "-c", `echo "$TGUARD_FENCING_TOKEN $TGUARD_OWNER"; exit 3`)
	assert.Equal(t, 3, r.Code, r.Stderr)
	assert.Equal(t, "1 job-7\n", r.Stdout)

	r = tguard(t, nil, "lock", "exec", "--index", ix, "--", "sh", "-c", `echo $TGUARD_FENCING_TOKEN`)
	assert.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, "2\n", r.Stdout, "every grant has a greater token")
	s := status(t, ix)
	assert.False(t, s.Held)
	assert.Equal(t, "released", s.State)

	r = tguard(t, nil, "lock", "exec", "--index", ix, "--", "/no/such/program")
	assert.Equal(t, 1, r.Code)
	assert.Contains(t, r.Stderr, "/no/such/program")
}

func TestLockExecWaitTimesOutWith75(t *testing.T) {
	ix := t.TempDir()
	holder(t, ix, "--owner", "first")
	s := status(t, ix)
	assert.True(t, s.Held)
	assert.Equal(t, "first", s.Owner)
	assert.Greater(t, *s.ExpiresInMS, int64(0))

	start := time.Now()
	r := tguard(t, nil, "lock", "exec", "--index", ix, "--wait", "300ms", "--", "true")
	assert.Equal(t, 75, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "first", "the message names the holder")
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestLockExecLeaseLostGives76(t *testing.T) {
	ix := t.TempDir()
	cmd := holder(t, ix, "--lease", "600ms")
	r := tguard(t, nil, "lock", "break", "--index", ix)
	assert.Equal(t, 1, r.Code, "a live holder is not provably dead")
	assert.Contains(t, r.Stderr, "not provably dead")

	r = tguard(t, nil, "lock", "break", "--index", ix, "--force", "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stderr, "warning")

	select {
	case <-cmd.Done():
		assert.Equal(t, 76, cmd.Wait(t, 0))
	case <-time.After(10 * time.Second):
		t.Fatal("lock exec did not notice the lost lease")
	}
}

func TestLockBreakDeadHolder(t *testing.T) {
	ix := t.TempDir()
	cmd := holder(t, ix)
	// Kill tguard itself (not its command): a holder that died on this host.
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-cmd.Done()
	s := status(t, ix)
	assert.True(t, s.Held)
	assert.True(t, s.HolderDead)

	r := tguard(t, nil, "lock", "break", "--index", ix, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	var after lockStatus
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &after))
	assert.False(t, after.Held)
	assert.Equal(t, "expired", after.State)

	// And a waiter would not have needed the break: a dead holder on this
	// host is taken over at once.
	holder(t, ix)
	assert.Contains(t, tguardBin.Command("lock", "status", "--index", ix).Output(t), "held by")
}
