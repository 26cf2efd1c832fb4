package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer/internal/batch"
	"github.com/tguard/tguard/indexer/internal/journal"
	"github.com/tguard/tguard/indexer/internal/payload"
	"github.com/tguard/tguard/lock"
)

// ErrFenced means the index already carries a commit made under a later
// lease than ours: this process was paused or cut off past its lease, and
// nothing it had not committed is committed now. Its entries stay journaled.
var ErrFenced = errors.New("fenced: the index has a commit from a later lease")

// Indexer writes the entries of a local journal into a shared index, only
// while it holds the index folder's lease.
type Indexer struct {
	dir     string
	journal *journal.Journal
	locker  *lock.Locker
	cfg     *config
}

// New returns an Indexer for the index folder dir. It opens its journal:
// the file WithJournal names, or else the default journal of the index and
// the lease owner (DefaultJournalPath; give the owner with
// WithLockOptions(lock.WithOwner(...)) so that a rerun finds it), and
// records the index and owner in it (for ListJournals). An error from the
// options (the lease lock's included) matches ErrOption; any other is the
// journal's.
func New(dir string, opts ...Option) (*Indexer, error) {
	ix, err := newIndexer(dir, opts)
	if err != nil {
		return nil, err
	}
	if ix.journal, err = openJournal(dir, ix.cfg.journal, ix.locker.Owner()); err != nil {
		ix.locker.Close()
		return nil, err
	}
	return ix, nil
}

// ErrOption matches an error of New or Merge that comes from their options,
// the lease lock's included (see lock.New), rather than from the journal,
// the index or the lease.
var ErrOption = errors.New("indexer: bad option")

// optionError keeps the message of an option's error and makes it match
// ErrOption.
type optionError struct{ err error }

func (e optionError) Error() string        { return e.err.Error() }
func (e optionError) Unwrap() error        { return e.err }
func (e optionError) Is(target error) bool { return target == ErrOption }

// newIndexer is an Indexer without a journal (Merge needs none).
func newIndexer(dir string, opts []Option) (*Indexer, error) {
	ix, err := configure(dir, opts)
	if err != nil {
		return nil, optionError{err}
	}
	return ix, nil
}

