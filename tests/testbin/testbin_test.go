package testbin

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sh runs its first argument as a shell script.
var sh = Bin{Path: "sh", Args: []string{"-c"}}

func TestRunCapturesCodeAndOutput(t *testing.T) {
	r := sh.Command(`echo "out $X"; echo err >&2; exit 3`).With("X=set").Run(t)
	assert.Equal(t, 3, r.Code)
	assert.Equal(t, "out set\n", r.Stdout)
	assert.Equal(t, "err\n", r.Stderr)

	var v struct{ A int }
	sh.Command(`echo '{"a":7}'`).Run(t).JSON(t, &v)
	assert.Equal(t, 7, v.A)
}

func TestStartSignalWait(t *testing.T) {
	p := sh.Command(`echo started; exec sleep 60`).Start(t)
	require.Eventually(t, func() bool { return p.Stdout() == "started\n" }, 10*time.Second, time.Millisecond)
	p.Signal(t, syscall.SIGKILL)
	assert.Equal(t, -1, p.Wait(t, 10*time.Second))
	assert.True(t, p.Signaled(syscall.SIGKILL))
}

func TestStoppedAndResumed(t *testing.T) {
	p := sh.Command(`kill -STOP $$; echo resumed >&2; exit 5`).Start(t)
	p.WaitStopped(t)
	states := StoppedOrGone(p.Pid(), time.Second)
	require.NotEmpty(t, states)
	assert.Equal(t, byte('T'), states[len(states)-1], "states seen: %s", states)
	assert.Equal(t, 5, p.Resume(t, 10*time.Second))
	assert.Equal(t, "resumed\n", p.Stderr())
}
