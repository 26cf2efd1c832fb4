package indexer

import (
	"errors"
	"os"

	"github.com/tguard/tguard/bridge"
	"github.com/tguard/tguard/indexer/internal/batch"
	"github.com/tguard/tguard/indexer/internal/walk"
)

// AddResult says what one AddPaths did.
type AddResult struct {
	Files    int // regular files seen
	Accepted int // files journaled: those that changed since they were last journaled
	Deleted  int // deletions journaled by WithPrune
}

// AddPaths walks paths (files and folders) and journals what changed since
// this journal last saw it: a text file is one document, a *.jsonl file
// one document per line. The journal keeps a reference to each file (path,
// size, times, inode; its content hash for a file modified within
// RacyWindow), not a copy: the file is the journal's copy for as long as it
// is unchanged, and a run that ends without committing calls
// CopyReferences before it reports the documents as journaled
// (docs/PROTOCOL.md, "File references in the journal").
//
// Binary, non-UTF-8 and oversized files (WithMaxFileSize) and symbolic
// links inside folders are skipped and reported to WithOnSkip's function.
// A file's id is its canonical path, or its path below WithRoot's folder
// ("/docs/a.txt"). With WithPrune, the deletion of every document under a
// given folder whose file was not seen is journaled too. It stops with
// ErrInterrupted when WithInterrupt's channel closes; a path outside the
// root gives an error matching ErrOutsideRoot.
func (ix *Indexer) AddPaths(paths []string) (AddResult, error) {
	var res AddResult
	state, err := ix.fileState()
	if err != nil {
		return res, err
	}
	seen := map[string]bool{}
	var pending []walk.FileDoc
	size := 0
	flush := func() error {
		n, err := ix.acceptFiles(pending)
		res.Accepted += n
		clear(pending) // drop the bodies
		pending, size = pending[:0], 0
		return err
	}
	w := &walk.Walker{
		MaxSize:   ix.cfg.walk.maxSize,
		Root:      ix.cfg.walk.root,
		Unchanged: state.Unchanged,
		OnRef: func(d walk.FileDoc) error {
			if err := ix.interrupted(); err != nil {
				return err // stop adding; the batch is dropped
			}
			pending = append(pending, d)
			size += len(d.Body)
			if len(pending) >= ix.cfg.batchDocs || size >= batch.DefaultBytes {
				return flush()
			}
			return nil
		},
	}
	if fn := ix.cfg.walk.onSkip; fn != nil {
		w.OnSkip = func(path, reason string) { fn(Skip{Path: path, Reason: reason}) }
	}
	w.OnFile = func(path string) {
		res.Files++
		if ix.cfg.walk.onFile != nil {
			ix.cfg.walk.onFile(path)
		}
		if id, err := w.ID(path); err == nil {
			seen[id] = true
		}
	}
	if err := w.Walk(paths); err != nil {
		return res, err
	}
	if err := flush(); err != nil {
		return res, err
	}
	if ix.cfg.walk.prune {
		res.Deleted, err = ix.pruneGone(w, paths, seen)
	}
	return res, err
}

// pruneGone journals deletions for documents under the folders in paths
// whose files were not seen in this walk, and forgets those files, so that
// a file created again under the same path is indexed again. Reading the
// index needs no lease: what it journals is applied under the lease, and
// deleting an id that is already gone does nothing.
func (ix *Indexer) pruneGone(w *walk.Walker, paths []string, seen map[string]bool) (int, error) {
	idx, err := bridge.Open(ix.dir)
	if errors.Is(err, bridge.ErrNotFound) || errors.Is(err, bridge.ErrNotAnIndex) {
		return 0, nil // nothing indexed yet, nothing to prune
	}
	if err != nil {
		return 0, err
	}
	defer idx.Close()
	deleted := 0
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		prefixes, err := w.FolderPrefixes(p)
		if err != nil {
			return deleted, err
		}
		for _, prefix := range prefixes {
			ids, err := idx.IDsWithPrefix(prefix)
			if err != nil {
				return deleted, err
			}
			var gone []string
			for _, id := range ids {
				if !seen[id] {
					gone = append(gone, id)
				}
			}
			if err := ix.AcceptDeletes(gone, "prune "+prefix); err != nil {
				return deleted, err
			}
			if err := ix.journal.ForgetFiles(gone); err != nil {
				return deleted, err
			}
			deleted += len(gone)
		}
	}
	return deleted, nil
}
