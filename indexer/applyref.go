package indexer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"

	"github.com/tguard/tguard/indexer/internal/batch"
	"github.com/tguard/tguard/indexer/internal/fileref"
	"github.com/tguard/tguard/indexer/internal/journal"
	"github.com/tguard/tguard/indexer/internal/walk"
)

// errChanging: a file kept changing while it was read.
var errChanging = errors.New("changed while it was being read")

// readTries bounds how often a file that changes during the read is read
// again.
const readTries = 3

// readText reads the text file a reference names and returns its document
// as applied, and whether it is still the content that was journaled. The
// file is read again if it changes during the read.
func readText(e journal.Entry) (doc []byte, same bool, err error) {
	for range readTries {
		f, err := os.Open(e.File())
		if err != nil {
			return nil, false, walk.UnwrapPathError(err)
		}
		before, err := f.Stat()
		if err == nil {
			var body []byte
			body, err = io.ReadAll(f)
			var after os.FileInfo
			if err == nil {
				after, err = f.Stat()
			}
			f.Close()
			if err != nil {
				return nil, false, walk.UnwrapPathError(err)
			}
			if !fileref.SameStat(before, after) {
				continue
			}
			if reason := walk.NotText(body); reason != "" {
				return nil, false, fmt.Errorf("%s now", reason)
			}
			doc, err := walk.TextDoc(e.ID, e.File(), body, after)
			return doc, e.Ref.Matches(after, body), err
		}
		f.Close()
		return nil, false, walk.UnwrapPathError(err)
	}
	return nil, false, errChanging
}

// readRef is the content of a reference entry as it would be applied (for
// journal.Journal.CopyReferences).
func readRef(e journal.Entry) ([]byte, bool, error) {
	if e.Op == journal.OpUpsert {
		return readText(e)
	}
	for range readTries {
		f, err := os.Open(e.File())
		if err != nil {
			return nil, false, walk.UnwrapPathError(err)
		}
		before, err := f.Stat()
		var body []byte
		var after os.FileInfo
		if err == nil {
			if body, err = io.ReadAll(f); err == nil {
				after, err = f.Stat()
			}
		}
		f.Close()
		if err != nil {
			return nil, false, walk.UnwrapPathError(err)
		}
		if fileref.SameStat(before, after) {
			return body, e.Ref.Matches(after, body), nil
		}
	}
	return nil, false, errChanging
}

// applyLines applies an OpLines entry: its copied lines, or the lines of
// the file its reference names. changed reports a file that is no longer
// the content that was journaled (its current content was applied);
// gone, one that can no longer be read (nothing was applied).
func applyLines(b *batch.Batcher, e journal.Entry, progress func()) (changed bool, gone error, err error) {
	if e.Ref == nil {
		return false, nil, batch.FeedLines(b, bytes.NewReader(e.Doc), e.Origin, nil, progress)
	}
	f, oerr := os.Open(e.File())
	if oerr != nil {
		return false, walk.UnwrapPathError(oerr), nil
	}
	defer f.Close()
	before, serr := f.Stat()
	if serr != nil {
		return false, walk.UnwrapPathError(serr), nil
	}
	var h hash.Hash
	if e.Ref.Hash != nil {
		h = sha256.New()
	}
	if err := batch.FeedLines(b, f, e.Origin, h, progress); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// A read error: what was added is abandoned with the writer.
			return false, nil, fmt.Errorf("%s: %w", e.Origin, pe.Err)
		}
		return false, nil, err
	}
	after, serr := f.Stat()
	if serr != nil || !fileref.SameStat(before, after) {
		// Lines from before and after a change may both have been added:
		// fail the flush (nothing is committed) rather than commit a mix.
		return false, nil, fmt.Errorf("%s: %w; run again", e.Origin, errChanging)
	}
	same := e.Ref.SameStat(after) && (h == nil || bytes.Equal(h.Sum(nil), e.Ref.Hash))
	return !same, nil, nil
}
