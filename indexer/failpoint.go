//go:build failpoints

package indexer

import "fmt"

// failpoint is the step at which the indexer stops or crashes its own
// process: only in a build with -tags failpoints, for the crash and pause
// tests (tests/e2e, tests/etcd, tests/shareindex).
type failpoint struct{ name string }

// WithFailpoint makes the indexer stop (SIGSTOP) or crash (SIGKILL) its
// own process at a named step: "before-commit:stop", "before-commit:crash",
// "after-commit:crash" ("" for none). It exists only in a build with
// -tags failpoints.
func WithFailpoint(fp string) Option {
	return func(c *config) error {
		switch fp {
		case "", "before-commit:stop", "before-commit:crash", "after-commit:crash":
			c.fp.name = fp
			return nil
		}
		return fmt.Errorf("indexer: unknown failpoint %q", fp)
	}
}
