package testbin

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Proc is a command started in the background. Unless the caller set them,
// its stdout and stderr go to files the process writes directly, so they
// can be read at any moment (also while it is stopped) and Wait does not
// wait for a pipe that a child of the process may keep open.
type Proc struct {
	*Cmd
	outPath, errPath string
	done             chan struct{}
	err              error // valid once done is closed
}

// Start starts the command. When t ends, the process (its whole group if
// it was started with Setpgid) is killed, continued if it was stopped, and
// waited for.
func (c *Cmd) Start(t testing.TB) *Proc {
	t.Helper()
	p := &Proc{Cmd: c, done: make(chan struct{})}
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		require.NoError(t, err)
		return f
	}
	var files []*os.File
	if c.Stdout == nil {
		f := open("stdout")
		c.Stdout, p.outPath, files = f, f.Name(), append(files, f)
	}
	if c.Stderr == nil {
		f := open("stderr")
		c.Stderr, p.errPath, files = f, f.Name(), append(files, f)
	}
	if c.WaitDelay == 0 {
		// A writer of the caller's is fed by a copying goroutine: a child
		// left behind holding the pipe must not keep Wait (and cleanup)
		// waiting for ever.
		c.WaitDelay = 5 * time.Second
	}
	err := c.Cmd.Start()
	for _, f := range files {
		f.Close() // the process has its own copy
	}
	require.NoError(t, err, "starting %s", c)
	go func() { p.err = c.Wait(); close(p.done) }()
	t.Cleanup(func() {
		pid := c.Process.Pid
		if c.SysProcAttr != nil && c.SysProcAttr.Setpgid {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		_ = c.Process.Kill()
		_ = c.Process.Signal(syscall.SIGCONT)
		<-p.done
	})
	return p
}

// Pid is the process's id.
func (p *Proc) Pid() int { return p.Process.Pid }

// Stdout is what the process wrote to stdout so far ("" if the caller
// set its own Stdout).
func (p *Proc) Stdout() string { return readOut(p.outPath) }

// Stderr is what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return readOut(p.errPath) }

func readOut(path string) string {
	if path == "" {
		return ""
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// Signal sends sig to the process and fails the test if it cannot.
func (p *Proc) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	require.NoError(t, p.Process.Signal(sig), "signal %v to %s", sig, p.Cmd)
}

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits at most d for the process to exit and returns its exit code
// (-1 if a signal ended it). Still running after d fails the test.
func (p *Proc) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	default:
		select {
		case <-p.done:
		case <-time.After(d):
			t.Fatalf("%s still runs after %v\nstderr: %s", p.Cmd, d, p.Stderr())
		}
	}
	return exitCode(p.err, p.ProcessState)
}

// Err is what exec.Cmd.Wait returned; valid once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Signaled reports whether sig ended the process (once it has exited).
func (p *Proc) Signaled(sig syscall.Signal) bool {
	<-p.done
	ws, ok := p.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// WaitStopped waits until the process is stopped (SIGSTOP, or its own
// failpoint, took effect).
func (p *Proc) WaitStopped(t testing.TB) {
	t.Helper()
	WaitStopped(t, p.Pid())
}

// Resume continues a stopped process and waits (at most d) for its exit
// code.
func (p *Proc) Resume(t testing.TB, d time.Duration) int {
	t.Helper()
	p.Signal(t, syscall.SIGCONT)
	return p.Wait(t, d)
}

// WaitStopped waits until process pid is stopped (SIGSTOP took effect).
func WaitStopped(t testing.TB, pid int) {
	t.Helper()
	require.Eventually(t, func() bool { return ProcState(pid) == 'T' }, 60*time.Second, 5*time.Millisecond,
		"process %d did not stop", pid)
}

// StoppedOrGone waits until process pid is stopped (state T in /proc,
// twice 20 ms apart), or has exited, or timeout passes, and returns the
// states it saw in order, without repeats (the last is the state it ended
// in; '-' is gone).
func StoppedOrGone(pid int, timeout time.Duration) string {
	var seen []byte
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		st := ProcState(pid)
		if st == 0 {
			st = '-'
		}
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if st == 'Z' || st == '-' {
			break
		}
		if st == 'T' {
			time.Sleep(20 * time.Millisecond)
			if ProcState(pid) == 'T' {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return string(seen)
}

// ProcState is the state letter of pid in /proc (R, S, T, Z...), 0 if gone.
func ProcState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || len(s) < i+3 {
		return 0
	}
	return s[i+2]
}
