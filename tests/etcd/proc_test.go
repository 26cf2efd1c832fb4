package etcd_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperProc is a re-executed test binary in one of the roles of TestMain.
type helperProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer // stdout and stderr
	done chan struct{}
	err  error
}

// lockedWriter serialises the writes of stdout and stderr into one buffer.
type lockedWriter struct{ p *helperProc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// startHelper starts this test binary in role with env; it is killed when t
// ends if still running.
func startHelper(t testing.TB, role string, env ...string) *helperProc {
	t.Helper()
	p := &helperProc{done: make(chan struct{})}
	p.cmd = exec.Command(testBin, "-test.run=^$")
	p.cmd.Env = append(append(os.Environ(), envRole+"="+role,
		// A -race binary sleeps 1 s at exit by default.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")), env...)
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{p}, lockedWriter{p}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *helperProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits for the exit, at most d, and returns the exit code (-1 for a
// signal or a timeout).
func (p *helperProc) wait(d time.Duration) int {
	select {
	case <-p.done:
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.done
		return -1
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// line is one "word n time" line of a holder.
type line struct {
	word string
	n    uint64
	at   time.Time
	rest string
}

// lines parses the holder lines printed so far.
func (p *helperProc) lines() []line {
	var out []line
	sc := bufio.NewScanner(strings.NewReader(p.output()))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
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
func (p *helperProc) waitLine(t testing.TB, word string, d time.Duration) line {
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
		case <-p.done:
			for _, l := range p.lines() {
				if l.word == word {
					return l
				}
			}
			t.Fatalf("helper exited (%v) without a %q line; output:\n%s", p.err, word, p.output())
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
