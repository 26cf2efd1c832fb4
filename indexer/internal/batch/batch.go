package indexer

import (
	"bytes"
	"fmt"
	"io"

	"github.com/tguard/tguard/bridge"
)

// Default batch bounds: large enough that the cgo call costs nothing next
// to the indexing, small enough to bound memory.
const (
	DefaultBatchDocs  = 1000
	DefaultBatchBytes = 8 << 20
)

// lineAdder is what a Batcher writes to: a *bridge.Writer.
type lineAdder interface {
	AddJSONLines([]byte) (bridge.AddResult, error)
}

// Batcher groups documents into one buffer of JSON lines per call to the
// index writer.
type Batcher struct {
	W        lineAdder
	MaxDocs  int
	MaxBytes int
	// OnBad receives each document the index refused, named by its origin.
	OnBad func(Skip)

	Added, Bad int

	buf     bytes.Buffer
	origins []string
}

// Add queues d and sends the batch when it is full.
func (b *Batcher) Add(d Doc) error {
	b.buf.Write(d.JSON)
	b.buf.WriteByte('\n')
	b.origins = append(b.origins, d.Origin)
	if len(b.origins) >= max(b.MaxDocs, 1) || b.buf.Len() >= max(b.MaxBytes, 1) {
		return b.Flush()
	}
	return nil
}

// Flush sends what is queued.
func (b *Batcher) Flush() error {
	if len(b.origins) == 0 {
		return nil
	}
	res, err := b.W.AddJSONLines(b.buf.Bytes())
	if err != nil {
		return err
	}
	b.Added += res.Added
	b.Bad += res.Bad
	if b.OnBad != nil {
		for _, le := range res.Errors {
			origin := fmt.Sprintf("batch line %d", le.Line)
			if le.Line >= 1 && le.Line <= len(b.origins) {
				origin = b.origins[le.Line-1]
			}
			b.OnBad(Skip{Path: origin, Reason: le.Message})
		}
	}
	b.buf.Reset()
	b.origins = b.origins[:0]
	return nil
}

// AddLines sends a buffer of whole JSON lines, the lines first..first+k-1
// of the file path (for messages), in one call, after what is queued.
func (b *Batcher) AddLines(chunk []byte, first int, path string) error {
	if err := b.Flush(); err != nil {
		return err
	}
	res, err := b.W.AddJSONLines(chunk)
	if err != nil {
		return err
	}
	b.Added += res.Added
	b.Bad += res.Bad
	if b.OnBad != nil {
		for _, le := range res.Errors {
			b.OnBad(Skip{Path: fmt.Sprintf("%s:%d", path, first+le.Line-1), Reason: le.Message})
		}
	}
	return nil
}

// AddLinesFrom sends the JSON lines read from r (the file path, for
// messages) in buffers of whole lines of about MaxBytes: how a flush applies
// a JSON-lines file, each line parsed once, in Rust.
func (b *Batcher) AddLinesFrom(r io.Reader, path string) error {
	return feedLines(b, r, path, nil, nil)
}
