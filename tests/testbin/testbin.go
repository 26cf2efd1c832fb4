// Package testbin builds the tguard binary for tests that run it as a user
// would, runs it (Bin.Command, Cmd.Run, Cmd.Start) and watches the
// processes they start. It is the one tguard runner of the test suites.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Bin is a tguard executable to run.
type Bin struct {
	// Path is the executable, or the launcher when Args is set.
	Path string
	// Args come before each run's own arguments: a launcher's ("wine",
	// Args ["tguard.exe"]).
	Args []string
}

// BuildOption changes how Build builds the binary.
type BuildOption func(*buildConfig)

type buildConfig struct{ tags []string }

// Tags builds with these build tags (go build -tags).
func Tags(tags ...string) BuildOption {
	return func(c *buildConfig) { c.tags = append(c.tags, tags...) }
}

// Build builds cmd/tguard (as "make build" does) into a new temporary folder
// readable by all (one test runs it as another user), points default
// journals at a state folder inside it, and returns the binary and a
// function that removes the folder. For TestMain. Tags("failpoints") is for
// the tests that set TGUARD_FAILPOINT (a binary built without it refuses
// that variable).
func Build(opts ...BuildOption) (bin Bin, cleanup func(), err error) {
	var cfg buildConfig
	for _, o := range opts {
		o(&cfg)
	}
	dir, err := os.MkdirTemp("", "tguard-bin-")
	if err != nil {
		return Bin{}, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o755); err != nil {
		cleanup()
		return Bin{}, nil, err
	}
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	path := filepath.Join(dir, "tguard")
	args := []string{"build", "-o", path}
	if len(cfg.tags) > 0 {
		args = append(args, "-tags", strings.Join(cfg.tags, ","))
	}
	build := exec.Command("go", append(args, "github.com/tguard/tguard/cmd/tguard")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return Bin{}, nil, fmt.Errorf("building tguard: %w", err)
	}
	return Bin{Path: path}, cleanup, nil
}

// Main is a TestMain body: build, run the tests, clean up, exit.
func Main(m *testing.M, bin *Bin, opts ...BuildOption) {
	b, cleanup, err := Build(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = b
	code := m.Run()
	cleanup()
	os.Exit(code)
}
