package bridge

/*
#include "tguard_bridge.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// Writer adds, deletes and commits documents. Safe for concurrent use
// (calls are serialised). After ErrFenced, ErrConflict or ErrLeaseExpired
// the writer is abandoned: every later write returns the same error; Close
// it.
type Writer struct {
	mu sync.Mutex // serialises calls on h; Close takes it too
	h  *C.TgWriter

	// cellMu guards cell and progress against Close only; SetDeadline and
	// Progress read-lock it and never wait for a running add or commit
	// (which hold mu, not cellMu).
	cellMu   sync.RWMutex
	cell     *int64  // Rust-owned deadline cell, valid until tg_writer_free
	progress *uint64 // Rust-owned progress counter, valid until tg_writer_free
	// final is the counter's last value, kept by Close.
	final uint64
}

// AddResult reports one AddJSONLines call. Bad counts every rejected line;
// Errors lists the first 100 of them.
type AddResult struct {
	Added  int         `json:"added"`
	Bad    int         `json:"bad"`
	Errors []LineError `json:"errors"`
}

// LineError is a rejected input line (1-based) and why.
type LineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func newWriter(h *C.TgWriter) *Writer {
	return &Writer{
		h:        h,
		cell:     (*int64)(unsafe.Pointer(C.tg_writer_deadline_cell(h))),
		progress: (*uint64)(unsafe.Pointer(C.tg_writer_progress_cell(h))),
	}
}

// ClockNow returns the current time, in nanoseconds, on the clock the
// deadline is checked against (CLOCK_BOOTTIME on Linux).
func ClockNow() int64 { return int64(C.tg_clock_now_ns()) }

// SetDeadline sets the time (ClockNow units) after which writes and commits
// fail with ErrLeaseExpired; 0 removes the deadline. It is an atomic store
// into the Rust-side cell, not a cgo call, and takes effect even for an add
// or commit already running. No-op after Close.
func (w *Writer) SetDeadline(ns int64) {
	w.cellMu.RLock()
	defer w.cellMu.RUnlock()
	if w.cell != nil {
		atomic.StoreInt64(w.cell, ns)
	}
}

// Progress returns a counter of the work the writer has done: it grows
// with each document admitted, added or indexed, each delete queued, each
// file opened for writing and each 64 KiB written, each atomic file write
// and each commit step. It never grows while the writer waits (on a lock
// held by another process, on a hung share), so a caller that sees it
// stand still for long knows the writer is stuck, whatever the lease says.
// It is an atomic load from the Rust-side counter, not a cgo call, and
// never waits for a running call. After Close it returns the last value.
func (w *Writer) Progress() uint64 {
	w.cellMu.RLock()
	defer w.cellMu.RUnlock()
	if w.progress == nil {
		return w.final
	}
	return atomic.LoadUint64(w.progress)
}

// AddJSONLines upserts one document per line of buf (blank lines skipped):
// a document replaces any with the same "id". Bad lines are reported in the
// result, not as an error; the other lines are still added. Documents are
// visible after Commit.
func (w *Writer) AddJSONLines(buf []byte) (AddResult, error) {
	var res AddResult
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h == nil {
		return res, ErrClosed
	}
	bp, bl := bytesArg(buf)
	var out *C.char
	var cerr *C.TgError
	if code := C.tg_writer_add_json_lines(w.h, bp, bl, &out, &cerr); code != C.TG_OK {
		return res, takeError(code, cerr)
	}
	err := takeJSON(out, &res)
	if res.Errors == nil {
		res.Errors = []LineError{}
	}
	return res, err
}

// DeleteID deletes the documents with this id (visible after Commit).
func (w *Writer) DeleteID(id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h == nil {
		return ErrClosed
	}
	ip, il := stringArg(id)
	var cerr *C.TgError
	if code := C.tg_writer_delete_id(w.h, ip, il, &cerr); code != C.TG_OK {
		return takeError(code, cerr)
	}
	return nil
}

// Commit publishes pending work with payload stored in meta.json ("" = no
// payload) and returns the commit opstamp. meta.json is replaced by a
// compare-and-set, checked after the segments are written and again right
// before the rename that publishes it. Commit commits nothing, and
// abandons the writer, when
//   - the deadline has passed: ErrLeaseExpired;
//   - the committed payload's numeric "token" is greater than fenceToken,
//     or equals a nonzero fenceToken under another "grant" string than
//     payload's (when payload has one): ErrFenced, a newer holder exists;
//   - meta.json is not byte for byte the one the writer opened from (or
//     last published): changed by another writer, missing or unreadable:
//     ErrConflict; reopen the index and a writer, and retry.
func (w *Writer) Commit(payload string, fenceToken uint64) (opstamp uint64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h == nil {
		return 0, ErrClosed
	}
	pp, pl := stringArg(payload)
	var op C.uint64_t
	var cerr *C.TgError
	if code := C.tg_writer_commit(w.h, pp, pl, C.uint64_t(fenceToken), &op, &cerr); code != C.TG_OK {
		return 0, takeError(code, cerr)
	}
	return uint64(op), nil
}

// Close frees the writer: uncommitted work is abandoned and Tantivy's
// writer lock released. Waits for a running call. Idempotent; other calls
// after Close return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h == nil {
		return nil
	}
	w.cellMu.Lock()
	w.cell = nil
	if w.progress != nil {
		w.final = atomic.LoadUint64(w.progress)
		w.progress = nil
	}
	w.cellMu.Unlock()
	C.tg_writer_free(w.h)
	w.h = nil
	return nil
}

// Merge merges the index's committed segments and returns how many are
// left: with maxSegments 0, what the library's merge policy asks for
// (Tantivy's log merge policy over segments of at most 1,000 documents:
// eight of one size class become one); otherwise the smallest segments
// into one until at most maxSegments are left. Each merge publishes meta.json, with the last commit's opstamp
// and payload, through the same compare-and-set fence as Commit, under
// fenceToken, and is refused with the same errors; a refusal abandons the
// writer (a commit made before stays published).
func (w *Writer) Merge(maxSegments int, fenceToken uint64) (segments int, err error) {
	if maxSegments < 0 || maxSegments > 1<<31 {
		return 0, ErrInvalidArgument
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.h == nil {
		return 0, ErrClosed
	}
	var left C.uint32_t
	var cerr *C.TgError
	if code := C.tg_writer_merge(w.h, C.uint32_t(maxSegments), C.uint64_t(fenceToken), &left, &cerr); code != C.TG_OK {
		return 0, takeError(code, cerr)
	}
	return int(left), nil
}
