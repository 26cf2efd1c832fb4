package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/tguard/tguard/tests/prereq"
	"github.com/tguard/tguard/tests/testbin"
)

// A "lock exec" command, and what it starts, must not
// outlive its holder's lease. The commands below write heartbeats: the
// time (nanoseconds since the epoch, from date(1)) to a file every 50 ms,
// from the command itself and from a grandchild it starts in the
// background. A heartbeat's time is taken before it is written, so the
// last one on disk bounds when that process last ran. Each is written to a
// new file renamed over the last: a process killed between date's
// truncation and its write would otherwise leave no heartbeat at all.

// beats is the shell body of a command: a grandchild writes grand.hb, the
// command writes child.hb; each records its pid (*.pid) and, if it gets
// SIGTERM, the time of each in *.term (and goes on: it ignores SIGTERM).
const beats = `
sh -c 'trap "date +%s%N >> grand.term" TERM; echo $$ > grand.pid
while :; do date +%s%N > grand.hb.new && mv -f grand.hb.new grand.hb; sleep 0.05; done' &
trap 'date +%s%N >> child.term' TERM; echo $$ > child.pid
while :; do date +%s%N > child.hb.new && mv -f child.hb.new child.hb; sleep 0.05; done
`

var beatFiles = []string{"child.hb", "grand.hb"}

// execRun is a running "tguard lock exec" whose stderr lines are kept with
// the time each arrived.
type execRun struct {
	cmd   *testbin.Proc
	mu    sync.Mutex
	lines []stampedLine
	eof   chan struct{}
}

type stampedLine struct {
	at   time.Time
	text string
}

// startExec starts "tguard lock exec --index work/ix ARGS -- sh -c SCRIPT"
// in work. Cleanup kills tguard's group and every process whose pid the
// script recorded in work/*.pid, whatever tguard did with them.
func startExec(t *testing.T, work string, args []string, script string) *execRun {
	t.Helper()
	all := append([]string{"lock", "exec", "--index", filepath.Join(work, "ix")}, args...)
	all = append(all, "--", "sh", "-c", script)
	cmd := tguardBin.Command(all...)
	cmd.Dir = work
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A pipe of our own, to stamp each line as it arrives (the runner's
	// file would not say when).
	stderr, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stderr = w
	r := &execRun{cmd: cmd.Start(t), eof: make(chan struct{})}
	w.Close()
	go func() {
		defer close(r.eof)
		defer stderr.Close()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.mu.Lock()
			r.lines = append(r.lines, stampedLine{time.Now(), sc.Text()})
			r.mu.Unlock()
		}
	}()
	// Runs before the runner's cleanup (which kills tguard's group).
	t.Cleanup(func() {
		pids, _ := filepath.Glob(filepath.Join(work, "*.pid"))
		for _, f := range pids {
			if b, err := os.ReadFile(f); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	})
	return r
}

// wait waits up to d for tguard to exit and returns its exit code.
func (r *execRun) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.cmd.Done():
	case <-time.After(d):
		t.Fatalf("tguard lock exec still runs after %v; stderr:\n%s", d, r.stderr())
	}
	// What tguard wrote is in the pipe; a survivor may hold it open.
	select {
	case <-r.eof:
	case <-time.After(500 * time.Millisecond):
	}
	return r.cmd.Wait(t, 0)
}

// line returns the first stderr line containing s and when it arrived.
func (r *execRun) line(s string) (stampedLine, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if strings.Contains(l.text, s) {
			return l, true
		}
	}
	return stampedLine{}, false
}

func (r *execRun) stderr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, l := range r.lines {
		fmt.Fprintf(&b, "%s %s\n", l.at.Format("15:04:05.000"), l.text)
	}
	return b.String()
}

// stamps reads the times a script wrote to path, one a line; none if the
// file does not exist. A line being written is left out.
func stamps(t *testing.T, path string) []time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var ts []time.Time
	for _, f := range strings.Split(string(b), "\n") {
		if n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64); err == nil && n > 1e18 {
			ts = append(ts, time.Unix(0, n))
		}
	}
	return ts
}

