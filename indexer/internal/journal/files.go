package journal

import (
	"database/sql"
	"strings"

	"github.com/tguard/tguard/indexer/internal/fileref"
)

// The journal's files table remembers, per document id (walk.Walker.ID; a
// JSON-lines file's own id), the state of
// each file as it was when its last entry was journaled. A later run
// skips a file whose state is unchanged (see fileref.Ref): indexing the same
// folder again journals, and commits, only what changed.

const upsertFile = `INSERT INTO files(path, size, mtime_ns, ctime_ns, ino, hash, seen_ns) VALUES(?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
	ino = excluded.ino, hash = excluded.hash, seen_ns = excluded.seen_ns`

// addRefColumns upgrades a version 1 journal's entries table in place.
func addRefColumns(tx *sql.Tx) error {
	have := map[string]bool{}
	rows, err := tx.Query("SELECT name FROM pragma_table_info('entries')")
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, col := range refColumns {
		if name, _, _ := strings.Cut(col, " "); !have[name] {
			if _, err := tx.Exec("ALTER TABLE entries ADD COLUMN " + col); err != nil {
				return err
			}
		}
	}
	return nil
}

// Files returns the recorded state of every file journaled so far.
func (j *Journal) Files() (map[string]fileref.Ref, error) {
	rows, err := j.db.Query("SELECT path, size, mtime_ns, ctime_ns, ino, hash, seen_ns FROM files")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]fileref.Ref{}
	for rows.Next() {
		var path string
		var r fileref.Ref
		var ino int64
		if err := rows.Scan(&path, &r.Size, &r.MtimeNs, &r.CtimeNs, &ino, &r.Hash, &r.SeenNs); err != nil {
			return nil, err
		}
		r.Ino = uint64(ino)
		out[path] = r
	}
	return out, rows.Err()
}

// ForgetFiles drops the recorded state of paths (deleted files), so that a
// file created again under the same path is indexed again.
func (j *Journal) ForgetFiles(paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	tx, err := j.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, p := range paths {
		if _, err := tx.Exec("DELETE FROM files WHERE path = ?", p); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ClearFiles forgets every file's state: the next run indexes every file
// again (used when the index no longer shows this journal's commits).
func (j *Journal) ClearFiles() error {
	_, err := j.db.Exec("DELETE FROM files")
	return err
}

// Len is the number of entries in the journal, pending or unconfirmed.
func (j *Journal) Len() (int, error) {
	var n int
	err := j.db.QueryRow("SELECT count(*) FROM entries").Scan(&n)
	return n, err
}

// CopyReferences replaces every pending file reference by a copy of the
// file's content in the journal, so that the entry no longer depends on
// the file: a run that ends without committing calls it before it reports
// its documents as journaled. read returns the content an entry names, as
// it is applied (the document of a text file, the lines of a JSON-lines
// file), and whether it is still the content that was journaled. report
// is told of each entry whose file changed since it was journaled (same
// false; its current content was copied) or cannot be read (err; the
// entry is left as it is).
func (j *Journal) CopyReferences(read func(Entry) (content []byte, same bool, err error), report func(e Entry, same bool, err error)) error {
	mark, err := j.CommitMark()
	if err != nil {
		return err
	}
	after := mark.Seq
	for {
		var refs []Entry
		batch, err := j.Pending(after, 256)
		if err != nil || len(batch) == 0 {
			return err
		}
		after = batch[len(batch)-1].Seq
		for _, e := range batch {
			if e.Ref != nil {
				refs = append(refs, e)
			}
		}
		for _, e := range refs {
			content, same, rerr := read(e)
			if rerr != nil {
				report(e, false, rerr)
				continue
			}
			if !same {
				report(e, false, nil)
			}
			if _, err := j.db.Exec("UPDATE entries SET doc = ? WHERE seq = ?", content, e.Seq); err != nil {
				return err
			}
		}
	}
}

// Has says whether the journal holds the entry seq.
func (j *Journal) Has(seq uint64) (bool, error) {
	var n int
	err := j.db.QueryRow("SELECT count(*) FROM entries WHERE seq = ?", seq).Scan(&n)
	return n > 0, err
}
