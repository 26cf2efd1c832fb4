package helperproc

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RoleEnv names the role of a helper process; a process without it is not a
// helper.
const RoleEnv = "TGUARD_HELPER_ROLE"

// ParamPrefix starts the environment variable of every parameter: Param
// ("DIR", d) is TGUARD_HELPER_DIR=d, for a caller that builds the
// environment of a process that another program starts (tguard lock exec).
const ParamPrefix = "TGUARD_HELPER_"

// Roles maps a role's name to its body.
type Roles map[string]func() error

// Main runs the role named by RoleEnv and exits: 0 when it returns nil, 1
// with "ROLE (pid N): error" on stderr when it fails, 2 for a role this
// program does not have. Without RoleEnv it returns at once.
func Main(roles Roles) {
	role := os.Getenv(RoleEnv)
	if role == "" {
		return
	}
	run, ok := roles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "helper: unknown role %q\n", role)
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s (pid %d): %v\n", role, os.Getpid(), err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Value returns the parameter name given by Param ("" if none).
func Value(name string) string { return os.Getenv(ParamPrefix + name) }

// DurationValue returns the parameter name as a duration, def if it is not
// set.
func DurationValue(name string, def time.Duration) (time.Duration, error) {
	s := Value(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q: %w", name, s, err)
	}
	return d, nil
}

// IntValue returns the parameter name as an integer, def if it is not set.
func IntValue(name string, def int) (int, error) {
	s := Value(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q: %w", name, s, err)
	}
	return n, nil
}

var stdoutMu sync.Mutex

// Printf reports one line on stdout (a newline is added). Lines from
// several goroutines never interleave.
func Printf(format string, a ...any) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", a...)
}

// AwaitStop blocks until the parent closes stdin (Proc.CloseStdin, or the
// parent's death), discarding what comes before.
func AwaitStop() { _, _ = io.Copy(io.Discard, os.Stdin) }
