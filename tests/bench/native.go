package main

import (
	"bytes"
	"errors"
	"io"

	"github.com/tguard/tguard/bridge"
)

// nativeBatchBytes is the size of the buffers of JSON lines the indexer
// sends per call into the writer (indexer/internal/batch.DefaultBytes):
// the native baseline sends the same buffers, so the two differ only by
// what tguard adds around them.
const nativeBatchBytes = 8 << 20

// nativeBatch sends JSON-lines files to a writer as the indexer applies
// one, in buffers of whole lines, each line parsed once, in Rust.
type nativeBatch struct {
	w          *bridge.Writer
	added, bad int
}

// addLinesFrom sends r's lines in buffers of about nativeBatchBytes of
// whole lines (a longer line gets a buffer of its own).
func (n *nativeBatch) addLinesFrom(r io.Reader) error {
	buf := make([]byte, nativeBatchBytes)
	have := 0
	for {
		k, err := io.ReadFull(r, buf[have:])
		have += k
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
			res, err := n.w.AddJSONLines(buf[:cut])
			if err != nil {
				return err
			}
			n.added += res.Added
			n.bad += res.Bad
		}
		if eof {
			return nil
		}
		have = copy(buf, buf[cut:have])
	}
}
