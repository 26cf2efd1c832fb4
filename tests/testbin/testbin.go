// Package testbin builds the tguard binary for tests that run it as a user
// would, and watches the processes they start.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Build builds cmd/tguard (as "make build" does) into a new temporary folder
// readable by all (one test runs it as another user), points default
// journals at a state folder inside it, and returns the binary's path and a
// function that removes the folder. For TestMain. tags are build tags:
// "failpoints" for the tests that set TGUARD_FAILPOINT (a binary built
// without it refuses that variable).
func Build(tags ...string) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "tguard-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o755); err != nil {
		cleanup()
		return "", nil, err
	}
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	bin = filepath.Join(dir, "tguard")
	build := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", bin, "github.com/tguard/tguard/cmd/tguard")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building tguard: %w", err)
	}
	return bin, cleanup, nil
}

// Main is a TestMain body: build (with tags, see Build), run the tests,
// clean up, exit.
func Main(m *testing.M, bin *string, tags ...string) {
	b, cleanup, err := Build(tags...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = b
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// WaitStopped waits until process pid is stopped (SIGSTOP took effect).
func WaitStopped(t testing.TB, pid int) {
	t.Helper()
	require.Eventually(t, func() bool { return ProcState(pid) == 'T' }, 60*time.Second, 5*time.Millisecond,
		"process %d did not stop", pid)
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
