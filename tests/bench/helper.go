package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

// The bench binary re-executes itself as a helper process
// ("tguard-bench helper MODE ..."), so that handoff, failover and the
// bridge indexing runs are real processes using the public APIs.
func runHelper(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("helper: no mode")
	}
	switch args[0] {
	case "bridge-index":
		return helperBridgeIndex(args[1:])
	case "hold":
		return helperHold(args[1:])
	case "cycles":
		return helperCycles(args[1:])
	}
	return fmt.Errorf("helper: unknown mode %q", args[0])
}

// helperBridgeIndex indexes a JSON-lines file through the bridge the way
// "tguard index" applies a journaled JSON-lines file, without the journal
// and the lease: the same buffers of whole lines (8 MiB per AddJSONLines
// call, native.go), read straight from the file, one commit at the end.
func helperBridgeIndex(args []string) error {
	fs := flag.NewFlagSet("bridge-index", flag.ContinueOnError)
	dir := fs.String("index", "", "index folder")
	memory := fs.Uint64("memory", indexer.DefaultMemoryBudget, "memory budget")
	threads := fs.Int("threads", 0, "threads (0: the bridge's choice)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	idx, err := bridge.OpenOrCreate(*dir, "")
	if err != nil {
		return err
	}
	defer idx.Close()
	w, err := idx.Writer(*memory, *threads)
	if err != nil {
		return err
	}
	defer w.Close()
	b := &nativeBatch{w: w}
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = b.addLinesFrom(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if _, err := w.Commit(`{"token":1}`, 1); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]int{"docs": b.added, "bad": b.bad})
}

// helperHold takes commands on stdin, one a line, and answers on stdout:
//
//	acquire  -> "held" each time an attempt finds the lease held (from the
//	            lock's own debug log), then "granted NS"
//	release  -> "released NS NS2" (CLOCK_MONOTONIC just before Release is
//	            called, and just after it returned)
//	quit     -> exits
//
// NS is read right after Acquire returns / right before Release is called.
func helperHold(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	dir := fs.String("dir", "", "lease folder")
	leaseDur := fs.Duration("lease", lock.DefaultLeaseDuration, "lease duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := &lineWriter{w: os.Stdout}
	log := slog.New(&heldHandler{out: out})
	l, err := lock.New(*dir, lock.WithLeaseDuration(*leaseDur), lock.WithLogger(log))
	if err != nil {
		return err
	}
	defer l.Close()
	ctx := context.Background()
	var lease *lock.Lease
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "acquire":
			if lease, err = l.Acquire(ctx); err != nil {
				return err
			}
			out.printf("granted %d", monoNS())
		case "release":
			t := monoNS()
			if err := lease.Release(ctx); err != nil {
				return err
			}
			out.printf("released %d %d", t, monoNS())
		case "quit":
			return nil
		}
	}
	return in.Err()
}

type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", a...)
}

// heldHandler turns the lock's "lock: held" debug record into a "held"
// line: the driver learns that the helper is waiting inside Acquire.
type heldHandler struct{ out *lineWriter }

func (h *heldHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *heldHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "lock: held" {
		h.out.printf("held")
	}
	return nil
}
func (h *heldHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *heldHandler) WithGroup(string) slog.Handler      { return h }

// holdProc drives one "helper hold" process.
type holdProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startHold(self, dir string, lease time.Duration) (*holdProc, error) {
	cmd := exec.Command(self, "helper", "hold", "-dir", dir, "-lease", lease.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &holdProc{cmd: cmd, in: in, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(outp)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p, nil
}

func (p *holdProc) send(cmd string) error {
	_, err := io.WriteString(p.in, cmd+"\n")
	return err
}

// expect waits for a line starting with word, skipping "held" lines unless
// word is "held", and returns the first number after the word (0 if none).
func (p *holdProc) expect(word string, timeout time.Duration) (int64, error) {
	ns, err := p.expectAll(word, timeout)
	if err != nil || len(ns) == 0 {
		return 0, err
	}
	return ns[0], nil
}

// expectAll is expect returning every number after the word.
func (p *holdProc) expectAll(word string, timeout time.Duration) ([]int64, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("helper %d exited while waiting for %q", p.cmd.Process.Pid, word)
			}
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != word {
				continue
			}
			ns := make([]int64, 0, len(f)-1)
			for _, x := range f[1:] {
				n, err := strconv.ParseInt(x, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("helper %d: bad line %q", p.cmd.Process.Pid, line)
				}
				ns = append(ns, n)
			}
			return ns, nil
		case <-t.C:
			return nil, fmt.Errorf("helper %d: no %q within %v", p.cmd.Process.Pid, word, timeout)
		}
	}
}

// drain drops lines already received (stale "held" lines).
func (p *holdProc) drain() {
	for {
		select {
		case <-p.lines:
		default:
			return
		}
	}
}

func (p *holdProc) stop() {
	_ = p.send("quit")
	_ = p.in.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}