// lastBeat is the time of the last heartbeat in path, waiting for the first.
func lastBeat(t *testing.T, path string) time.Time {
	t.Helper()
	var ts []time.Time
	require.Eventually(t, func() bool { ts = stamps(t, path); return len(ts) > 0 }, 10*time.Second, 5*time.Millisecond,
		"no heartbeat in %s", path)
	return ts[len(ts)-1]
}

// beating waits until every heartbeat file of work has been written.
func beating(t *testing.T, work string) {
	t.Helper()
	for _, f := range beatFiles {
		lastBeat(t, filepath.Join(work, f))
	}
}

// stillAfter checks that no heartbeat of work is later than limit, and that
// none is written any more.
func stillAfter(t *testing.T, work string, limit time.Time, what string) {
	t.Helper()
	last := map[string]time.Time{}
	for _, f := range beatFiles {
		last[f] = lastBeat(t, filepath.Join(work, f))
		assert.True(t, last[f].Before(limit), "%s: last beat %v after %s",
			f, last[f].Sub(limit).Round(time.Millisecond), what)
	}
	time.Sleep(300 * time.Millisecond)
	for _, f := range beatFiles {
		assert.Equal(t, last[f], lastBeat(t, filepath.Join(work, f)), "%s still beats", f)
	}
}

// SIGKILL the holder: its command and the command's grandchild stop before
// a waiter, already waiting on this host, is granted the lease (the
// dead-holder fast path grants it within milliseconds).
func TestLockExecCommandDiesWithHolder(t *testing.T) {
	work := t.TempDir()
	holder := startExec(t, work, []string{"--lease", "2s"}, beats)
	beating(t, work)

	wcmd := tguardBin.Command("lock", "exec", "--index", filepath.Join(work, "ix"), "--lease", "2s",
		"--", "sh", "-c", `date +%s%N > granted`)
	wcmd.Dir = work
	waiter := wcmd.Start(t)
	time.Sleep(300 * time.Millisecond) // the waiter watches the lease

	killed := time.Now()
	require.NoError(t, holder.cmd.Process.Signal(syscall.SIGKILL))
	holder.wait(t, 10*time.Second)
	require.Equal(t, 0, waiter.Wait(t, 2*time.Minute), waiter.Stderr())
	granted := stamps(t, filepath.Join(work, "granted"))
	require.Len(t, granted, 1)
	t.Logf("waiter granted %v after the SIGKILL", granted[0].Sub(killed).Round(time.Microsecond))
	for _, f := range beatFiles {
		t.Logf("%s: last beat %v after the SIGKILL", f, lastBeat(t, filepath.Join(work, f)).Sub(killed).Round(time.Microsecond))
	}
	stillAfter(t, work, granted[0], "the next holder was granted")
}

// A renewal finds the lease broken (lock break --force): the whole group
// gets SIGTERM at once, and SIGKILL a short grace later (the commands ignore
// SIGTERM), well before the lease's deadline; tguard exits 76.
func TestLockExecLostLeaseKillsCommandBeforeDeadline(t *testing.T) {
	const lease = 2 * time.Second
	work := t.TempDir()
	holder := startExec(t, work, []string{"--lease", lease.String()}, beats)
	beating(t, work)

	r := tguard(t, nil, "lock", "break", "--index", filepath.Join(work, "ix"), "--force")
	require.Equal(t, 0, r.Code, r.Stderr)
	broken := time.Now()
	// The last renewal started before the break: the holder's deadline is
	// at most lease - lease/10 after it.
	deadline := broken.Add(lease - lease/10)

	assert.Equal(t, 76, holder.wait(t, 15*time.Second), holder.stderr())
	lost, ok := holder.line("stopping")
	require.True(t, ok, holder.stderr())
	for _, f := range []string{"child.term", "grand.term"} {
		term := stamps(t, filepath.Join(work, f))
		if !assert.NotEmpty(t, term, "%s: no SIGTERM; stderr:\n%s", f, holder.stderr()) {
			continue
		}
		t.Logf("%s: SIGTERM %v after the break, %v after tguard said the lease was lost",
			f, term[0].Sub(broken).Round(time.Millisecond), term[0].Sub(lost.at).Round(time.Millisecond))
		// At once: a renewal (every lease/3) notices, the SIGTERM follows.
		assert.Less(t, term[0].Sub(broken), lease/3+300*time.Millisecond, f)
		assert.Less(t, term[0].Sub(lost.at), 100*time.Millisecond, f)
	}
	for _, f := range beatFiles {
		last := lastBeat(t, filepath.Join(work, f))
		t.Logf("%s: last beat %v after the break, %v before the deadline at the latest",
			f, last.Sub(broken).Round(time.Millisecond), deadline.Sub(last).Round(time.Millisecond))
		// SIGKILL lease/20 after SIGTERM, with 150 ms for the scheduler.
		assert.Less(t, last.Sub(lost.at), lease/20+150*time.Millisecond, f)
	}
	stillAfter(t, work, deadline, "the lease's deadline")
}

