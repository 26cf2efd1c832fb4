package bridge

/*
#include "tguard_bridge.h"
*/
import "C"

import (
	"encoding/json"
	"math"
	"sync"
)

// Index is an open Tantivy index. Safe for concurrent use; Search, Stats and
// IDsWithPrefix run in parallel.
type Index struct {
	// mu: read-locked by every call, write-locked by Close, so Close waits
	// for running calls and no call ever sees a freed handle.
	mu sync.RWMutex
	h  *C.TgIndex
}

// SearchResult is the answer to Search. Total counts all matches; Hits holds
// at most limit of them, best first.
type SearchResult struct {
	Total int   `json:"total"`
	Hits  []Hit `json:"hits"`
}

// Stats describes the last commit. Docs excludes deleted documents; Payload
// is nil when the commit had none.
type Stats struct {
	Docs     uint64  `json:"docs"`
	Segments int     `json:"segments"`
	Payload  *string `json:"payload"`
	Opstamp  uint64  `json:"opstamp"`
}

var defaultSchema = sync.OnceValue(func() string { return C.GoString(C.tg_default_schema_json()) })

// DefaultSchemaJSON returns the default schema in tguard's schema JSON:
// id (string, stored, the upsert key), path (text, stored: path:word finds
// a folder or file name word), title (text, stored), body (text, stored, for
// snippets), modified (date, indexed, fast, stored).
func DefaultSchemaJSON() string { return defaultSchema() }

// Version returns the library and Tantivy versions.
func Version() string { return C.GoString(C.tg_version()) }

// Open opens an existing index with whatever schema it has. A missing
// directory is ErrNotFound, a directory without meta.json ErrNotAnIndex.
func Open(dir string) (*Index, error) {
	return open(dir, "", false, 0, 0)
}

// OpenOrCreate opens the index in dir, creating the directory and the index
// if needed. schemaJSON "" means DefaultSchemaJSON() for a new index and
// the schema it keeps for an existing one. An existing index with a
// different schema given is ErrSchemaMismatch; it is never rebuilt. A new
// index's meta.json is published only while there still is none: another
// process that created it in the meantime gives ErrConflict (open again).
//
// A folder whose meta.json is missing but which holds a complete temporary
// copy of it (a publish whose rename failed on a share, after the old
// meta.json was deleted) is ErrCorruptIndex, from Open too; the message
// names the copy and the mv command that restores it. Searches and Stats
// wait at most 30 s for Tantivy's meta lock held by another process of
// this host, then fail with ErrIO.
func OpenOrCreate(dir string, schemaJSON string) (*Index, error) {
	return open(dir, schemaJSON, true, 0, 0)
}

// OpenOrCreateGuarded is OpenOrCreate for a lease holder: a new index's
// first meta.json is published only before deadlineNs (ClockNow units) and
// only if no meta.json committed under a token above token exists, so that
// a creator whose lease lapsed mid-creation (a pause) cannot publish an
// empty index over a newer holder's commits. The refusals are
// ErrLeaseExpired, ErrFenced and ErrConflict (meta.json appeared meanwhile).
func OpenOrCreateGuarded(dir, schemaJSON string, deadlineNs int64, token uint64) (*Index, error) {
	return open(dir, schemaJSON, true, deadlineNs, token)
}

func open(dir, schemaJSON string, create bool, deadlineNs int64, token uint64) (*Index, error) {
	dp, dl := stringArg(dir)
	sp, sl := stringArg(schemaJSON)
	var cerr *C.TgError
	h := C.tg_index_open(dp, dl, sp, sl, C.bool(create), C.int64_t(deadlineNs), C.uint64_t(token), &cerr)
	if h == nil {
		return nil, takeError(C.TG_ERR_INTERNAL, cerr)
	}
	return &Index{h: h}, nil
}

// Close frees the index. Writers opened from it stay usable. Idempotent;
// other calls after Close return ErrClosed.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.h != nil {
		C.tg_index_free(ix.h)
		ix.h = nil
	}
	return nil
}

// Writer opens Tantivy's writer on the index. threads 0 lets the library
// choose; memoryBudget is split across threads, at least 15,000,000 bytes
// each (else ErrInvalidArgument). Another writer on the same directory, in
// this or another process, gives ErrWriterLockBusy.
func (ix *Index) Writer(memoryBudget uint64, threads int) (*Writer, error) {
	if threads < 0 || threads > math.MaxUint32 {
		return nil, invalidArg("threads out of range")
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.h == nil {
		return nil, ErrClosed
	}
	var cerr *C.TgError
	h := C.tg_index_writer(ix.h, C.uint64_t(memoryBudget), C.uint32_t(threads), &cerr)
	if h == nil {
		return nil, takeError(C.TG_ERR_INTERNAL, cerr)
	}
	return newWriter(h), nil
}

// Search runs query against the last commit (terms without a field search
// all text fields). An empty query is ErrInvalidArgument, an unparsable one
// ErrQuerySyntax. limit 0 only counts.
func (ix *Index) Search(query string, limit int) (SearchResult, error) {
	return ix.SearchFields(query, limit, nil)
}

// SearchFields is Search keeping only the stored fields named in fields
// (nil: all). A name not in the schema, or not stored, is
// ErrInvalidArgument.
func (ix *Index) SearchFields(query string, limit int, fields []string) (SearchResult, error) {
	var res SearchResult
	if limit < 0 || limit > math.MaxUint32 {
		return res, invalidArg("limit out of range")
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.h == nil {
		return res, ErrClosed
	}
	qp, ql := stringArg(query)
	var names []byte
	if fields != nil {
		names, _ = json.Marshal(fields) // strings only: cannot fail
	}
	fp, fl := bytesArg(names)
	var out *C.char
	var cerr *C.TgError
	if code := C.tg_index_search_fields(ix.h, qp, ql, C.uint32_t(limit), fp, fl, &out, &cerr); code != C.TG_OK {
		return res, takeError(code, cerr)
	}
	err := takeJSON(out, &res)
	if res.Hits == nil {
		res.Hits = []Hit{}
	}
	return res, err
}

// IDsWithPrefix returns every id of the last commit that starts with prefix,
// sorted by bytes, each once; ids whose documents are all deleted are left
// out, uncommitted changes are not seen. "" lists every id; no match gives
// an empty, non-nil slice.
//
// The match is a plain string prefix: "/a/b" also matches "/a/bc". To list
// what is inside a folder, pass the folder's path with its trailing
// separator ("/a/b/"). An index whose schema has no indexed string "id"
// field gives ErrInvalidArgument.
func (ix *Index) IDsWithPrefix(prefix string) ([]string, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.h == nil {
		return nil, ErrClosed
	}
	pp, pl := stringArg(prefix)
	var out *C.char
	var cerr *C.TgError
	if code := C.tg_index_ids_with_prefix(ix.h, pp, pl, &out, &cerr); code != C.TG_OK {
		return nil, takeError(code, cerr)
	}
	var ids []string
	if err := takeJSON(out, &ids); err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// Stats reports the last commit's document count, segments, payload and opstamp.
func (ix *Index) Stats() (Stats, error) {
	var st Stats
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.h == nil {
		return st, ErrClosed
	}
	var out *C.char
	var cerr *C.TgError
	if code := C.tg_index_stats(ix.h, &out, &cerr); code != C.TG_OK {
		return st, takeError(code, cerr)
	}
	return st, takeJSON(out, &st)
}
