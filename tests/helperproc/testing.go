package helperproc

import (
	"strings"
	"testing"
	"time"
)

// StartTest starts role for test t: a failure to start fails t, and the
// child is stopped (see Stop) when t ends; if t failed, the child's stderr
// is logged.
func StartTest(t testing.TB, role string, opts ...Option) *Proc {
	t.Helper()
	p, err := Start(role, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			if e := strings.TrimSpace(p.Stderr()); e != "" {
				t.Logf("helper %s (pid %d) stderr:\n%s", p.Role, p.Pid(), e)
			}
		}
	})
	return p
}

// Expect waits at most within for the child's next line and fails t unless
// it starts with prefix; it returns the line.
func (p *Proc) Expect(t testing.TB, prefix string, within time.Duration) string {
	t.Helper()
	line, err := p.Line(within)
	if err != nil {
		t.Fatalf("waiting for %q: %v", prefix, err)
	}
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("helper %s printed %q, want %q", p.Role, line, prefix)
	}
	return line
}
