package indexer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tguard/tguard/indexer/internal/fileref"
	"github.com/tguard/tguard/indexer/internal/journal"
	"github.com/tguard/tguard/indexer/internal/payload"
	"github.com/tguard/tguard/indexer/internal/walk"
)

// acceptFiles journals references to files found by a Walker's OnRef: a
// text file becomes one document, a JSON-lines file one entry for all its
// lines. The journal keeps each file's size, times and inode (and, for a
// file modified within RacyWindow, its content hash), not its content:
// the file is the journal's copy for as long as it is unchanged. A run
// that ends without committing copies the content into the journal
// (CopyReferences) before it reports the documents as journaled; see
// docs/PROTOCOL.md for the whole rule.
func (ix *Indexer) acceptFiles(files []walk.FileDoc) (int, error) {
	now := time.Now()
	entries := make([]journal.Entry, 0, len(files))
	for _, f := range files {
		ref := fileref.Of(f.Info, now)
		op := journal.OpUpsert
		if f.Lines {
			op = journal.OpLines
		}
		if ref.Racy() {
			body := f.Body
			if f.Lines {
				b, err := os.ReadFile(f.Path)
				if err != nil {
					return 0, fmt.Errorf("%s: %w", f.Path, err)
				}
				body = b
			}
			ref.Hash = fileref.Hash(body)
		}
		// The id may be relative to --root; the origin is the file's
		// canonical absolute path, which apply reads (Entry.File).
		entries = append(entries, journal.Entry{Op: op, ID: f.ID, Origin: f.Path, Ref: &ref})
	}
	if _, err := ix.journal.Append(entries); err != nil {
		return 0, fmt.Errorf("journaling: %w", err)
	}
	return len(entries), nil
}

// fileState tells which files are unchanged since this journal last
// journaled them (Walker.Unchanged).
type fileState struct {
	known map[string]fileref.Ref
}

// fileState loads the journal's record of the files it journaled. The
// record counts only while the index still shows this journal's commits
// (read from meta.json, without the lease: it decides what to journal,
// never what is committed); otherwise (a new or replaced index) it is
// forgotten and every file is journaled again.
func (ix *Indexer) fileState() (*fileState, error) {
	ok, err := ix.indexShowsJournal()
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := ix.journal.ClearFiles(); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		return &fileState{known: map[string]fileref.Ref{}}, nil
	}
	known, err := ix.journal.Files()
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &fileState{known: known}, nil
}

// indexShowsJournal says whether every file this journal recorded is
// either in the index or still in the journal.
func (ix *Indexer) indexShowsJournal() (bool, error) {
	mark, err := ix.journal.CommitMark()
	if err != nil {
		return false, fmt.Errorf("journal: %w", err)
	}
	if mark.Token == 0 {
		return true, nil // never committed: what it recorded is still journaled
	}
	b, err := os.ReadFile(filepath.Join(ix.dir, "meta.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p, err := payload.FromMeta(b)
	if errors.Is(err, payload.ErrNone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if mark.Token <= p.Evicted {
		return true, nil
	}
	m, ok := p.Applied[ix.journal.ID()]
	if !ok {
		return false, nil
	}
	if m.Seq >= mark.Seq {
		return true, nil
	}
	// The index shows an older commit of ours: the later entries count only
	// if the journal still holds them (it drops entries only in order).
	return ix.journal.Has(m.Seq + 1)
}

// Unchanged says whether the file at abs, opened as f with state fi, is
// unchanged since it was journaled: same size, times and inode, and, if
// it was racy then, the same content hash.
func (s *fileState) Unchanged(abs string, f *os.File, fi os.FileInfo) bool {
	r, ok := s.known[abs]
	if !ok || !r.SameStat(fi) {
		return false
	}
	if !r.Racy() {
		return true
	}
	if r.Hash == nil {
		return false
	}
	body, err := io.ReadAll(f)
	if _, serr := f.Seek(0, io.SeekStart); err != nil || serr != nil {
		return false
	}
	return r.Matches(fi, body)
}
