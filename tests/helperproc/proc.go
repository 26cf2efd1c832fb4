package helperproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ErrExited is returned by Line when the child has exited and every line it
// printed has been read.
var ErrExited = errors.New("helper process exited")

// ErrTimeout is returned when a child did not print or exit in time.
var ErrTimeout = errors.New("helper process timed out")

// Option configures a helper process.
type Option func(*config)

type config struct {
	exe     string
	args    []string
	env     []string
	prepare []func(*exec.Cmd)
	stderr  io.Writer
	grace   time.Duration
}

// Param passes the parameter name (read with Value) to the child.
func Param(name, value string) Option {
	return func(c *config) { c.env = append(c.env, ParamPrefix+name+"="+value) }
}

// Env adds raw KEY=VALUE entries to the child's environment (for variables
// the code under test reads itself).
func Env(kv ...string) Option {
	return func(c *config) { c.env = append(c.env, kv...) }
}

// Exe runs program with args instead of this program re-executed.
func Exe(program string, args ...string) Option {
	return func(c *config) { c.exe, c.args = program, args }
}

// Prepare lets f change the command before it starts: wrap it in another
// program (another host's namespaces), set its SysProcAttr.
func Prepare(f func(*exec.Cmd)) Option {
	return func(c *config) { c.prepare = append(c.prepare, f) }
}

// Stderr also copies the child's stderr to w as it comes (it is kept
// either way).
func Stderr(w io.Writer) Option {
	return func(c *config) { c.stderr = w }
}

// Grace is how long Stop and a test's cleanup wait for the child to exit
// after closing its stdin before they kill it (default 0: kill at once).
func Grace(d time.Duration) Option {
	return func(c *config) { c.grace = d }
}

// Command returns the command that runs role with opts, for a caller that
// runs and waits for it itself (under strace, timed). Its Stdin, Stdout and
// Stderr are unset.
func Command(role string, opts ...Option) (*exec.Cmd, error) {
	cmd, _, err := command(role, opts)
	return cmd, err
}

func command(role string, opts []Option) (*exec.Cmd, *config, error) {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	if c.exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, nil, fmt.Errorf("helper %s: %w", role, err)
		}
		c.exe = exe
	}
	cmd := exec.Command(c.exe, c.args...)
	cmd.Env = append(append(withoutHelperEnv(os.Environ()), RoleEnv+"="+role), c.env...)
	setParentDeath(cmd)
	for _, f := range c.prepare {
		f(cmd)
	}
	return cmd, c, nil
}

// withoutHelperEnv drops this process's own role and parameters: a helper
// that starts a helper must not pass on what was meant for itself.
func withoutHelperEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, ParamPrefix) {
			out = append(out, kv)
		}
	}
	return out
}

// Proc is a running helper process. It is not reaped until Wait, Kill or
// Stop: a child that died stays a zombie until then, as a holder's process
// does whose parent has not looked yet.
type Proc struct {
	Role   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	sendMu sync.Mutex // one command line at a time
	stdout io.ReadCloser
	errOut io.ReadCloser
	grace  time.Duration

	mu      sync.Mutex
	lines   []string // every stdout line so far
	next    int      // the first line Line has not returned
	stderr  strings.Builder
	changed chan struct{} // closed and replaced when a line arrives or stdout closes
	eof     chan struct{} // closed when the child's stdout is read to its end
	errDone chan struct{} // closed when its stderr is

	reap  sync.Once
	done  chan struct{}    // closed once the child is reaped and its output read
	state *os.ProcessState // once done
	err   error            // the exit status as an error (nil for 0), once done
}

// Start starts role in a child process.
func Start(role string, opts ...Option) (*Proc, error) {
	cmd, c, err := command(role, opts)
	if err != nil {
		return nil, err
	}
	p := &Proc{Role: role, cmd: cmd, grace: c.grace, changed: make(chan struct{}),
		eof: make(chan struct{}), errDone: make(chan struct{}), done: make(chan struct{})}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("helper %s: %w", role, err)
	}
	if p.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("helper %s: %w", role, err)
	}
	if p.errOut, err = cmd.StderrPipe(); err != nil {
		return nil, fmt.Errorf("helper %s: %w", role, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("helper %s: start: %w", role, err)
	}
	go p.readLines(p.stdout)
	go func() {
		defer close(p.errDone)
		var w io.Writer = stderrWriter{p}
		if c.stderr != nil {
			w = io.MultiWriter(w, c.stderr)
		}
		_, _ = io.Copy(w, p.errOut)
	}()
	return p, nil
}

