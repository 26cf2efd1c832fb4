package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The sentinel leads a "lock exec" command's process group so that the
// whole group dies with tguard. The command's parent-death SIGKILL ends the
// command alone: what it started (a pipeline, a background job) is
// reparented and runs on, and nothing is left to kill the group once tguard
// is dead (PR_SET_CHILD_SUBREAPER on tguard would not help: it dies too).
// So a second process in the group does it: the sentinel, tguard itself
// started again with sentinelArg, reads a pipe whose only writer is tguard;
// the read ends when tguard closes it or dies (the kernel closes a dead
// process's files), and then the sentinel kills its own group. It ignores
// the signals a terminal or tguard sends to the group, and it pins the
// group's id, which the kernel does not give to another process while it
// lives, so tguard's kill(-pgid) never reaches another group.
const sentinelArg = "__lock-exec-sentinel"

// sentinelStart bounds the sentinel's start: a second start of tguard's own
// binary, normally a few milliseconds.
const sentinelStart = 30 * time.Second

func init() {
	if len(os.Args) == 2 && os.Args[1] == sentinelArg {
		os.Exit(runSentinel())
	}
}

// runSentinel is the sentinel's whole life.
func runSentinel() int {
	// Only as startSentinel makes it: the leader of its own group, reading
	// a pipe. Anywhere else the kill below would hit the caller's group.
	var st unix.Stat_t
	if unix.Getpgrp() != os.Getpid() || unix.Fstat(0, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		fmt.Fprintf(os.Stderr, "tguard: %s is internal to lock exec\n", sentinelArg)
		return exitUsage
	}
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	_, _ = os.Stdout.Write([]byte{'.'})
	_ = os.Stdout.Close()
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = syscall.Kill(0, syscall.SIGKILL)
	return exitError // not reached: SIGKILL reached this process too
}

// sentinel is a started sentinel, seen from tguard.
type sentinel struct {
	cmd  *exec.Cmd
	life *os.File // the pipe's only write end; closing it ends the group
}

// startSentinel starts a sentinel in a new process group and returns once
// it ignores the group's signals.
func startSentinel() (*sentinel, error) {
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the command's process group: %w", err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		return nil, fmt.Errorf("starting the command's process group: %w", err)
	}
	defer readyR.Close()
	// /proc/self/exe is tguard's own binary even if its file was replaced
	// since tguard started.
	cmd := &exec.Cmd{
		Path: "/proc/self/exe", Args: []string{"tguard", sentinelArg},
		Stdin: lifeR, Stdout: readyW, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	lifeR.Close()
	readyW.Close()
	if err != nil {
		lifeW.Close()
		return nil, fmt.Errorf("starting the command's process group: %w", err)
	}
	s := &sentinel{cmd: cmd, life: lifeW}
	_ = readyR.SetReadDeadline(time.Now().Add(sentinelStart))
	var b [1]byte
	if _, err := io.ReadFull(readyR, b[:]); err != nil {
		_ = syscall.Kill(-s.pid(), syscall.SIGKILL)
		_ = s.wait()
		return nil, fmt.Errorf("starting the command's process group: the sentinel did not start: %w", err)
	}
	return s, nil
}

func (s *sentinel) pid() int { return s.cmd.Process.Pid }

// wait reaps the sentinel once its group has been killed. It says so if the
// sentinel had ended otherwise: then tguard's death would not have ended the
// group.
func (s *sentinel) wait() error {
	err := s.cmd.Wait()
	s.life.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return nil
		}
	}
	return fmt.Errorf("the sentinel of the command's process group ended early (%v)", err)
}
