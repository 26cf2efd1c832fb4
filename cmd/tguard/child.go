package main

import (
	"os/exec"
	"time"
)

// The command "lock exec" runs must not outlive the lease it runs under:
// once the lease can be granted to another holder, anything still writing
// under the old one is a second writer. A child (one implementation per
// platform: newChild, start, abort, signal, terminate, kill) starts it so
// that it, and what it starts, can be signalled as one and dies with tguard:
//
//   - Linux: its own process group with a parent-death SIGKILL, led by a
//     sentinel process that kills the whole group when tguard dies
//     (sentinel_linux.go); made the terminal's foreground group when tguard
//     is in the foreground (childtty_linux.go).
//   - Windows: a job object that kills every process in it when tguard's
//     handle to it closes, which tguard's exit does.
//
// A child is used from one goroutine (runLocked's loop) besides its own.
type child struct {
	cmd *exec.Cmd
	// exited receives cmd.Wait's result once the command has exited and
	// whatever it left running has been killed: nothing of it is left.
	exited chan error
	sys    childSys
}

// stopLeads says how long before the lease's deadline (on the holder's
// clock) a command whose lease is not being renewed gets SIGTERM (term) and
// SIGKILL (kill). They are a half and a quarter of the lock's safety margin
// (lease/10, the time between the holder's deadline and the earliest
// takeover): renewals run every lease/3 and retry sooner when they fail, so
// a lease still unrenewed lease/20 before its deadline is one whose renewals
// have failed for about half the lease, and the command then has lease/40
// (750 ms for the default 30 s) to stop cleanly. term is also the grace a
// command gets between SIGTERM and SIGKILL when a renewal proves the lease
// already lost (broken or taken over).
func stopLeads(lease time.Duration) (term, kill time.Duration) {
	margin := lease / 10
	return margin / 2, margin / 4
}

// stopPlan says what terminate does now and kill after killIn, for the
// message tguard prints when it stops the command (stopsAtOnce is per platform).
func stopPlan(killIn time.Duration) string {
	if stopsAtOnce {
		return "ending its job object now (Windows has no SIGTERM)"
	}
	return "SIGTERM now, SIGKILL in " + killIn.String()
}
