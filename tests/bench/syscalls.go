package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tguard/tguard/lock"
	"github.com/tguard/tguard/tests/helperproc"
)

// helperCycles runs N acquire+release cycles of the lock or of the floor
// (KIND) in the folder DIR (the floor's records RECORD bytes), for strace to
// count their system calls.
func helperCycles() error {
	n, err := helperproc.IntValue("N", 0)
	if err != nil {
		return err
	}
	record, err := helperproc.IntValue("RECORD", 300)
	if err != nil {
		return err
	}
	dir := helperproc.Value("DIR")
	switch kind := helperproc.Value("KIND"); kind {
	case "floor":
		f := newFloor(dir, record)
		for range n {
			if err := f.cycle(); err != nil {
				return err
			}
		}
	case "lock":
		l, err := lock.New(dir)
		if err != nil {
			return err
		}
		defer l.Close()
		ctx := context.Background()
		for range n {
			lease, err := l.Acquire(ctx)
			if err != nil {
				return err
			}
			if err := lease.Release(ctx); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("cycles: unknown kind %q", kind)
	}
	return nil
}

// syscallCount is the system calls of one cycle, by name (all threads),
// from "strace -f -c": (count over n cycles − count over 0 cycles) ÷ n.
type syscallCount struct {
	total  float64
	byName map[string]float64
}

const straceCycles = 200

// countSyscalls counts the system calls per acquire+release cycle of the
// lock and of the floor with strace, when strace is installed.
func (b *bench) countSyscalls(record int) (lockC, floorC *syscallCount, note string) {
	if _, err := exec.LookPath("strace"); err != nil {
		return nil, nil, "strace is not installed: system calls were not counted"
	}
	count := func(kind string) (*syscallCount, error) {
		per := func(n int) (map[string]float64, error) {
			dir := freshDir(b.work, "strace-")
			defer os.RemoveAll(dir)
			out := filepath.Join(b.work, "strace.out")
			cmd, err := helperproc.Command("cycles", helperproc.Exe("strace", "-f", "-c", "-o", out, b.self),
				helperproc.Param("DIR", dir), helperproc.Param("KIND", kind), helperproc.Param("N", strconv.Itoa(n)),
				helperproc.Param("RECORD", strconv.Itoa(record)))
			if err != nil {
				return nil, err
			}
			if msg, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("strace: %w: %s", err, msg)
			}
			text, err := os.ReadFile(out)
			if err != nil {
				return nil, err
			}
			return parseStraceC(string(text)), nil
		}
		zero, err := per(0)
		if err != nil {
			return nil, err
		}
		many, err := per(straceCycles)
		if err != nil {
			return nil, err
		}
		c := &syscallCount{byName: map[string]float64{}}
		for name, v := range many {
			d := (v - zero[name]) / straceCycles
			if d >= 0.5 {
				c.byName[name] = d
			}
		}
		c.total = (many["total"] - zero["total"]) / straceCycles
		delete(c.byName, "total")
		return c, nil
	}
	var err error
	if lockC, err = count("lock"); err == nil {
		floorC, err = count("floor")
	}
	if err != nil {
		b.logf("  system calls not counted: %v", err)
		return nil, nil, "strace failed: system calls were not counted (" + err.Error() + ")"
	}
	return lockC, floorC, ""
}

// parseStraceC reads the summary table of "strace -c": calls by name, and
// "total".
func parseStraceC(text string) map[string]float64 {
	m := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || strings.HasPrefix(line, "%") || strings.HasPrefix(line, "-") {
			continue
		}
		name := f[len(f)-1]
		// % time, seconds, usecs/call, calls, [errors], syscall
		calls, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			continue
		}
		m[name] += calls
	}
	return m
}

// describeSyscalls lists a count, most frequent first.
func describeSyscalls(c *syscallCount) string {
	type kv struct {
		k string
		v float64
	}
	var s []kv
	for k, v := range c.byName {
		s = append(s, kv{k, v})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].v > s[j].v || s[i].v == s[j].v && s[i].k < s[j].k })
	var parts []string
	for _, e := range s {
		parts = append(parts, fmt.Sprintf("%s %.1f", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}