// Renewals fail (the generation's folder is made immutable, so the next
// slot cannot be made): before the lease's deadline, the group gets
// SIGTERM lease/20 before it and SIGKILL lease/40 before it; tguard exits
// 76. Not at the first failed renewal: a renewal may still go through.
func TestLockExecUnrenewedLeaseKillsCommandBeforeDeadline(t *testing.T) {
	prereq.Root(t, "make a folder immutable (chattr +i)")
	const lease = 3 * time.Second
	work := t.TempDir()
	ix := filepath.Join(work, "ix")
	holder := startExec(t, work, []string{"--lease", lease.String()}, beats)
	beating(t, work)

	gen := generation(t, ix)
	if out, err := exec.Command("chattr", "+i", gen).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v: %s (needs root and a file system with the immutable flag)", err, out)
	}
	blocked := time.Now()
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", gen).Run() })
	// The last renewal that went through started before: the deadline is
	// at most lease - lease/10 after it, and at least that minus the
	// renewal interval (lease/3).
	deadline := blocked.Add(lease - lease/10)
	earliestTerm := deadline.Add(-lease/3 - lease/20)

	assert.Equal(t, 76, holder.wait(t, 15*time.Second), holder.stderr())
	_, ok := holder.line("lease not renewed")
	assert.True(t, ok, holder.stderr())
	for _, f := range []string{"child.term", "grand.term"} {
		term := stamps(t, filepath.Join(work, f))
		if !assert.NotEmpty(t, term, "%s: no SIGTERM; stderr:\n%s", f, holder.stderr()) {
			continue
		}
		t.Logf("%s: SIGTERM %v after renewals stopped, %v before the deadline at the latest",
			f, term[0].Sub(blocked).Round(time.Millisecond), deadline.Sub(term[0]).Round(time.Millisecond))
		assert.True(t, term[0].After(earliestTerm.Add(-100*time.Millisecond)),
			"%s: SIGTERM %v after renewals stopped: too early", f, term[0].Sub(blocked))
		assert.True(t, term[0].Before(deadline), "%s: SIGTERM after the deadline", f)
	}
	stillAfter(t, work, deadline, "the lease's deadline")
}

// SIGINT and SIGTERM sent to tguard reach the whole group, as Ctrl-C on a
// terminal does, and tguard exits with the command's code. The inner shell
// here exits 9 on SIGINT; the outer one traps SIGINT (deferred until its
// foreground command ends) and passes the code on: only if the inner shell
// gets the signal itself does the command end.
func TestLockExecSignalsReachTheGroup(t *testing.T) {
	work := t.TempDir()
	r := startExec(t, work, nil, `trap 'echo outer-int >> log' INT
sh -c 'trap "exit 9" INT; echo $$ > inner.pid; while :; do sleep 0.05; done'
code=$?; echo "inner $code" >> log; exit $code`)
	waitPID(t, filepath.Join(work, "inner.pid"))
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 9, r.wait(t, 5*time.Second), r.stderr())
	log, err := os.ReadFile(filepath.Join(work, "log"))
	require.NoError(t, err)
	assert.Equal(t, "outer-int\ninner 9\n", string(log))

	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		work := t.TempDir()
		r := startExec(t, work, nil, `echo $$ > child.pid; sleep 30 & echo $! > sleep.pid; wait`)
		sleepPID := waitPID(t, filepath.Join(work, "sleep.pid"))
		require.NoError(t, r.cmd.Process.Signal(c.sig))
		assert.Equal(t, c.code, r.wait(t, 5*time.Second), "%v: %s", c.sig, r.stderr())
		assert.Eventually(t, func() bool { s := testbin.ProcState(sleepPID); return s == 0 || s == 'Z' },
			time.Second, 5*time.Millisecond, "%v: the background sleep survived", c.sig)
	}
}

