package main

import (
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
	return bridge.ForEachLineBuffer(r, nativeBatchBytes, func(lines []byte) error {
		res, err := n.w.AddJSONLines(lines)
		if err != nil {
			return err
		}
		n.added += res.Added
		n.bad += res.Bad
		return nil
	})
}
