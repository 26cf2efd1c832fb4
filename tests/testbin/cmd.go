package testbin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RunTimeout bounds Cmd.Run: a run still going after it is killed and
// fails the test.
const RunTimeout = 2 * time.Minute

// Cmd is one run of the binary, to configure before Run or Start: its
// exec.Cmd is there to set Dir, SysProcAttr, Stdin, or to hand to a
// function that rewrites it (smbtest.OtherHost).
type Cmd struct {
	*exec.Cmd
	// Timeout bounds Run (RunTimeout if zero).
	Timeout time.Duration
}

// Command prepares a run of b with args, in this process's environment.
func (b Bin) Command(args ...string) *Cmd {
	cmd := exec.Command(b.Path, append(append([]string(nil), b.Args...), args...)...)
	cmd.Env = os.Environ()
	return &Cmd{Cmd: cmd}
}

// With adds env (KEY=value entries) to the run's environment; later
// entries win.
func (c *Cmd) With(env ...string) *Cmd {
	c.Env = append(c.Env, env...)
	return c
}

// Prep applies f to the exec.Cmd (say, to run it on a simulated host).
func (c *Cmd) Prep(f func(*exec.Cmd)) *Cmd {
	f(c.Cmd)
	return c
}

// String is the command line, for messages.
func (c *Cmd) String() string { return strings.Join(c.Args, " ") }

// Result is a finished run.
type Result struct {
	Code           int // exit code; -1 if a signal ended it
	Stdout, Stderr string
	Took           time.Duration
}

// JSON requires exit 0 and decodes stdout into v.
func (r Result) JSON(t testing.TB, v any) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0: %s", r.Code, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("decoding the JSON output: %v\n%s", err, r.Stdout)
	}
}

// Run runs the command to its end (at most Timeout) and returns its exit
// code and output. A command that cannot start fails the test. Stdout or
// Stderr set by the caller are left alone (that output is then not in the
// Result).
func (c *Cmd) Run(t testing.TB) Result {
	t.Helper()
	var out, errb bytes.Buffer
	if c.Stdout == nil {
		c.Stdout = &out
	}
	if c.Stderr == nil {
		c.Stderr = &errb
	}
	start := time.Now()
	if err := c.Cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", c, err)
	}
	limit := c.Timeout
	if limit == 0 {
		limit = RunTimeout
	}
	timer := time.AfterFunc(limit, func() { _ = c.Process.Kill() })
	err := c.Wait()
	timedOut := !timer.Stop()
	r := Result{Code: exitCode(err, c.ProcessState), Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	if timedOut {
		t.Fatalf("%s still ran after %v\nstdout: %s\nstderr: %s", c, limit, r.Stdout, r.Stderr)
	}
	return r
}

// Output runs the command, requires exit 0 and returns its stdout.
func (c *Cmd) Output(t testing.TB) string {
	t.Helper()
	r := c.Run(t)
	if r.Code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", c, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// exitCode is the exit code Wait's err and state give: -1 for a signal.
func exitCode(err error, st *os.ProcessState) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	case st != nil:
		return st.ExitCode()
	}
	return -1
}

// CommandContext is Command whose process is killed when ctx is done.
func (b Bin) CommandContext(ctx context.Context, args ...string) *Cmd {
	cmd := exec.CommandContext(ctx, b.Path, append(append([]string(nil), b.Args...), args...)...)
	cmd.Env = os.Environ()
	return &Cmd{Cmd: cmd}
}
