package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// timedRun is one child process: its wall time from start to exit (taken
// by this process), its stdout, and its peak resident memory.
type timedRun struct {
	wall     time.Duration
	cpu      time.Duration // user + system, all threads
	stdout   []byte
	maxRSSKB int64
}

func runTimed(name string, args ...string) (timedRun, error) {
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := timedRun{wall: time.Since(start), stdout: out.Bytes()}
	if err != nil {
		return r, fmt.Errorf("%s %v: %w\n%s", name, args, err, tail(errb.Bytes(), 2000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKB = ru.Maxrss // kilobytes on Linux
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// lastJSON decodes the last line of out into v.
func lastJSON(out []byte, v any) error {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], v); err != nil {
		return fmt.Errorf("reading %q: %w", tail(out, 300), err)
	}
	return nil
}

// freshDir returns a new empty folder name under parent (not created).
func freshDir(parent, prefix string) string {
	d, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		panic(err)
	}
	_ = os.Remove(d)
	return d
}

// tguardIndex runs "tguard index" on files with its own fresh journal and
// returns the run and the number of documents indexed.
type indexSummary struct {
	Files    int     `json:"files"`
	Accepted int     `json:"accepted"`
	Indexed  int     `json:"indexed"`
	Bad      int     `json:"bad"`
	Pending  int     `json:"pending"`
	Seconds  float64 `json:"seconds"`
}

func (b *bench) tguardIndex(index, journal, owner string, files ...string) (timedRun, indexSummary, error) {
	args := append([]string{"index", "--index", index, "--journal", journal, "--owner", owner, "--json"}, files...)
	var s indexSummary
	r, err := runTimed(b.tguard, args...)
	if err == nil {
		err = lastJSON(r.stdout, &s)
	}
	return r, s, err
}
