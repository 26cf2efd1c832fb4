package main

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cldStopped is si_code CLD_STOPPED of <signal.h>.
const cldStopped = 5

// relayStops keeps job control working on a terminal. Ctrl-Z (or reading
// the terminal from the background) stops the command's group, which is
// not tguard's: the shell waits for tguard and would never get the terminal
// back. So tguard takes the terminal back and stops itself, as sudo does;
// the shell sees the job stopped. When the shell continues tguard ("fg"
// gives it the terminal, "bg" does not), tguard hands the terminal on if it
// has it and continues the group. A stopped tguard renews nothing: the
// lease may be lost meanwhile, and then the group is killed when tguard
// runs again, before it could write (it was stopped too). A stop by
// SIGSTOP is someone's deliberate act and is left to them.
//
// It returns once the command has exited.
func (c *child) relayStops() {
	pid := c.cmd.Process.Pid
	for {
		var si unix.Siginfo
		// WNOWAIT: the exit is left for cmd.Wait to reap.
		err := unix.Waitid(unix.P_PID, pid, &si, unix.WSTOPPED|unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || si.Code != cldStopped {
			return
		}
		// Consume this stop, so that the next wait blocks until another.
		_ = unix.Waitid(unix.P_PID, pid, &si, unix.WSTOPPED|unix.WNOHANG, nil)
		switch stopSignal(&si) {
		case syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
			c.suspend()
		}
	}
}

// suspend stops tguard after its command stopped, and continues the
// command when tguard is continued.
func (c *child) suspend() {
	s := &c.sys
	s.restoreTTY()
	// SIGSTOP, not SIGTSTP: the kernel discards SIGTSTP sent to an
	// orphaned process group (tguard as a session leader, say). Sent to
	// this thread, so that this thread stops before tgkill returns: sent
	// to the process, another thread may take it while this one goes on.
	runtime.LockOSThread()
	_ = unix.Tgkill(os.Getpid(), unix.Gettid(), unix.SIGSTOP)
	runtime.UnlockOSThread()
	// Continued.
	if pgrp, err := unix.IoctlGetInt(s.tty, unix.TIOCGPGRP); err == nil && pgrp == unix.Getpgrp() {
		s.mu.Lock()
		if !s.gone {
			_ = unix.IoctlSetPointerInt(s.tty, unix.TIOCSPGRP, s.pgid)
		}
		s.mu.Unlock()
	}
	s.kill(syscall.SIGCONT)
}

// stopSignal is si_status of a CLD_STOPPED siginfo: the signal that stopped
// the child. x/sys/unix leaves the union after si_signo, si_errno and
// si_code opaque; it is pointer-aligned and starts with si_pid and si_uid.
func stopSignal(si *unix.Siginfo) syscall.Signal {
	const ptr = unsafe.Sizeof(uintptr(0))
	const off = (12+ptr-1)/ptr*ptr + 8
	return syscall.Signal(*(*int32)(unsafe.Add(unsafe.Pointer(si), off)))
}
