// Package journal is the local SQLite journal of accepted changes: each
// host's durable record of what it acknowledged and has not yet seen
// confirmed in the shared index (docs/PROTOCOL.md, "Exactly once").
package journal

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver; cgo lives inside it

	"github.com/tguard/tguard/indexer/internal/fileref"
	"github.com/tguard/tguard/indexer/internal/payload"
)

// journalVersion is the schema version of the journal this code writes
// (SQLite's user_version). A journal of a newer version is refused, untouched.
// Version 2 added file references (entries whose doc is NULL name a file by
// size, times, inode and, for racy files, hash) and the files table.
const journalVersion = 2

var (
	// ErrCorrupt: the journal file is not a readable SQLite database.
	ErrCorrupt = errors.New("journal is corrupt")
	// ErrVersion: the journal was written by a newer tguard.
	ErrVersion = errors.New("journal is from a newer version")
	// ErrOnShare: the journal is on a network file system, where
	// SQLite's own locking is unsafe.
	ErrOnShare = errors.New("journal must be on a local disk")
)

// Op is what an entry does to the index.
type Op int

const (
	OpUpsert Op = 1 // add the document, replacing any with the same id
	OpDelete Op = 2 // delete the documents with this id
	// OpLines upserts every line of a JSON-lines file (ID is the file's
	// id, see walk.Walker.ID): from Doc, or, while Doc is nil, from the file Ref
	// names.
	OpLines Op = 3
)

// Entry is one accepted change, in the order it was accepted.
type Entry struct {
	Seq    uint64
	Op     Op
	ID     string
	Doc    []byte // the JSON document, for OpUpsert; the lines, for OpLines
	Origin string // where it came from, for messages; a reference's file
	// Ref, with Doc nil, names the file that holds the content: a text
	// file (OpUpsert, ID its document id) or a JSON-lines file (OpLines),
	// at the canonical absolute path Origin (the id may be relative to
	// --root, so it is not the path to read).
	// See fileref.Ref and docs/PROTOCOL.md for when the file counts as the
	// journal's copy.
	Ref *fileref.Ref
}

// File is the path of the file a reference entry names.
func (e Entry) File() string { return e.Origin }

// Journal is the local SQLite journal of accepted changes. A change is
// acknowledged only once its transaction is durable (WAL, synchronous=FULL);
// it leaves the journal only after a commit of the index that records its
// sequence number in the payload, so a crash anywhere in between ends with
// the change applied exactly once.
type Journal struct {
	db   *sql.DB
	path string
	id   string
}

const journalSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after deletes
	op     INTEGER NOT NULL,
	doc_id TEXT NOT NULL,
	doc    BLOB,
	origin TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
	path     TEXT PRIMARY KEY, -- absolute
	size     INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL,
	ctime_ns INTEGER NOT NULL,
	ino      INTEGER NOT NULL,
	hash     BLOB,
	seen_ns  INTEGER NOT NULL
);`

// refColumns are added to entries by version 2 (a version 1 journal gets
// them when it is opened).
var refColumns = []string{"size INTEGER", "mtime_ns INTEGER", "ctime_ns INTEGER", "ino INTEGER", "hash BLOB", "seen_ns INTEGER"}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// OpenJournal opens or creates the journal at path. A file that is not a
// SQLite database, fails SQLite's check, or has a newer version is refused
// with an error, and left as it was.
func Open(path string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := checkLocalDisk(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := inspectJournal(path); err != nil {
		return nil, err
	}
	// _txlock=immediate: a writing transaction takes the write lock at its
	// start, so two processes sharing a journal never deadlock on upgrade.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=30000&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one connection: SQLite serialises writers anyway
	j := &Journal{db: db, path: path}
	if err := j.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return j, nil
}

// inspectJournal checks an existing file read-only before anything may
// write to it (setting WAL mode alone rewrites the header).
func inspectJournal(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	f.Close()
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // empty file: a journal created and never written
	}
	if !bytes.Equal(head[:n], sqliteHeader) {
		return fmt.Errorf("journal %s: %w: not a SQLite database (move it away to start a new journal; its documents are lost)", path, ErrCorrupt)
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("journal %s: %w: %v", path, ErrCorrupt, err)
	}
	if version > journalVersion {
		return fmt.Errorf("journal %s: %w: version %d, this tguard reads %d", path, ErrVersion, version, journalVersion)
	}
	var check string
	if err := db.QueryRow("PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		if err == nil {
			err = errors.New(check)
		}
		return fmt.Errorf("journal %s: %w: %v", path, ErrCorrupt, err)
	}
	return nil
}

func (j *Journal) init() error {
	var mode string
	if err := j.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %s, want wal", mode)
	}
	tx, err := j.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(journalSchema); err != nil {
		return err
	}
	if err := addRefColumns(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", journalVersion)); err != nil {
		return err
	}
	// The journal's id keys its progress in the index's commit payload: it
	// is random, so two journals never share progress by accident.
	if _, err := tx.Exec("INSERT OR IGNORE INTO meta(key, value) VALUES('id', ?)", NewID()); err != nil {
		return err
	}
	if err := tx.QueryRow("SELECT value FROM meta WHERE key = 'id'").Scan(&j.id); err != nil {
		return err
	}
	return tx.Commit()
}

// ID identifies this journal in commit payloads.
func (j *Journal) ID() string { return j.id }

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Close closes the journal.
func (j *Journal) Close() error { return j.db.Close() }

// Append records entries durably in one transaction and returns the last
// sequence number. When it returns nil the entries are acknowledged.
func (j *Journal) Append(entries []Entry) (uint64, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	tx, err := j.db.Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO entries(op, doc_id, doc, origin, size, mtime_ns, ctime_ns, ino, hash, seen_ns)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	var files *sql.Stmt
	var last int64
	for _, e := range entries {
		var ref fileref.Ref
		var refArgs []any
		if e.Ref != nil {
			ref = *e.Ref
			refArgs = []any{ref.Size, ref.MtimeNs, ref.CtimeNs, int64(ref.Ino), ref.Hash, ref.SeenNs}
		} else {
			refArgs = []any{nil, nil, nil, nil, nil, nil}
		}
		res, err := stmt.Exec(append([]any{int(e.Op), e.ID, e.Doc, e.Origin}, refArgs...)...)
		if err != nil {
			return 0, err
		}
		if e.Ref != nil {
			// The file's state is recorded in the same transaction as its
			// entry: a later run skips it only if the entry was journaled.
			if files == nil {
				if files, err = tx.Prepare(upsertFile); err != nil {
					return 0, err
				}
				defer files.Close()
			}
			if _, err := files.Exec(append([]any{e.ID}, refArgs...)...); err != nil {
				return 0, err
			}
		}
		if last, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return uint64(last), nil
}

// Pending returns up to limit entries after seq, in order.
func (j *Journal) Pending(after uint64, limit int) ([]Entry, error) {
	rows, err := j.db.Query(`SELECT seq, op, doc_id, doc, origin, size, mtime_ns, ctime_ns, ino, hash, seen_ns
		FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var size, mtime, ctime, ino, seen sql.NullInt64
		var hash []byte
		if err := rows.Scan(&e.Seq, &e.Op, &e.ID, &e.Doc, &e.Origin, &size, &mtime, &ctime, &ino, &hash, &seen); err != nil {
			return nil, err
		}
		if e.Doc == nil && size.Valid {
			e.Ref = &fileref.Ref{Size: size.Int64, MtimeNs: mtime.Int64, CtimeNs: ctime.Int64,
				Ino: uint64(ino.Int64), Hash: hash, SeenNs: seen.Int64}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingCount is the number of entries no commit has recorded yet (the
// entries of this journal's own last commit, kept until a later grant
// confirms them, are not counted: see Unconfirmed).
func (j *Journal) PendingCount() (int, error) {
	mark, err := j.CommitMark()
	if err != nil {
		return 0, err
	}
	var n int
	err = j.db.QueryRow("SELECT count(*) FROM entries WHERE seq > ?", mark.Seq).Scan(&n)
	return n, err
}

// Unconfirmed is the number of entries this journal's own commits recorded
// that no later reading of the index has confirmed yet.
func (j *Journal) Unconfirmed() (int, error) {
	mark, err := j.CommitMark()
	if err != nil {
		return 0, err
	}
	var n int
	err = j.db.QueryRow("SELECT count(*) FROM entries WHERE seq <= ?", mark.Seq).Scan(&n)
	return n, err
}

// CommitMark is this journal's last commit as this journal saw it: the
// highest sequence number and the token of the commit that recorded it
// (zero if none). It is the writer's own word: it decides nothing alone,
// only which entries count as pending for people, and whether a journal
// missing from a payload was evicted (see Confirmed).
func (j *Journal) CommitMark() (payload.Mark, error) {
	var m payload.Mark
	err := j.db.QueryRow(`SELECT
		coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'committed_seq'), 0),
		coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'committed_token'), 0)`).Scan(&m.Seq, &m.Token)
	return m, err
}

// Committed records that a commit under token recorded the entries up to
// seq. The entries stay: only a later grant's reading of the index
// confirms them (a commit can be refused or overwritten after its writer
// believed it landed: a paused holder, a force-broken lease).
func (j *Journal) Committed(seq, token uint64) error {
	_, err := j.db.Exec(`INSERT INTO meta(key, value) VALUES('committed_seq', ?), ('committed_token', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, seq, token)
	return err
}

// Confirmed is what the index, read under a later grant, proves applied of
// this journal: its mark in p; or, when p no longer lists this journal
// because the cap evicted it, this journal's own last commit if its token
// is at or below the highest evicted token. That fallback rests on the
// compare-and-set fence: a commit, once published, is in every later
// payload until it is evicted, so a journal that published and is missing
// was evicted. Anything else confirms nothing, and those entries are
// applied again: the index does not show them.
func (j *Journal) Confirmed(p payload.Payload) (uint64, error) {
	if m, ok := p.Applied[j.id]; ok {
		return m.Seq, nil
	}
	mark, err := j.CommitMark()
	if err != nil {
		return 0, err
	}
	if mark.Token != 0 && mark.Token <= p.Evicted {
		return mark.Seq, nil
	}
	return 0, nil
}

// Applied drops the entries up to seq: a reading of the index confirmed
// them. When none are left, the file gives its free pages back.
func (j *Journal) Applied(seq uint64) error {
	res, err := j.db.Exec("DELETE FROM entries WHERE seq <= ?", seq)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	var left int
	if err := j.db.QueryRow("SELECT count(*) FROM entries").Scan(&left); err != nil || left > 0 {
		return err
	}
	// Empty now: rewriting it costs nothing and gives the space back.
	if _, err := j.db.Exec("VACUUM"); err != nil {
		return err
	}
	_, err = j.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
