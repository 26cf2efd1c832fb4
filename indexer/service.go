package indexer

import (
	"fmt"
	"time"

	"github.com/tguard/tguard/indexer/internal/journal"
)

// This file holds what a long-running service (tguard serve) needs beyond
// one Flush per run: sequence numbers for acknowledgements, a bound on how
// much one grant applies, a hook when the lease is granted, and the state
// of one document id in the journal.

type serviceConfig struct {
	maxApply   int
	onAcquired func(token uint64, waited time.Duration)
}

// AcceptIdentified journals docs, whose ids the caller has already read
// with DocID (ids[i] is the "id" of docs[i]): a service that checks a
// whole request before journaling any of it parses each document once,
// not twice. It returns the journal sequence numbers of the documents, in
// order. One call is one durable transaction: when it returns nil, every
// returned number is acknowledged.
func (ix *Indexer) AcceptIdentified(docs []Doc, ids []string) ([]uint64, error) {
	if len(ids) != len(docs) {
		return nil, fmt.Errorf("indexer: %d ids for %d documents", len(ids), len(docs))
	}
	entries := make([]journal.Entry, len(docs))
	for i, d := range docs {
		entries[i] = journal.Entry{Op: journal.OpUpsert, ID: ids[i], Doc: d.JSON, Origin: d.Origin}
	}
	return ix.appendSeqs(entries)
}

// DocID reads the "id" of a document as Accept does: a JSON object with a
// non-empty string "id", or an error saying what is wrong.
func DocID(doc []byte) (string, error) { return docID(doc) }

func (ix *Indexer) appendSeqs(entries []journal.Entry) ([]uint64, error) {
	last, err := ix.journal.Append(entries)
	if err != nil {
		return nil, fmt.Errorf("journaling: %w", err)
	}
	// One transaction on the journal's one connection, with writers
	// serialised by SQLite: the rows of one Append are consecutive.
	seqs := make([]uint64, len(entries))
	for i := range seqs {
		seqs[i] = last - uint64(len(entries)-1-i)
	}
	return seqs, nil
}

// WithMaxApply bounds the journal entries one Flush applies (0: all that
// are pending, also those journaled while it runs). A service that keeps
// accepting documents sets it so that each grant ends and the lease is
// handed over; the rest waits for the next Flush. It is checked after each
// batch (WithBatch), so a Flush may apply up to a batch less one more.
func WithMaxApply(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("indexer: max apply %d: must not be negative", n)
		}
		c.svc.maxApply = n
		return nil
	}
}

// WithOnAcquired calls fn when Flush is granted the lease, with the token
// and how long it asked for it (metrics of the hand-over).
func WithOnAcquired(fn func(token uint64, waited time.Duration)) Option {
	return func(c *config) error { c.svc.onAcquired = fn; return nil }
}
