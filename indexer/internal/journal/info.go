package indexer

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// JournalInfo describes one journal, for people: which index and owner it
// belongs to, what it still holds and how big it is on disk.
type JournalInfo struct {
	Path        string `json:"path"`
	Index       string `json:"index"` // "" for a journal written by an older tguard
	Owner       string `json:"owner"`
	Pending     int    `json:"pending"`     // not yet in any commit
	Unconfirmed int    `json:"unconfirmed"` // committed, not yet confirmed by a later grant
	Bytes       int64  `json:"bytes"`       // the database with its WAL
	Error       string `json:"error,omitempty"`
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
func (j *Journal) Info() (JournalInfo, error) {
	info := JournalInfo{Path: j.path, Bytes: journalBytes(j.path)}
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

// JournalDir is the folder of the default journals (see DefaultJournalPath).
func JournalDir() (string, error) {
	base, err := stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "tguard"), nil
}

// ListJournals describes every journal in JournalDir, sorted by path. A
// journal that cannot be read is listed with its error.
func ListJournals() ([]JournalInfo, error) {
	dir, err := JournalDir()
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "journal-*.db"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	infos := make([]JournalInfo, 0, len(paths))
	for _, p := range paths {
		info := JournalInfo{Path: p, Bytes: journalBytes(p)}
		if err := inspectJournal(p); err != nil {
			info.Error = err.Error()
			infos = append(infos, info)
			continue
		}
		j, err := OpenJournal(p)
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

// RemoveJournal deletes the journal at path with its WAL and shared-memory
// files. The caller has made sure nobody needs its entries.
func RemoveJournal(path string) error {
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
