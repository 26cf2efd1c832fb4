package lock

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// view is one reading of the lease folder.
type view struct {
	gen    uint64 // highest generation, 0 if none was ever granted
	slot   uint64 // highest slot in gen, 0 if the holder has not renewed yet
	marker string // end marker in that slot, "" while gen is live
	rec    ownerRecord
	recErr error     // why owner.json could not be read, nil if rec is good
	seenAt time.Time // modification time of the newest part of gen, for Status
	// declared are the lease durations named by lease-<ms> folders in the
	// same listing that gave gen: every contender declares its own before
	// its grant, so they bound the holder's lease when rec cannot be read.
	declared []time.Duration
}

// declares reports whether the listing showed lease-<ms> for d.
func (v view) declares(d time.Duration) bool {
	return slices.Contains(v.declared, msDuration(durationMS(d)))
}

// holderLease bounds the lease of gen's holder, for a waiter whose own lease
// is own. A readable record names the holder's lease itself (the holder
// writes its own, and the record is never changed); without one, the
// longest declared duration bounds it.
func (v view) holderLease(own time.Duration) time.Duration {
	if v.recErr == nil {
		return max(own, v.rec.lease())
	}
	for _, d := range v.declared {
		own = max(own, d)
	}
	return own
}

// live reports whether gen is held (or may be: an unreadable record is held).
func (v view) live() bool { return v.gen != 0 && v.marker == "" }

// key identifies the state a waiter watches: as long as it stays the same,
// the holder has not renewed.
type viewKey struct{ gen, slot uint64 }

func (v view) key() viewKey { return viewKey{v.gen, v.slot} }

// readView reads the lease folder root. A missing root reads as "never
// granted". Reading is never trusted to be fresh: every decision taken from a
// view is made by an exclusive mkdir, which fails if the view was stale.
func readView(root string) (view, error) {
	var v view
	gens, declared, err := listRoot(root)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	v.declared = declared
	if err != nil {
		return v, err
	}
	v.gen = maxNumber(gens)
	if v.gen == 0 {
		return v, nil
	}
	genDir := filepath.Join(root, numName(v.gen))
	slots, err := listNumbers(genDir)
	if errors.Is(err, fs.ErrNotExist) {
		// Removed under us (garbage collection after a newer grant): read
		// again rather than guess.
		return v, errViewChanged
	}
	if err != nil {
		return v, err
	}
	v.slot = maxNumber(slots)
	newest := genDir
	if v.slot != 0 {
		newest = filepath.Join(genDir, numName(v.slot))
		v.marker, err = markerIn(newest)
		if errors.Is(err, fs.ErrNotExist) {
			return v, errViewChanged // the holder renewed twice and collected this slot
		}
		if err != nil {
			return v, err
		}
	}
	if fi, err := os.Stat(newest); err == nil {
		v.seenAt = fi.ModTime() // for the Status estimate only
	}
	v.rec, v.recErr = readRecord(filepath.Join(genDir, ownerFileName))
	if v.recErr == nil && v.rec.Token != v.gen {
		v.recErr = errors.New("owner record names another token")
	}
	return v, nil
}

// errViewChanged: a folder named by the listing was removed before it was
// read; the lease changed meanwhile. Reading again is right.
var errViewChanged = errors.New("lease folder changed while reading")

// readViewSettled reads until a reading completes without the lease
// changing under it, a few times at most.
func readViewSettled(root string) (v view, err error) {
	for range 5 {
		if v, err = readView(root); !errors.Is(err, errViewChanged) {
			return v, err
		}
	}
	return v, err
}

func readRecord(path string) (ownerRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return ownerRecord{}, err
	}
	defer f.Close()
	// One byte over the limit is enough to reject an oversized file.
	b, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return ownerRecord{}, err
	}
	return parseRecord(b)
}
