package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tguard/tguard/indexer"
	"github.com/tguard/tguard/lock"
)

// turns is serve's writer: while documents are pending in the journal, it
// takes a turn every commit interval: asks for the lease (waiting while
// another instance holds it), applies, commits and releases. The lease is
// released after every turn, so an instance with nothing pending never
// holds it, and a waiting instance is granted it between two turns of any
// other: each instance waits at least the commit interval between its own
// turns.
type turns struct {
	log       *slog.Logger
	ixr       *indexer.Indexer
	every     time.Duration
	metrics   *serveMetrics
	kick      chan struct{} // a document was journaled
	committed *recentCommits

	mu      sync.Mutex
	holding bool
}

// poke says that documents were journaled.
func (t *turns) poke() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// acquired is the indexer's WithOnAcquired hook.
func (t *turns) acquired(token uint64, waited time.Duration) {
	t.mu.Lock()
	t.holding = true
	t.mu.Unlock()
	t.metrics.granted(token, waited)
}

// run takes turns until ctx ends. Cancelling ctx stops a wait for the
// lease; a turn that holds it finishes its commit first.
func (t *turns) run(ctx context.Context) {
	// Documents a killed run left journaled are committed at start.
	t.poke()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
		case <-time.After(t.every):
			// Also retries a failed turn and picks up what another
			// process added to the same journal.
		}
		// Let documents gather and others take their turn: at most one
		// turn per interval.
		if wait := t.every - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		n, err := t.ixr.Pending()
		if err != nil {
			t.log.Warn("serve: reading the journal", "error", err)
			continue
		}
		if n == 0 {
			continue
		}
		t.turn(ctx)
		last = time.Now()
		if n, _ := t.ixr.Pending(); n > 0 {
			t.poke() // more than one turn's worth, or added meanwhile
		}
	}
}

// turn is one Flush: ask for the lease, apply, commit, release.
func (t *turns) turn(ctx context.Context) {
	// The ids about to be applied, so that GET /documents/{id}/status can
	// name the commit's token after the journal has dropped them.
	if ids, token, err := t.ixr.CommittedIDs(t.committed.max); err == nil {
		t.committed.add(ids, token)
	}
	start := time.Now()
	res, err := t.ixr.Flush(ctx)
	t.mu.Lock()
	t.holding = false
	t.mu.Unlock()
	t.metrics.turnEnded()
	switch {
	case err == nil:
		if res.Committed {
			t.metrics.committed(res, time.Since(start))
			t.log.Info("serve: committed", "token", res.Token, "applied", res.Applied, "bad", res.Bad)
		}
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Shutting down while waiting for the lease: nothing held.
	case errors.Is(err, lock.ErrLeaseLost), errors.Is(err, indexer.ErrFenced):
		t.metrics.leaseLost()
		t.log.Warn("serve: turn lost its lease; the documents stay journaled", "error", err)
	default:
		t.log.Warn("serve: turn failed; the documents stay journaled", "error", err)
	}
}

// recentCommits remembers the commit token of the last max ids that
// this instance saw committed and its journal then dropped.
type recentCommits struct {
	mu    sync.Mutex
	max   int
	token map[string]uint64
	order []string
}

func newRecentCommits(max int) *recentCommits {
	return &recentCommits{max: max, token: map[string]uint64{}}
}

func (r *recentCommits) add(ids []string, token uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if _, ok := r.token[id]; !ok {
			r.order = append(r.order, id)
		}
		r.token[id] = token
	}
	if over := len(r.order) - r.max; over > 0 {
		for _, id := range r.order[:over] {
			delete(r.token, id)
		}
		r.order = append([]string(nil), r.order[over:]...)
	}
}

func (r *recentCommits) get(id string) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.token[id]
	return t, ok
}
