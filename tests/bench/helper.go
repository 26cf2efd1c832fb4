package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
	"github.com/tguard/tguard/tests/helperproc"
)

// The bench binary re-executes itself as a helper process (the roles
// below, through tests/helperproc), so that handoff, failover and the
// bridge indexing runs are real processes using the public APIs.
var helperRoles = helperproc.Roles{
	"bridge-index": helperBridgeIndex,
	"hold":         helperHold,
	"cycles":       helperCycles,
}

// helperBridgeIndex indexes the JSON-lines file INPUT into the index INDEX
// through the bridge the way "tguard index" applies a journaled JSON-lines
// file, without the journal and the lease: the same buffers of whole lines
// (8 MiB per AddJSONLines call, native.go), read straight from the file,
// one commit at the end. MEMORY (bytes) and THREADS (0: the bridge's
// choice) size the writer.
func helperBridgeIndex() error {
	memory, err := helperproc.IntValue("MEMORY", int(indexer.DefaultMemoryBudget))
	if err != nil {
		return err
	}
	threads, err := helperproc.IntValue("THREADS", 0)
	if err != nil {
		return err
	}
	idx, err := bridge.OpenOrCreate(helperproc.Value("INDEX"), "")
	if err != nil {
		return err
	}
	defer idx.Close()
	w, err := idx.Writer(uint64(memory), threads)
	if err != nil {
		return err
	}
	defer w.Close()
	b := &nativeBatch{w: w}
	f, err := os.Open(helperproc.Value("INPUT"))
	if err != nil {
		return err
	}
	err = b.addLinesFrom(f)
	f.Close()
	if err != nil {
		return err
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
// The lease folder is DIR, the lease LEASE.
func helperHold() error {
	leaseDur, err := helperproc.DurationValue("LEASE", lock.DefaultLeaseDuration)
	if err != nil {
		return err
	}
	log := slog.New(heldHandler{})
	l, err := lock.New(helperproc.Value("DIR"), lock.WithLeaseDuration(leaseDur), lock.WithLogger(log))
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
			helperproc.Printf("granted %d", monoNS())
		case "release":
			t := monoNS()
			if err := lease.Release(ctx); err != nil {
				return err
			}
			helperproc.Printf("released %d %d", t, monoNS())
		case "quit":
			return nil
		}
	}
	return in.Err()
}

// heldHandler turns the lock's "lock: held" debug record into a "held"
// line: the driver learns that the helper is waiting inside Acquire.
type heldHandler struct{}

func (h heldHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h heldHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "lock: held" {
		helperproc.Printf("held")
	}
	return nil
}
func (h heldHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h heldHandler) WithGroup(string) slog.Handler      { return h }

// holdProc drives one "hold" helper process.
type holdProc struct{ *helperproc.Proc }

func startHold(dir string, lease time.Duration) (holdProc, error) {
	p, err := helperproc.Start("hold", helperproc.Param("DIR", dir), helperproc.Param("LEASE", lease.String()),
		helperproc.Stderr(os.Stderr), helperproc.Grace(5*time.Second))
	return holdProc{p}, err
}

func (p holdProc) send(cmd string) error { return p.Send(cmd) }

// expect waits for a line starting with word, skipping "held" lines unless
// word is "held", and returns the first number after the word (0 if none).
func (p holdProc) expect(word string, timeout time.Duration) (int64, error) {
	ns, err := p.expectAll(word, timeout)
	if err != nil || len(ns) == 0 {
		return 0, err
	}
	return ns[0], nil
}

// expectAll is expect returning every number after the word.
func (p holdProc) expectAll(word string, timeout time.Duration) ([]int64, error) {
	end := time.Now().Add(timeout)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil, fmt.Errorf("helper %d: no %q within %v", p.Pid(), word, timeout)
		}
		line, err := p.Line(left)
		if err != nil {
			return nil, fmt.Errorf("waiting for %q: %w", word, err)
		}
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != word {
			continue
		}
		ns := make([]int64, 0, len(f)-1)
		for _, x := range f[1:] {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("helper %d: bad line %q", p.Pid(), line)
			}
			ns = append(ns, n)
		}
		return ns, nil
	}
}

// drain drops lines already received (stale "held" lines).
func (p holdProc) drain() { p.Drain() }

// stop asks the helper to quit and kills it if it has not within 5 s.
func (p holdProc) stop() {
	_ = p.send("quit")
	p.Stop()
}
