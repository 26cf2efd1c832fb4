package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// stopsAtOnce: terminate sends SIGTERM; kill comes later.
const stopsAtOnce = false

// childSys is the Linux part of a child: its process group.
type childSys struct {
	pgid int // the sentinel's pid: it leads the group until the end
	tty  int // the controlling terminal (stdin), or -1

	cmds    chan *exec.Cmd // to own: the command to start; closed by abort
	started chan error     // from own: the command's start, or the abort, done

	mu   sync.Mutex
	gone bool // the group was killed for good: once the sentinel is reaped, pgid may be reused
}

// newChild starts the sentinel (see sentinel_linux.go) of a new process
// group, while tguard acquires the lease: its start then costs the lease
// nothing.
func newChild() *child {
	c := &child{exited: make(chan error, 1), sys: childSys{
		tty: -1, cmds: make(chan *exec.Cmd), started: make(chan error, 1),
	}}
	go c.own()
	return c
}

// start starts cmd in the group, with a parent-death SIGKILL, and returns
// once it runs.
func (c *child) start(cmd *exec.Cmd) error {
	c.cmd = cmd
	c.sys.cmds <- cmd
	return <-c.sys.started
}

// abort ends a child whose command will not run.
func (c *child) abort() {
	close(c.sys.cmds)
	<-c.sys.started
}

// own starts the sentinel and the command, then waits for them, all on one
// OS thread: the kernel sends the parent-death signal when the thread that
// forked exits, not the process (go.dev/issue/27505), and Go ends a thread
// whose goroutine exits while locked to it. So the goroutine that forks
// stays locked to its thread until both are reaped, and no other goroutine
// can run on (and end) that thread meanwhile.
func (c *child) own() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	s, err := startSentinel()
	if err == nil {
		c.sys.pgid = s.pid()
	}
	cmd, ok := <-c.sys.cmds
	switch {
	case !ok && err == nil:
		c.sys.end()
		_ = s.wait()
		c.sys.started <- nil
		return
	case !ok || err != nil:
		c.sys.started <- err
		return
	}
	attr := &syscall.SysProcAttr{Setpgid: true, Pgid: c.sys.pgid, Pdeathsig: syscall.SIGKILL}
	tty, fg := controllingTTY()
	if fg {
		// A process group that is not the terminal's foreground group
		// gets SIGTTIN when it reads the terminal and Ctrl-C does not
		// reach it: give the terminal to the command's group, as a shell
		// gives it to a job. tguard then is a background process; it
		// ignores SIGTTOU below so that its messages and its taking the
		// terminal back are not stopped.
		attr.Foreground, attr.Ctty = true, tty
	}
	c.sys.tty = tty
	cmd.SysProcAttr = attr
	startErr := cmd.Start()
	// All forks are done: ignoring SIGTTOU no longer reaches a child.
	if tty >= 0 {
		signal.Ignore(syscall.SIGTTOU)
	}
	if startErr != nil {
		// The command may have taken the terminal before its exec failed.
		c.sys.restoreTTY()
		c.sys.end()
		_ = s.wait()
		c.sys.started <- startErr
		return
	}
	c.sys.started <- nil

	var relayed chan struct{}
	if tty >= 0 {
		relayed = make(chan struct{})
		go func() { defer close(relayed); c.relayStops() }()
	}
	err = cmd.Wait()
	// The command has exited, but what it started may still run in its
	// group, and the lease is still held: end them before it is released.
	c.sys.end()
	if err := s.wait(); err != nil {
		fmt.Fprintf(os.Stderr, "tguard: warning: %v\n", err)
	}
	if relayed != nil {
		<-relayed
		c.sys.restoreTTY()
	}
	c.exited <- err
}

// signal passes sig on to the whole group.
func (c *child) signal(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		c.sys.kill(s)
	}
}

// terminate asks the whole group to stop: SIGTERM, then SIGCONT so that a
// stopped process acts on it.
func (c *child) terminate() {
	c.sys.kill(syscall.SIGTERM)
	c.sys.kill(syscall.SIGCONT)
}

// kill ends the whole group.
func (c *child) kill() { c.sys.kill(syscall.SIGKILL) }

func (s *childSys) kill(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gone {
		_ = syscall.Kill(-s.pgid, sig)
	}
}

// end kills the whole group, sentinel included, and sends it nothing
// after: once the sentinel is reaped, the group's id may be given to
// another process.
func (s *childSys) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gone {
		_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
	}
	s.gone = true
}

// controllingTTY returns stdin's descriptor if it is tguard's controlling
// terminal (else -1), and whether tguard's group is its foreground group.
// Only then does the command get the terminal: started in the background
// ("tguard ... &"), tguard must not take it from the shell.
func controllingTTY() (fd int, foreground bool) {
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	if err != nil {
		return -1, false // not a terminal, or not ours
	}
	return 0, pgrp == unix.Getpgrp()
}

// restoreTTY takes the terminal back from the command's group, if it still
// has it, so that the shell finds it where it left it.
func (s *childSys) restoreTTY() {
	if s.tty < 0 {
		return
	}
	if pgrp, err := unix.IoctlGetInt(s.tty, unix.TIOCGPGRP); err == nil && pgrp == s.pgid {
		_ = unix.IoctlSetPointerInt(s.tty, unix.TIOCSPGRP, unix.Getpgrp())
	}
}
