package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gofrs/flock"
	"github.com/tguard/tguard/lock"
	"golang.org/x/sys/unix"
)

// Job 2: one uncontended Acquire + Release on a local disk, against the
// floor (the same system calls done bare, see floorCycle) and against
// github.com/gofrs/flock (a kernel lock: a reference, not a target).
// The three loops run interleaved in blocks of 100 cycles, so that the
// machine's noise falls on all three alike; each has its own folder.
type acquireResult struct {
	cycles                     int
	lock, floor, flock         []float64 // µs per cycle
	recordBytes                int
	lockP50, lockP99           float64
	floorP50, floorP99         float64
	flockP50, flockP99         float64
	ratioP50, ratioP99         float64
	syscallsLock, syscallsBare *syscallCount // per cycle, from strace (nil: not counted)
}

const acquireBlock = 100

func (b *bench) jobAcquire() (*acquireResult, error) {
	ctx := context.Background()
	res := &acquireResult{cycles: b.cfg.cycles}

	lockDir := filepath.Join(b.work, "acquire-lock")
	l, err := lock.New(lockDir)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	lockCycle := func() error {
		lease, err := l.Acquire(ctx)
		if err != nil {
			return err
		}
		return lease.Release(ctx)
	}
	// The record the floor writes is as long as the one the lock wrote.
	if err := lockCycle(); err != nil {
		return nil, err
	}
	st, err := l.Status(ctx)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(filepath.Join(lockDir, ".tguard-lease", strconv.FormatUint(st.Token, 10), "owner.json"))
	if err != nil {
		return nil, err
	}
	res.recordBytes = int(fi.Size())

	fl := newFloor(filepath.Join(b.work, "acquire-floor"), res.recordBytes)
	if err := os.MkdirAll(filepath.Join(b.work, "acquire-flock"), 0o755); err != nil {
		return nil, err
	}
	fk := flock.New(filepath.Join(b.work, "acquire-flock", "lock"))
	flockCycle := func() error {
		if err := fk.Lock(); err != nil {
			return err
		}
		return fk.Unlock()
	}

	loops := []struct {
		cycle func() error
		out   *[]float64
	}{{lockCycle, &res.lock}, {fl.cycle, &res.floor}, {flockCycle, &res.flock}}
	// Warm up: one untimed block of each.
	for _, lp := range loops {
		for range acquireBlock {
			if err := lp.cycle(); err != nil {
				return nil, err
			}
		}
	}
	for done := 0; done < b.cfg.cycles; done += acquireBlock {
		for _, lp := range loops {
			for range acquireBlock {
				t := time.Now()
				if err := lp.cycle(); err != nil {
					return nil, err
				}
				*lp.out = append(*lp.out, us(time.Since(t)))
			}
		}
	}
	res.cycles = len(res.lock)
	res.lockP50, res.lockP99 = percentile(res.lock, 50), percentile(res.lock, 99)
	res.floorP50, res.floorP99 = percentile(res.floor, 50), percentile(res.floor, 99)
	res.flockP50, res.flockP99 = percentile(res.flock, 50), percentile(res.flock, 99)
	res.ratioP50, res.ratioP99 = res.lockP50/res.floorP50, res.lockP99/res.floorP99
	return res, nil
}

// floor does, with bare system calls and nothing else (no JSON, no
// identity, no goroutines, no timers, no error classification), what one
// uncontended Acquire + Release of lock/ does on the file system in the
// steady state (read lock/view.go and lock/filebackend.go):
//
//	read the view:  list .tguard-lease/; list <g-1>/; list <g-1>/1/ (marker);
//	                stat <g-1>/1; open, read, close <g-1>/owner.json
//	grant:          mkdir <g>; list .tguard-lease/ (is g the newest?);
//	                open, fsync, close .tguard-lease/ (make the token durable)
//	owner record:   exclusive create <g>/owner.json.tmp-X, write the record
//	                (as many bytes as the lock's), close, rename to owner.json
//	collect:        remove generation <g-2>: list it, unlink owner.json, list
//	                its slot, unlink the marker, rmdir the slot, rmdir it
//	release:        mkdir <g>/1; exclusive create <g>/1/released, close
//
// A "list" is open(O_DIRECTORY), getdents64 until it returns 0, close.
type floor struct {
	root   string
	record []byte
	gen    uint64
	buf    []byte
}

func newFloor(dir string, recordBytes int) *floor {
	f := &floor{root: filepath.Join(dir, ".tguard-lease"), record: make([]byte, recordBytes), buf: make([]byte, 8192)}
	for i := range f.record {
		f.record[i] = 'x'
	}
	f.record[len(f.record)-1] = '\n'
	_ = os.MkdirAll(f.root, 0o755)
	return f
}

func (f *floor) list(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	return f.drain(fd, unix.Getdents)
}

// drain calls read (getdents64 or read) on fd until it returns 0, then
// closes fd.
func (f *floor) drain(fd int, read func(int, []byte) (int, error)) error {
	for {
		n, err := read(fd, f.buf)
		if err != nil {
			unix.Close(fd)
			return err
		}
		if n == 0 {
			return unix.Close(fd)
		}
	}
}

func (f *floor) gdir(g uint64) string { return filepath.Join(f.root, strconv.FormatUint(g, 10)) }

func (f *floor) cycle() error {
	g := f.gen + 1
	// Read the view.
	if err := f.list(f.root); err != nil {
		return err
	}
	if f.gen > 0 {
		prev := f.gdir(f.gen)
		if err := f.list(prev); err != nil {
			return err
		}
		if err := f.list(filepath.Join(prev, "1")); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(prev, "1"), &st); err != nil {
			return err
		}
		fd, err := unix.Open(filepath.Join(prev, "owner.json"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := f.drain(fd, unix.Read); err != nil {
			return err
		}
	}
	// Grant.
	gd := f.gdir(g)
	if err := unix.Mkdir(gd, 0o755); err != nil {
		return fmt.Errorf("floor: mkdir %s: %w", gd, err)
	}
	if err := f.list(f.root); err != nil {
		return err
	}
	fd, err := unix.Open(f.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := unix.Fsync(fd); err != nil {
		unix.Close(fd)
		return err
	}
	if err := unix.Close(fd); err != nil {
		return err
	}
	// Owner record.
	tmp := filepath.Join(gd, "owner.json.tmp-000000000000")
	fd, err = unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, f.record); err != nil {
		unix.Close(fd)
		return err
	}
	if err := unix.Close(fd); err != nil {
		return err
	}
	if err := unix.Rename(tmp, filepath.Join(gd, "owner.json")); err != nil {
		return err
	}
	// Collect generation g-2.
	if g > 2 {
		old := f.gdir(g - 2)
		if err := f.list(old); err != nil {
			return err
		}
		if err := unix.Unlink(filepath.Join(old, "owner.json")); err != nil {
			return err
		}
		if err := f.list(filepath.Join(old, "1")); err != nil {
			return err
		}
		if err := unix.Unlink(filepath.Join(old, "1", "released")); err != nil {
			return err
		}
		if err := unix.Rmdir(filepath.Join(old, "1")); err != nil {
			return err
		}
		if err := unix.Rmdir(old); err != nil {
			return err
		}
	}
	// Release.
	slot := filepath.Join(gd, "1")
	if err := unix.Mkdir(slot, 0o755); err != nil {
		return err
	}
	fd, err = unix.Open(filepath.Join(slot, "released"), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	if err := unix.Close(fd); err != nil {
		return err
	}
	f.gen = g
	return nil
}