// readLines splits the child's stdout into lines until it closes.
func (p *Proc) readLines(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		p.mu.Lock()
		if line != "" {
			p.lines = append(p.lines, strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			close(p.eof)
		}
		p.notify()
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// startReaping reaps the child in the background. The pipes are read to
// their end first; a process the child left behind that keeps them open
// gets a few seconds, then they are closed under it.
func (p *Proc) startReaping() {
	p.reap.Do(func() {
		go func() {
			state, err := p.cmd.Process.Wait()
			late := time.AfterFunc(5*time.Second, func() {
				_ = p.stdout.Close()
				_ = p.errOut.Close()
			})
			<-p.eof
			<-p.errDone
			late.Stop()
			_ = p.stdout.Close()
			_ = p.errOut.Close()
			_ = p.stdin.Close()
			p.state = state
			if err == nil && !state.Success() {
				err = &exec.ExitError{ProcessState: state}
			}
			p.err = err
			close(p.done)
		}()
	})
}

type stderrWriter struct{ p *Proc }

func (w stderrWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

// notify wakes the waiters; p.mu is held.
func (p *Proc) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Process is the child's process, to signal it.
func (p *Proc) Process() *os.Process { return p.cmd.Process }

// Send writes one command line to the child's stdin.
func (p *Proc) Send(line string) error {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		return fmt.Errorf("helper %s (pid %d): send %q: %w", p.Role, p.Pid(), line, err)
	}
	return nil
}

// CloseStdin tells the child to stop (see AwaitStop).
func (p *Proc) CloseStdin() error { return p.stdin.Close() }

// Line returns the child's next stdout line, waiting at most timeout
// (0: without limit). After the last line of a child that has exited it
// returns an error wrapping ErrExited, with the child's exit status and
// stderr.
func (p *Proc) Line(timeout time.Duration) (string, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		p.mu.Lock()
		if p.next < len(p.lines) {
			line := p.lines[p.next]
			p.next++
			p.mu.Unlock()
			return line, nil
		}
		exited := isClosed(p.eof)
		ch := p.changed
		p.mu.Unlock()
		if exited {
			return "", fmt.Errorf("%w: %s", ErrExited, p.describe())
		}
		select {
		case <-ch:
		case <-expired:
			return "", fmt.Errorf("%w: no line within %v from %s", ErrTimeout, timeout, p.describe())
		}
	}
}

// Drain skips the lines printed so far and not yet read.
func (p *Proc) Drain() {
	p.mu.Lock()
	p.next = len(p.lines)
	p.mu.Unlock()
}

// Lines returns every line the child has printed on stdout so far, read
// by Line or not.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Exited is closed once the child has closed its stdout: it has exited
// (or left a process of its own holding it).
func (p *Proc) Exited() <-chan struct{} { return p.eof }

// Wait waits at most timeout (0: without limit) for the child to exit and
// returns its exit status as an error (nil for 0), with its stderr. On
// timeout it kills the child and returns an error wrapping ErrTimeout.
func (p *Proc) Wait(timeout time.Duration) error {
	p.startReaping()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-p.done:
	case <-expired:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%w: still running after %v, killed: %s", ErrTimeout, timeout, p.describe())
	}
	if p.err != nil {
		return &exitError{err: p.err, msg: p.describe()}
	}
	return nil
}

// exitError is a child's failure: its exit status (errors.As finds the
// *exec.ExitError) described with its stderr.
type exitError struct {
	err error
	msg string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the child's exit code once it has exited (-1 if a signal
// ended it), or -1 while it runs.
func (p *Proc) ExitCode() int {
	if !isClosed(p.done) {
		return -1
	}
	return p.state.ExitCode()
}

// Kill kills the child and reaps it. (Process().Kill() kills it and leaves
// it a zombie until Wait.)
func (p *Proc) Kill() error {
	err := p.cmd.Process.Kill()
	p.startReaping()
	<-p.done
	return err
}

// Stop closes the child's stdin, waits the grace period for it to exit and
// then kills it.
func (p *Proc) Stop() {
	_ = p.stdin.Close()
	if p.grace > 0 {
		p.startReaping()
		select {
		case <-p.done:
			return
		case <-time.After(p.grace):
		}
	}
	_ = p.Kill()
}

// Stderr is what the child has written to stderr so far.
func (p *Proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// describe names the child, its state and its stderr, for an error.
func (p *Proc) describe() string {
	state := "running"
	if isClosed(p.eof) {
		state = "exited"
	}
	if isClosed(p.done) {
		state = "exit status 0"
		if p.err != nil {
			state = p.err.Error()
		}
	}
	s := fmt.Sprintf("helper %s (pid %d, %s)", p.Role, p.Pid(), state)
	if e := strings.TrimSpace(p.Stderr()); e != "" {
		s += "; stderr:\n" + tail(e, 4000)
	}
	return s
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
