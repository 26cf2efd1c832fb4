package bridge

/*
#include "tguard_bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Sentinel errors; match with errors.Is. Every error from the library is an
// *Error whose Is method maps its Code to one of these.
var (
	ErrWriterLockBusy  = errors.New("writer lock busy")
	ErrSchemaMismatch  = errors.New("schema mismatch")
	ErrCorruptIndex    = errors.New("corrupt index")
	ErrIO              = errors.New("i/o error")
	ErrInvalidArgument = errors.New("invalid argument")
	ErrQuerySyntax     = errors.New("query syntax error")
	ErrNotAnIndex      = errors.New("not an index")
	ErrNotFound        = errors.New("index directory not found")
	ErrFenced          = errors.New("fenced")
	ErrLeaseExpired    = errors.New("lease expired")
	ErrInternal        = errors.New("internal error")
	// ErrConflict: meta.json is no longer the one the writer (or the
	// creation of a new index) opened from; nothing was published. Reopen
	// the index and a writer, and retry. ErrFenced, by contrast, means a
	// newer lease holder exists: stop.
	ErrConflict = errors.New("conflict")
	// ErrClosed is returned (bare, not as *Error) by calls on a closed Index or Writer.
	ErrClosed = errors.New("bridge: use of closed handle")
)

// Error codes of the Rust library (TG_ERR_* in tguard_bridge.h).
const (
	codeWriterLockBusy  = int(C.TG_ERR_WRITER_LOCK_BUSY)
	codeSchemaMismatch  = int(C.TG_ERR_SCHEMA_MISMATCH)
	codeCorruptIndex    = int(C.TG_ERR_CORRUPT_INDEX)
	codeIO              = int(C.TG_ERR_IO)
	codeInvalidArgument = int(C.TG_ERR_INVALID_ARGUMENT)
	codeQuerySyntax     = int(C.TG_ERR_QUERY_SYNTAX)
	codeNotAnIndex      = int(C.TG_ERR_NOT_AN_INDEX)
	codeFenced          = int(C.TG_ERR_FENCED)
	codeLeaseExpired    = int(C.TG_ERR_LEASE_EXPIRED)
	codeInternal        = int(C.TG_ERR_INTERNAL)
	codeNotFound        = int(C.TG_ERR_NOT_FOUND)
	codeConflict        = int(C.TG_ERR_CONFLICT)
)

var sentinels = map[int]error{
	codeWriterLockBusy:  ErrWriterLockBusy,
	codeSchemaMismatch:  ErrSchemaMismatch,
	codeCorruptIndex:    ErrCorruptIndex,
	codeIO:              ErrIO,
	codeInvalidArgument: ErrInvalidArgument,
	codeQuerySyntax:     ErrQuerySyntax,
	codeNotAnIndex:      ErrNotAnIndex,
	codeFenced:          ErrFenced,
	codeLeaseExpired:    ErrLeaseExpired,
	codeInternal:        ErrInternal,
	codeNotFound:        ErrNotFound,
	codeConflict:        ErrConflict,
}

// Error is an error reported by the Rust library.
type Error struct {
	Code    int    // TG_ERR_* code
	Message string // one-line detail from the library
}

// Error returns a one-line message: "<kind>: <detail>".
func (e *Error) Error() string {
	kind := "error " + fmt.Sprint(e.Code)
	if s, ok := sentinels[e.Code]; ok {
		kind = s.Error()
	}
	return kind + ": " + e.Message
}

// Is reports whether target is the sentinel for e.Code.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Code]
	return ok && s == target
}

func invalidArg(msg string) error {
	return &Error{Code: codeInvalidArgument, Message: msg}
}

// takeError converts and frees a Rust error. code is the function's return
// value, used if the library (against its contract) left cerr nil.
func takeError(code C.int32_t, cerr *C.TgError) error {
	if cerr == nil {
		return &Error{Code: int(code), Message: "no detail"}
	}
	defer C.tg_error_free(cerr)
	return &Error{Code: int(cerr.code), Message: C.GoString(cerr.message)}
}
