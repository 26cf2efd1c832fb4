package indexer

import (
	"context"
	"errors"
	"fmt"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer/internal/journal"
	"github.com/tguard/tguard/indexer/internal/payload"
	"github.com/tguard/tguard/lock"
)

// MergeResult says what Merge did.
type MergeResult struct {
	Before, After int    // segments
	Token         uint64 // the lease's fencing token
	Committed     bool
}

// Merge acquires the lease of the index in dir and merges its segments
// until at most maxSegments are left (at least 1), then commits under the
// lease's token and a new grant, keeping the journals' marks. Every
// publish of meta.json (the merges' and the commit's) goes through the
// same fence as Flush's commit. An index already within maxSegments is
// left alone (no commit). It needs no journal: opts are New's, and those
// of the journal and AddPaths do nothing here. Errors as for Flush; an
// error before the lease is asked for is a bad option.
func Merge(ctx context.Context, dir string, maxSegments int, opts ...Option) (res MergeResult, err error) {
	if maxSegments < 1 {
		return res, fmt.Errorf("indexer: merge to %d segments: at least 1", maxSegments)
	}
	ix, err := newIndexer(dir, opts)
	if err != nil {
		return res, err
	}
	defer ix.Close()
	lease, err := ix.acquire(ctx)
	if err != nil {
		return res, err
	}
	defer func() {
		if rerr := lease.Release(context.Background()); rerr != nil && err == nil && res.Committed {
			ix.cfg.log.Warn("indexer: release after merge", "error", rerr)
		}
	}()
	res, err = ix.merge(lease, maxSegments, journal.NewID())
	return res, leaseFirst(lease, err)
}

func (ix *Indexer) merge(lease *lock.Lease, maxSegments int, grant string) (res MergeResult, err error) {
	res.Token = lease.Token()
	idx, err := bridge.Open(ix.dir)
	if err != nil {
		return res, err
	}
	defer idx.Close()
	st, err := idx.Stats()
	if err != nil {
		return res, err
	}
	res.Before, res.After = st.Segments, st.Segments
	if st.Segments <= maxSegments {
		return res, nil
	}
	pl, err := payload.Parse(st.Payload)
	if err != nil {
		return res, err
	}
	if pl.Token > lease.Token() {
		return res, fmt.Errorf("%w: index token %d, lease token %d", ErrFenced, pl.Token, lease.Token())
	}
	w, err := ix.openWriter(lease, idx)
	if err != nil {
		return res, err
	}
	defer w.Close()
	stop := ix.guardWriter(lease, w)
	defer stop()
	if res.After, err = w.Merge(maxSegments, lease.Token()); err != nil {
		return res, mapWriteError(err)
	}
	lease.Progress()
	next := payload.Payload{Token: lease.Token(), Grant: grant, Applied: pl.Applied, Evicted: pl.Evicted}
	// Confirm is Check, and with etcd a transaction guarded by the mutex's
	// ownership, as before a flush's commit.
	if err := lease.Confirm(lease.Context()); err != nil {
		return res, err
	}
	if _, err := w.Commit(next.Encode(), lease.Token()); err != nil {
		if errors.Is(err, bridge.ErrConflict) {
			return res, fmt.Errorf("%w: %v", ErrFenced, err)
		}
		return res, mapWriteError(err)
	}
	res.Committed = true
	return res, nil
}
