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
)

// errChanging: a file kept changing while it was read.
var errChanging = errors.New("changed while it was being read")

// readTries bounds how often a file that changes during the read is read
// again.
const readTries = 3

// readText reads the text file a reference names and returns its document
// as applied, and whether it is still the content that was journaled. The
// file is read again if it changes during the read.
func readText(e Entry) (doc []byte, same bool, err error) {
	for range readTries {
		f, err := os.Open(e.file())
		if err != nil {
			return nil, false, unwrapPathError(err)
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
				return nil, false, unwrapPathError(err)
			}
			if !sameStat(before, after) {
				continue
			}
			if reason := notText(body); reason != "" {
				return nil, false, fmt.Errorf("%s now", reason)
			}
			doc, err := textDoc(e.ID, e.file(), body, after)
			return doc, e.Ref.matches(after, body), err
		}
		f.Close()
		return nil, false, unwrapPathError(err)
	}
	return nil, false, errChanging
}

// readRef is the content of a reference entry as it would be applied (for
// Journal.CopyReferences).
func readRef(e Entry) ([]byte, bool, error) {
	if e.Op == OpUpsert {
		return readText(e)
	}
	for range readTries {
		f, err := os.Open(e.file())
		if err != nil {
			return nil, false, unwrapPathError(err)
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
			return nil, false, unwrapPathError(err)
		}
		if sameStat(before, after) {
			return body, e.Ref.matches(after, body), nil
		}
	}
	return nil, false, errChanging
}

func sameStat(a, b os.FileInfo) bool {
	return refOf(a, zeroTime).sameStat(b)
}

// feedLines sends r's JSON lines to b in buffers of about DefaultBatchBytes
// of whole lines (a longer line gets a buffer of its own), hashing what it
// reads into h if h is not nil. It returns the number of lines read.
func feedLines(b *Batcher, r io.Reader, path string, h hash.Hash, progress func()) error {
	buf := make([]byte, max(b.MaxBytes, 1<<16))
	have, line := 0, 1
	for {
		n, err := io.ReadFull(r, buf[have:])
		if h != nil {
			h.Write(buf[have : have+n])
		}
		have += n
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return err
		}
		cut := have
		if !eof {
			cut = bytes.LastIndexByte(buf[:have], '\n') + 1
			if cut == 0 { // one line longer than the buffer
				buf = append(buf, make([]byte, len(buf))...)
				continue
			}
		}
		if cut > 0 {
			if err := b.AddLines(buf[:cut], line, path); err != nil {
				return err
			}
			line += bytes.Count(buf[:cut], []byte{'\n'})
			if progress != nil {
				progress()
			}
		}
		if eof {
			return nil
		}
		have = copy(buf, buf[cut:have])
	}
}

// applyLines applies an OpLines entry: its copied lines, or the lines of
// the file its reference names. changed reports a file that is no longer
// the content that was journaled (its current content was applied);
// gone, one that can no longer be read (nothing was applied).
func applyLines(b *Batcher, e Entry, progress func()) (changed bool, gone error, err error) {
	if e.Ref == nil {
		return false, nil, feedLines(b, bytes.NewReader(e.Doc), e.Origin, nil, progress)
	}
	f, oerr := os.Open(e.file())
	if oerr != nil {
		return false, unwrapPathError(oerr), nil
	}
	defer f.Close()
	before, serr := f.Stat()
	if serr != nil {
		return false, unwrapPathError(serr), nil
	}
	var h hash.Hash
	if e.Ref.Hash != nil {
		h = sha256.New()
	}
	if err := feedLines(b, f, e.Origin, h, progress); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// A read error: what was added is abandoned with the writer.
			return false, nil, fmt.Errorf("%s: %w", e.Origin, pe.Err)
		}
		return false, nil, err
	}
	after, serr := f.Stat()
	if serr != nil || !sameStat(before, after) {
		// Lines from before and after a change may both have been added:
		// fail the flush (nothing is committed) rather than commit a mix.
		return false, nil, fmt.Errorf("%s: %w; run again", e.Origin, errChanging)
	}
	same := e.Ref.sameStat(after) && (h == nil || bytes.Equal(h.Sum(nil), e.Ref.Hash))
	return !same, nil, nil
}
