// Package prereq decides, in one place, what a test does when this machine
// lacks something it needs (root, a Samba share, etcd): it skips with one
// line saying what is missing and how to get it, so that "go test ./..."
// passes for a contributor without them. Under make test, which exports
// TGUARD_REQUIRE_ALL=1, the same line fails the test instead: CI must run
// every suite, never pass by skipping one.
package prereq

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// RequireAllEnv, set to 1 (make test sets it), turns every missing
// prerequisite into a failure.
const RequireAllEnv = "TGUARD_REQUIRE_ALL"

// Required reports whether a missing prerequisite fails (true) or skips.
func Required() bool { return os.Getenv(RequireAllEnv) == "1" }

// Missing ends t for want of a prerequisite: a skip, or a failure under
// TGUARD_REQUIRE_ALL=1. The message is one line: what the test needs and how
// to get it, e.g. "needs etcd on PATH: make deps".
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s=1: a missing prerequisite fails)", msg, RequireAllEnv)
	}
	t.Skip(msg)
}

// Root ends t (as Missing does) unless it runs as root on Linux; what says
// what root is needed for, e.g. "mount a tmpfs".
func Root(t testing.TB, what string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		// Not a missing prerequisite but a platform: never a failure.
		t.Skipf("needs Linux and root to %s", what)
	}
	if os.Geteuid() != 0 {
		Missing(t, "needs root to %s (make test runs as root)", what)
	}
}

// LongEnv, set to 1, runs the long tests (chaos, fault injection, whole
// corpora) outside make test, which runs them anyway.
const LongEnv = "TGUARD_LONG"

// Long skips t, a test that takes long (what says why, e.g. "indexes all of
// $GOROOT/src"), unless TGUARD_LONG=1 or make test (TGUARD_REQUIRE_ALL=1)
// asks for it; -short always skips it. So "go test ./..." stays the tier a
// contributor runs in a couple of minutes, and make test still runs all.
func Long(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("long test (%s): not under -short", what)
	}
	if os.Getenv(LongEnv) != "1" && !Required() {
		t.Skipf("long test (%s): runs under make test, or set %s=1", what, LongEnv)
	}
}