func configure(dir string, opts []Option) (*Indexer, error) {
	cfg := &config{memory: DefaultMemoryBudget, batchDocs: DefaultBatchDocs, stall: DefaultStallTimeout,
		log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.threads > 0 && cfg.memory/uint64(cfg.threads) < minBytesPerThread {
		return nil, fmt.Errorf("indexer: memory budget %d for %d threads: at least %d bytes per thread",
			cfg.memory, cfg.threads, minBytesPerThread)
	}
	// The token floor anchors the lease's tokens to the index; the stall
	// timeout ends a lease whose writer stopped making progress. Both come
	// after the caller's lock options so that they always apply.
	lockOpts := append(slices.Clone(cfg.lockOpts), lock.WithTokenFloor(tokenFloor(dir)))
	if cfg.stall > 0 {
		lockOpts = append(lockOpts, lock.WithStallTimeout(cfg.stall))
	}
	l, err := lock.New(dir, lockOpts...)
	if err != nil {
		return nil, err
	}
	return &Indexer{dir: dir, locker: l, cfg: cfg}, nil
}

// Close releases the Indexer's resources and closes its journal. What
// the journal holds stays for the next Indexer of the same journal.
func (ix *Indexer) Close() error {
	err := ix.locker.Close()
	if ix.journal != nil {
		err = errors.Join(err, ix.journal.Close())
	}
	return err
}

// CopyReferences copies the content of the files that pending entries
// reference into the journal: called when a run ends without committing,
// so that the documents it reports as journaled no longer depend on the
// files. It returns the files that had changed since they were journaled
// (their current content was copied) and those that could not be read
// (left as references).
func (ix *Indexer) CopyReferences() (changed, gone []Skip, err error) {
	err = ix.journal.CopyReferences(readRef, func(e journal.Entry, _ bool, rerr error) {
		if rerr != nil {
			gone = append(gone, Skip{Path: e.Origin, Reason: fmt.Sprintf("not copied into the journal: %v", rerr)})
			return
		}
		changed = append(changed, Skip{Path: e.Origin, Reason: "changed after it was journaled: its current content was journaled"})
	})
	return changed, gone, err
}

// Accept journals docs. A document that is not a JSON object with a string
// "id" is refused (returned in bad) and never journaled. When Accept returns
// nil, the accepted documents are durable: they will be applied.
func (ix *Indexer) Accept(docs []Doc) (accepted int, bad []Skip, err error) {
	entries, bad := upserts(docs)
	if _, err := ix.journal.Append(entries); err != nil {
		return 0, bad, fmt.Errorf("journaling: %w", err)
	}
	return len(entries), bad, nil
}

// AcceptDeletes journals the deletion of ids.
func (ix *Indexer) AcceptDeletes(ids []string, origin string) error {
	entries := make([]journal.Entry, len(ids))
	for i, id := range ids {
		entries[i] = journal.Entry{Op: journal.OpDelete, ID: id, Origin: origin}
	}
	_, err := ix.journal.Append(entries)
	return err
}

// upserts are the journal entries of docs, and the documents refused for
// want of an id.
func upserts(docs []Doc) (entries []journal.Entry, bad []Skip) {
	entries = make([]journal.Entry, 0, len(docs))
	for _, d := range docs {
		id, err := docID(d.JSON)
		if err != nil {
			bad = append(bad, Skip{Path: d.Origin, Reason: err.Error()})
			continue
		}
		entries = append(entries, journal.Entry{Op: journal.OpUpsert, ID: id, Doc: d.JSON, Origin: d.Origin})
	}
	return entries, bad
}

func docID(doc []byte) (string, error) {
	var head struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	if head.ID == nil || *head.ID == "" {
		return "", errors.New(`no "id" string`)
	}
	return *head.ID, nil
}

// FlushResult says what one Flush did.
type FlushResult struct {
	Applied   int    // journal entries written into the index
	Bad       int    // entries the index refused (schema); not retried
	BadDocs   []Skip // the first of them, by origin
	Token     uint64 // the lease's fencing token
	Committed bool
	// Changed lists files that changed after they were journaled and
	// before they were applied: their current content was applied.
	// Gone lists files that could no longer be read: nothing was applied.
	Changed, Gone []Skip
	// Leased says whether the lease was taken: an empty journal needs no
	// grant (nothing to apply, nothing left to confirm).
	Leased bool
}

// Flush acquires the lease, waiting as long as ctx allows, applies every
// pending journal entry, commits with the lease's fencing token, and
// releases. Entries leave the journal only when a later grant reads them
// in the index's last commit; a crash anywhere leaves each entry applied
// exactly once in the end. Errors match lock.ErrHeld (not acquired),
// lock.ErrLeaseLost (lost while writing: nothing committed) or ErrFenced
// (the index was committed by a later lease, or changed under this writer
// more often than it retries).
func (ix *Indexer) Flush(ctx context.Context) (res FlushResult, err error) {
	if n, err := ix.journal.Len(); err != nil || n == 0 {
		// Nothing to apply and nothing of an earlier commit to confirm:
		// no grant, no commit; the index keeps its opstamp and token.
		return res, err
	}
	res.Leased = true
	lease, err := ix.acquire(ctx)
	if err != nil {
		return res, err
	}
	defer func() {
		if rerr := lease.Release(context.Background()); rerr != nil && err == nil && res.Committed {
			// Committed under a valid lease; the release is housekeeping.
			ix.cfg.log.Warn("indexer: release after commit", "error", rerr)
		}
	}()
	// One grant nonce for this grant's commits: a commit with our token and
	// another nonce is another grant's, and the bridge refuses to publish
	// over it.
	grant := journal.NewID()
	for attempt := 1; ; attempt++ {
		res, err = ix.apply(lease, grant)
		res.Leased = true
		if !errors.Is(err, bridge.ErrConflict) || lease.Check() != nil {
			break
		}
		if attempt == maxConflictRetries {
			err = fmt.Errorf("%w: the index changed under this writer %d times while it held the lease: %v",
				ErrFenced, attempt, err)
			break
		}
		// meta.json changed after this writer opened it, under a token not
		// above ours: another process published while we held the lease (a
		// paused or force-broken holder that still believed in its lease).
		// Nothing of ours was published; build again on what is there.
		ix.cfg.log.Warn("indexer: the index changed under this writer; reopening", "attempt", attempt, "error", err)
	}
	return res, leaseFirst(lease, err)
}

func samePayload(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// maxConflictRetries bounds how often one grant reopens the index after a
// publish was refused because meta.json changed under the writer.
const maxConflictRetries = 3

// leaseFirst names a lost lease as the cause of a failure that came after
// it: once the lease is gone, a successor may already have removed the
// files this writer was still using (Tantivy deletes unpublished segment
// files when it commits), so the failure shows as a missing file or a
// "corrupt index" when the index is in fact fine. The error then matches
// lock.ErrLeaseLost and keeps the step's own message.
func leaseFirst(lease *lock.Lease, err error) error {
	if err == nil {
		return nil
	}
	err = mapWriteError(err)
	if errors.Is(err, lock.ErrLeaseLost) || errors.Is(err, ErrFenced) {
		return err
	}
	if lerr := lease.Check(); lerr != nil {
		return fmt.Errorf("%w; the step under way then failed: %v", lerr, err)
	}
	return err
}

// apply is one attempt of Flush under lease: open, reconcile, apply,
// commit.
func (ix *Indexer) apply(lease *lock.Lease, grant string) (res FlushResult, err error) {
	res.Token = lease.Token()
	// Opened after the grant: the metadata is the latest committed, never a
	// view from before another holder's commit.
	// Created (if new) under the lease's deadline and token.
	idx, err := bridge.OpenOrCreateGuarded(ix.dir, ix.cfg.schema,
		deadlineNs(lease), lease.Token())
	if err != nil {
		return res, err
	}
	defer idx.Close()
	st, err := idx.Stats()
	if err != nil {
		return res, err
	}
	pl, err := payload.Parse(st.Payload)
	if err != nil {
		return res, err
	}
	switch {
	case pl.Token > lease.Token():
		return res, fmt.Errorf("%w: index token %d, lease token %d", ErrFenced, pl.Token, lease.Token())
	case pl.Token == lease.Token() && pl.Grant != "" && pl.Grant != grant:
		return res, fmt.Errorf("%w: the index was committed by another grant of token %d (the lease folder was lost?)",
			ErrFenced, lease.Token())
	}
	lease.Progress()
	// Reconcile: what the index's last commit shows applied leaves the
	// journal. This reading is a later grant's, so it confirms the
	// journal's own earlier commits; entries it does not show are applied
	// again.
	done, err := ix.journal.Confirmed(pl)
	if err != nil {
		return res, fmt.Errorf("journal: %w", err)
	}
	if err := ix.journal.Applied(done); err != nil {
		return res, fmt.Errorf("journal: %w", err)
	}
	pending, err := ix.journal.Pending(done, ix.cfg.batchDocs)
	if err != nil || len(pending) == 0 {
		return res, err
	}

	w, err := ix.openWriter(lease, idx)
	if err != nil {
		return res, err
	}
	defer w.Close() // after a failure: abandons what was not committed
	// The writer opened meta.json as it was then, and its publish is
	// checked against exactly that. The payload this commit builds on must
	// be the same one: read again, and start over if another commit came
	// in between the two readings.
	if again, err := idx.Stats(); err != nil {
		return res, err
	} else if again.Opstamp != st.Opstamp || !samePayload(again.Payload, st.Payload) {
		return res, fmt.Errorf("%w: meta.json changed while the writer was opening (opstamp %d, then %d)",
			bridge.ErrConflict, st.Opstamp, again.Opstamp)
	}
	stop := ix.guardWriter(lease, w)
	defer stop()

	b := &batch.Batcher{W: w, MaxDocs: ix.cfg.batchDocs, MaxBytes: batch.DefaultBytes, OnBad: func(origin, reason string) {
		if len(res.BadDocs) < 100 {
			res.BadDocs = append(res.BadDocs, Skip{Path: origin, Reason: reason})
		}
	}}
	last := done
	deletes := 0
	progress := func() {
		lease.Progress()
		if ix.cfg.progress != nil {
			ix.cfg.progress(b.Added + b.Bad + deletes)
		}
	}
	for len(pending) > 0 {
		if err := lease.Check(); err != nil {
			return res, err
		}
		if err := ix.interrupted(); err != nil {
			return res, err
		}
		for _, e := range pending {
			if err := ix.applyEntry(b, w, e, &res, progress); err != nil {
				return res, mapWriteError(err)
			}
			if e.Op == journal.OpDelete {
				deletes++
			}
		}
		if err := b.Flush(); err != nil {
			return res, mapWriteError(err)
		}
		last = pending[len(pending)-1].Seq
		res.Applied = b.Added + b.Bad + deletes
		progress()
		if ix.cfg.svc.maxApply > 0 && res.Applied >= ix.cfg.svc.maxApply {
			break // WithMaxApply: the rest waits for the next grant
		}
		if pending, err = ix.journal.Pending(last, ix.cfg.batchDocs); err != nil {
			return res, fmt.Errorf("journal: %w", err)
		}
	}
	res.Bad = b.Bad

	next := pl.Next(lease.Token(), grant, ix.journal.ID(), last)
	// Confirm is Check, and with etcd a transaction guarded by the mutex's
	// ownership: a holder cut off from the cluster commits nothing.
	if err := lease.Confirm(lease.Context()); err != nil {
		return res, err
	}
	if err := ix.interrupted(); err != nil {
		return res, err
	}
	// A pause here, after the last check in Go, is what the bridge's own
	// deadline check and the fence at commit are for.
	ix.cfg.fp.hit("before-commit")
	// The bridge checks the deadline, the token and that meta.json is
	// still the one this writer opened, right before the rename that
	// publishes the commit.
	if _, err := w.Commit(next.Encode(), lease.Token()); err != nil {
		return res, mapWriteError(err)
	}
	res.Committed = true
	ix.cfg.fp.hit("after-commit")
	if err := ix.journal.Committed(last, lease.Token()); err != nil {
		// Committed; the next grant confirms from the payload all the same.
		ix.cfg.log.Warn("indexer: noting the commit in the journal", "error", err)
	}
	// Small runs leave small segments; the merge policy keeps their number
	// bounded. The commit stands whatever the merge does.
	if lease.Check() == nil {
		if _, err := w.Merge(0, lease.Token()); err != nil {
			ix.cfg.log.Warn("indexer: merging segments after the commit", "error", err)
		}
	}
	return res, nil
}

// openWriter opens the Tantivy writer. Tantivy's own writer lock is a
// kernel lock, so it only ever meets a writer of this host: a previous
// holder still dropping its writer (wait a little for it), or one stopped
// while holding it (then give up with its error; its lease is over and it
// can no longer commit, but its lock stays until it dies or resumes).
func (ix *Indexer) openWriter(lease *lock.Lease, idx *bridge.Index) (*bridge.Writer, error) {
	deadline := time.Now().Add(min(lease.Remaining()/2, 5*time.Second))
	wait := 5 * time.Millisecond
	for {
		w, err := idx.Writer(ix.cfg.memory, ix.cfg.threads)
		if !errors.Is(err, bridge.ErrWriterLockBusy) || time.Now().Add(wait).After(deadline) {
			return w, err
		}
		select {
		case <-lease.Done():
			return nil, lease.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

func (ix *Indexer) applyEntry(b *batch.Batcher, w *bridge.Writer, e journal.Entry, res *FlushResult, progress func()) error {
	switch e.Op {
	case journal.OpUpsert:
		if e.Doc == nil && e.Ref != nil {
			doc, same, err := readText(e)
			if err != nil {
				res.Gone = append(res.Gone, Skip{Path: e.Origin, Reason: "not indexed: " + err.Error()})
				return nil
			}
			if !same {
				res.Changed = append(res.Changed, Skip{Path: e.Origin, Reason: "changed after it was journaled: its current content was indexed"})
			}
			return b.Add(doc, e.Origin)
		}
		return b.Add(e.Doc, e.Origin)
	case journal.OpLines:
		changed, gone, err := applyLines(b, e, progress)
		switch {
		case err != nil:
			return err
		case gone != nil:
			res.Gone = append(res.Gone, Skip{Path: e.Origin, Reason: "not indexed: " + gone.Error()})
		case changed:
			res.Changed = append(res.Changed, Skip{Path: e.Origin, Reason: "changed after it was journaled: its current lines were indexed"})
		}
		return nil
	case journal.OpDelete:
		if err := b.Flush(); err != nil { // keep the journal's order
			return err
		}
		return w.DeleteID(e.ID)
	}
	return fmt.Errorf("journal entry %d: unknown op %d", e.Seq, e.Op)
}

// mapWriteError turns the bridge's refusals into this package's errors.
func mapWriteError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrFenced):
		return fmt.Errorf("%w: %v", ErrFenced, err)
	case errors.Is(err, bridge.ErrLeaseExpired):
		return fmt.Errorf("%w: %v", lock.ErrLeaseLost, err)
	}
	return err
}

// deadlineNs is the lease's deadline on the clock Rust compares with
// (bridge.ClockNow: CLOCK_BOOTTIME on Linux, as the lease's own).
func deadlineNs(lease *lock.Lease) int64 {
	return bridge.ClockNow() + int64(lease.Remaining())
}

// guardWriter keeps the writer's deadline cell (read by Rust before every
// batch and commit, without a cgo call from here) at the lease's deadline,
// moves it to the past the moment the lease ends, and tells the lease when
// the writer made progress (Rust counts documents, deletes and bytes
// written): a writer stuck inside Tantivy stops renewing the lease once
// the stall timeout passes, so other hosts are not blocked for ever.
func (ix *Indexer) guardWriter(lease *lock.Lease, w *bridge.Writer) (stop func()) {
	set := func() { w.SetDeadline(deadlineNs(lease)) }
	set()
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(min(max(lease.Remaining()/20, 5*time.Millisecond), 250*time.Millisecond))
		defer t.Stop()
		seen := w.Progress()
		for {
			select {
			case <-lease.Done():
				w.SetDeadline(1) // in the past: Rust refuses from now on
				return
			case <-quit:
				return
			case <-t.C:
				set()
				if p := w.Progress(); p != seen {
					seen = p
					lease.Progress()
				}
			}
		}
	}()
	return func() { close(quit); <-finished }
}
