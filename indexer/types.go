package indexer

import (
	"github.com/tguard/tguard/indexer/internal/batch"
	"github.com/tguard/tguard/indexer/internal/fileref"
	"github.com/tguard/tguard/indexer/internal/payload"
	"github.com/tguard/tguard/indexer/internal/walk"
)

// Doc is one document to index: a JSON object for the index's schema, with
// an "id" string (the upsert key), and where it came from, for messages.
type Doc struct {
	JSON   []byte
	Origin string // "path" or "path:line"
}

// Skip is a file, line or document that was not indexed, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Defaults of what AddPaths journals and Flush applies per step.
const (
	// DefaultBatchDocs (1,000) is how many documents go into one call into
	// the index, and how many files into one journal transaction
	// (WithBatch).
	DefaultBatchDocs = batch.DefaultDocs
	// DefaultMaxFileSize (10 MiB) is the largest text file AddPaths
	// indexes as one document (WithMaxFileSize).
	DefaultMaxFileSize = walk.DefaultMaxSize
)

// RacyWindow (3 s) is how close to the moment a file was journaled its
// modification time may be before its size and times no longer prove its
// content; such a file's content hash is journaled too (see AddPaths).
const RacyWindow = fileref.RacyWindow

// ErrOutsideRoot: a path given to AddPaths is not below the folder of
// WithRoot, so it has no id relative to it.
var ErrOutsideRoot = walk.ErrOutsideRoot

// PayloadToken is the fencing token of the commit whose payload (as the
// bridge's Stats return it) is p: 0 for an index tguard never committed.
func PayloadToken(p *string) (uint64, error) {
	pl, err := payload.Parse(p)
	return pl.Token, err
}

// WalkDocs calls fn with each document AddPaths would journal for paths
// (files and folders; the same ids, WithRoot aside, and the same checks),
// made from the files' contents; skipped files are left out. For programs
// that want the documents themselves, such as a benchmark's corpus.
func WalkDocs(paths []string, fn func(Doc) error) error {
	w := &walk.Walker{OnDoc: func(doc []byte, origin string) error {
		return fn(Doc{JSON: doc, Origin: origin})
	}}
	return w.Walk(paths)
}
