package etcd_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tguard/tguard/tests/helperproc"
)

// helperProc is a re-executed test binary in one of the roles of TestMain
// (tests/helperproc), or the CLI.
type helperProc struct{ *helperproc.Proc }

// startHelper starts this test binary in role with env; it is killed when t
// ends if still running.
func startHelper(t testing.TB, role string, env ...string) helperProc {
	t.Helper()
	// A -race binary sleeps 1 s at exit by default.
	env = append(env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return helperProc{helperproc.StartTest(t, role, helperproc.Env(env...))}
}

// output is what the helper printed so far: its stdout, then its stderr.
func (p helperProc) output() string {
	out := strings.Join(p.Lines(), "\n")
	if e := p.Stderr(); e != "" {
		out += "\n" + e
	}
	return out
}

// wait waits for the exit, at most d, and returns the exit code (-1 for a
// signal or a timeout).
func (p helperProc) wait(d time.Duration) int {
	if err := p.Wait(d); errors.Is(err, helperproc.ErrTimeout) {
		return -1
	}
	return p.ExitCode()
}

// line is one "word n time" line of a holder.
type line struct {
	word string
	n    uint64
	at   time.Time
	rest string
}

// lines parses the holder lines printed so far.
func (p helperProc) lines() []line {
	var out []line
	for _, text := range p.Lines() {
		f := strings.SplitN(text, " ", 3)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "granted", "commit":
			if len(f) != 3 {
				continue
			}
			n, _ := strconv.ParseUint(f[1], 10, 64)
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			out = append(out, line{word: f[0], n: n, at: time.Unix(0, ns)})
		case "lost":
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			rest := ""
			if len(f) == 3 {
				rest = f[2]
			}
			out = append(out, line{word: "lost", at: time.Unix(0, ns), rest: rest})
		}
	}
	return out
}

// waitLine waits until the helper printed a line starting with word.
func (p helperProc) waitLine(t testing.TB, word string, d time.Duration) line {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		for _, l := range p.lines() {
			if l.word == word {
				return l
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %q line within %v; output:\n%s", word, d, p.output())
		case <-p.Exited():
			for _, l := range p.lines() {
				if l.word == word {
					return l
				}
			}
			t.Fatalf("helper exited (%v) without a %q line; output:\n%s", p.Wait(10*time.Second), word, p.output())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// tguard runs the CLI and returns its exit code, stdout and stderr.
func tguard(t testing.TB, env []string, args ...string) (int, string, string) {
	t.Helper()
	r := tguardBin.Command(args...).With(env...).Run(t)
	return r.Code, r.Stdout, r.Stderr
}
