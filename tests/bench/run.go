package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	return runTimedCmd(exec.Command(name, args...))
}

func runTimedCmd(cmd *exec.Cmd) (timedRun, error) {
	name, args := cmd.Path, cmd.Args[1:]
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return timedRun{}, fmt.Errorf("%s: %w", name, err)
	}
	peak := make(chan int64, 1)
	stop := make(chan struct{})
	go func() { peak <- pollPeakRSS(cmd.Process.Pid, filepath.Base(name), stop) }()
	err := cmd.Wait()
	r := timedRun{wall: time.Since(start), stdout: out.Bytes()}
	close(stop)
	r.maxRSSKB = <-peak
	if err != nil {
		return r, fmt.Errorf("%s %v: %w\n%s", name, args, err, tail(errb.Bytes(), 2000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, nil
}

// pollPeakRSS returns the child's peak resident memory in kB: the last
// VmHWM (the high-water mark of its own address space, which only grows)
// read from /proc every 5 ms until stop. Not the child's ru_maxrss: Go
// starts children with vfork, so a child's ru_maxrss starts from this
// (large) process's peak, which the exec carries over; the first
// benchmark runs reported this process's size, not the child's. Readings
// are taken only once the child runs the program (its Name is the
// program's), not while it still shares this process's memory.
func pollPeakRSS(pid int, prog string, stop <-chan struct{}) int64 {
	if len(prog) > 15 {
		prog = prog[:15] // the kernel's comm length
	}
	var peak int64
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			var nameOK bool
			for _, l := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(l, "Name:"); ok {
					nameOK = strings.TrimSpace(v) == prog
				}
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok && nameOK {
					var kb int64
					if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil && kb > peak {
						peak = kb
					}
				}
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
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