// On a terminal the command is the foreground job: it reads the terminal
// (a background group would get SIGTTIN and stop), Ctrl-C reaches it, and
// Ctrl-Z stops it and tguard, which gives the terminal back; continued,
// tguard gives it to the command again. tguard runs here as a shell runs a
// job: in its own session, with the pseudo-terminal as its controlling
// terminal.
func TestLockExecOnTerminal(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		term := startOnPTY(t, `echo "ready $TGUARD_FENCING_TOKEN"; read line; echo "got $line"; exit 7`)
		term.expect(t, "ready 1")
		term.write(t, "hello\n")
		term.expect(t, "got hello")
		assert.Equal(t, 7, term.wait(t))
	})
	t.Run("ctrl-c", func(t *testing.T) {
		term := startOnPTY(t, `echo ready; exec sleep 30`)
		term.expect(t, "ready")
		term.write(t, "\x03")
		assert.Equal(t, 130, term.wait(t))
	})
	t.Run("ctrl-z", func(t *testing.T) {
		term := startOnPTY(t, `echo ready; read line; echo "got $line"`)
		term.expect(t, "ready")
		term.write(t, "\x1a")
		testbin.WaitStopped(t, term.cmd.Process.Pid)
		pgrp, err := unix.IoctlGetInt(int(term.master.Fd()), unix.TIOCGPGRP)
		require.NoError(t, err)
		assert.Equal(t, term.cmd.Process.Pid, pgrp, "a stopped tguard has the terminal back")
		require.NoError(t, term.cmd.Process.Signal(syscall.SIGCONT)) // "fg"
		term.write(t, "again\n")
		term.expect(t, "got again")
		assert.Equal(t, 0, term.wait(t))
	})
}

type ptyRun struct {
	cmd    *testbin.Proc
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	eof    chan struct{}
}

// startOnPTY starts "tguard lock exec -- sh -c SCRIPT" in a new session
// whose controlling terminal is a new pseudo-terminal.
func startOnPTY(t *testing.T, script string) *ptyRun {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	mfd := int(master.Fd())
	require.NoError(t, unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	require.NoError(t, err)
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	p := &ptyRun{master: master, eof: make(chan struct{})}
	cmd := tguardBin.Command("lock", "exec", "--index", filepath.Join(t.TempDir(), "ix"), "--", "sh", "-c", script)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	p.cmd = cmd.Start(t)
	slave.Close()
	go func() {
		defer close(p.eof)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		master.Close()
	})
	return p
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *ptyRun) expect(t *testing.T, s string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(p.output(), s) }, 10*time.Second, 5*time.Millisecond,
		"%q not on the terminal; it shows:\n%s", s, p.output())
}

func (p *ptyRun) write(t *testing.T, s string) {
	t.Helper()
	_, err := io.WriteString(p.master, s)
	require.NoError(t, err)
}

func (p *ptyRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.cmd.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("tguard still runs; the terminal shows:\n%s", p.output())
	}
	return p.cmd.Wait(t, 0)
}

// generation is the folder of the only generation of ix's lease: the
// folder that holds its owner.json, wherever the layout puts it.
func generation(t *testing.T, ix string) string {
	t.Helper()
	owners, err := filepath.Glob(filepath.Join(ix, ".tguard-lease", "*", "owner.json"))
	require.NoError(t, err)
	deeper, err := filepath.Glob(filepath.Join(ix, ".tguard-lease", "*", "*", "owner.json"))
	require.NoError(t, err)
	owners = append(owners, deeper...)
	require.Len(t, owners, 1, "one generation expected")
	return filepath.Dir(owners[0])
}

// waitPID waits until a script has written a pid to path, and returns it.
func waitPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err == nil {
			pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		return err == nil
	}, 10*time.Second, 5*time.Millisecond, "no pid in %s", path)
	return pid
}
