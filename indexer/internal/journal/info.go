package journal

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Info describes one journal, for people: which index and owner it
// belongs to, what it still holds and how big it is on disk.
type Info struct {
	Path        string
	Index       string // "" for a journal written by an older tguard
	Owner       string
	Pending     int   // not yet in any commit
	Unconfirmed int   // committed, not yet confirmed by a later grant
	Bytes       int64 // the database with its WAL
	Error       string
}

// SetOwner records which index and owner the journal belongs to, so that
// "tguard journal list" can say it (the default file name is a hash).
func (j *Journal) SetOwner(index, owner string) error {
	abs, err := filepath.Abs(index)
	if err != nil {
		return err
	}
	_, err = j.db.Exec(`INSERT INTO meta(key, value) VALUES('index', ?), ('owner', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, abs, owner)
	return err
}

// Info describes the journal.
func (j *Journal) Info() (Info, error) {
	info := Info{Path: j.path, Bytes: journalBytes(j.path)}
	for key, into := range map[string]*string{"index": &info.Index, "owner": &info.Owner} {
		err := j.db.QueryRow("SELECT value FROM meta WHERE key = ?", key).Scan(into)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return info, err
		}
	}
	var err error
	if info.Pending, err = j.PendingCount(); err != nil {
		return info, err
	}
	info.Unconfirmed, err = j.Unconfirmed()
	return info, err
}

func journalBytes(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// Dir is the folder of the default journals (see DefaultPath).
func Dir() (string, error) {
	base, err := stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "tguard"), nil
}

// List describes every journal in Dir, sorted by path. A
// journal that cannot be read is listed with its error.
func List() ([]Info, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "journal-*.db"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	infos := make([]Info, 0, len(paths))
	for _, p := range paths {
		info := Info{Path: p, Bytes: journalBytes(p)}
		if err := inspectJournal(p); err != nil {
			info.Error = err.Error()
			infos = append(infos, info)
			continue
		}
		j, err := Open(p)
		if err != nil {
			info.Error = err.Error()
			infos = append(infos, info)
			continue
		}
		if got, err := j.Info(); err != nil {
			info.Error = err.Error()
		} else {
			info = got
		}
		j.Close()
		infos = append(infos, info)
	}
	return infos, nil
}

// Remove deletes the journal at path with its WAL and shared-memory
// files. The caller has made sure nobody needs its entries.
func Remove(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("journal %s: %w", p, err)
		}
	}
	return nil
}
