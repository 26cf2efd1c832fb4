// Package batch groups documents into buffers of JSON lines, one call into
// the index writer per buffer, and maps the writer's per-line errors back
// to the file and line each document came from.
package batch

import (
	"bytes"
	"fmt"
	"hash"
	"io"

	"github.com/tguard/tguard/bridge"
)

// Default batch bounds: large enough that the cgo call costs nothing next
// to the indexing, small enough to bound memory.
const (
	DefaultDocs  = 1000
	DefaultBytes = 8 << 20
)

// LineAdder is what a Batcher writes to: a *bridge.Writer.
type LineAdder interface {
	AddJSONLines([]byte) (bridge.AddResult, error)
}

// Batcher groups documents into one buffer of JSON lines per call to the
// index writer.
type Batcher struct {
	W        LineAdder
	MaxDocs  int
	MaxBytes int
	// OnBad receives each document the index refused, named by its
	// origin, and the index's reason.
	OnBad func(origin, reason string)

	Added, Bad int

	buf     bytes.Buffer
	origins []string
}

// Add queues doc (one JSON object) from origin ("path" or "path:line")
// and sends the batch when it is full.
func (b *Batcher) Add(doc []byte, origin string) error {
	b.buf.Write(doc)
	b.buf.WriteByte('\n')
	b.origins = append(b.origins, origin)
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
			b.OnBad(origin, le.Message)
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
			b.OnBad(fmt.Sprintf("%s:%d", path, first+le.Line-1), le.Message)
		}
	}
	return nil
}

// FeedLines sends r's JSON lines to b in buffers of about MaxBytes
// of whole lines (a longer line gets a buffer of its own), hashing what it
// reads into h if h is not nil, and calls progress (if not nil) after
// each buffer.
func FeedLines(b *Batcher, r io.Reader, path string, h hash.Hash, progress func()) error {
	line := 1
	return bridge.ForEachLineBuffer(r, max(b.MaxBytes, 1<<16), func(lines []byte) error {
		if h != nil {
			h.Write(lines)
		}
		if err := b.AddLines(lines, line, path); err != nil {
			return err
		}
		line += bytes.Count(lines, []byte{'\n'})
		if progress != nil {
			progress()
		}
		return nil
	})
}
