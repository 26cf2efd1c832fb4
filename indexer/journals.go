package indexer

import "github.com/tguard/tguard/indexer/internal/journal"

// The journal is each host's local SQLite record of what it accepted: a
// document is acknowledged once it is there, and leaves it only after a
// later grant reads it in the index (docs/PROTOCOL.md, "Exactly once").

var (
	// ErrJournalCorrupt: the journal file is not a readable SQLite database.
	ErrJournalCorrupt = journal.ErrCorrupt
	// ErrJournalVersion: the journal was written by a newer tguard.
	ErrJournalVersion = journal.ErrVersion
	// ErrJournalOnShare: the journal is on a network file system, where
	// SQLite's own locking is unsafe.
	ErrJournalOnShare = journal.ErrOnShare
	// ErrNotJournaled: the journal holds no entry of the id (never accepted
	// here, or committed and since confirmed and dropped).
	ErrNotJournaled = journal.ErrNotJournaled
)

// openJournal opens the journal at path, or the default journal of (dir,
// owner), and records dir and owner in it.
func openJournal(dir, path, owner string) (*journal.Journal, error) {
	if path == "" {
		var err error
		if path, err = journal.DefaultPath(dir, owner); err != nil {
			return nil, err
		}
	}
	j, err := journal.Open(path)
	if err != nil {
		return nil, err
	}
	if err := j.SetOwner(dir, owner); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// DefaultJournalPath is where the journal of owner for the index at
// indexDir lives by default: in the user's state folder on the local disk
// ($XDG_STATE_HOME/tguard, or ~/.local/state/tguard; %LocalAppData%\tguard
// on Windows), named by a hash of the index's absolute path and the owner,
// so each (index, owner) pair has its own journal and a rerun finds it.
func DefaultJournalPath(indexDir, owner string) (string, error) {
	return journal.DefaultPath(indexDir, owner)
}

// JournalDir is the folder of the default journals (see DefaultJournalPath).
func JournalDir() (string, error) { return journal.Dir() }

// JournalInfo describes one journal, for people: which index and owner it
// belongs to, what it still holds and how big it is on disk. Its JSON is
// what "tguard journal list --json" prints.
type JournalInfo struct {
	Path        string `json:"path"`
	Index       string `json:"index"` // "" for a journal written by an older tguard
	Owner       string `json:"owner"`
	Pending     int    `json:"pending"`     // not yet in any commit
	Unconfirmed int    `json:"unconfirmed"` // committed, not yet confirmed by a later grant
	Bytes       int64  `json:"bytes"`       // the database with its WAL
	Error       string `json:"error,omitempty"`
}

// ListJournals describes every journal in JournalDir, sorted by path. A
// journal that cannot be read is listed with its error.
func ListJournals() ([]JournalInfo, error) {
	infos, err := journal.List()
	out := make([]JournalInfo, len(infos))
	for i, info := range infos {
		out[i] = JournalInfo(info)
	}
	return out, err
}

// ReadJournalInfo describes the journal at path (opening it: a journal
// that does not exist yet is created empty).
func ReadJournalInfo(path string) (JournalInfo, error) {
	j, err := journal.Open(path)
	if err != nil {
		return JournalInfo{Path: path}, err
	}
	defer j.Close()
	info, err := j.Info()
	return JournalInfo(info), err
}

// RemoveJournal deletes the journal at path with its WAL and shared-memory
// files. The caller has made sure nobody needs its entries.
func RemoveJournal(path string) error { return journal.Remove(path) }

// JournalPath is the file of the Indexer's journal.
func (ix *Indexer) JournalPath() string { return ix.journal.Path() }

// Pending is the number of journaled entries no commit has recorded yet
// (the entries of this journal's last commit, kept until a later grant
// confirms them, are not counted).
func (ix *Indexer) Pending() (int, error) { return ix.journal.PendingCount() }

// CheckJournal writes to the journal (the index and owner it belongs to):
// a readiness check that the journal still takes a write.
func (ix *Indexer) CheckJournal() error {
	return ix.journal.SetOwner(ix.dir, ix.locker.Owner())
}

// DocState is what the journal knows of one document id.
type DocState struct {
	Seq uint64 // the last entry of the id
	// Committed: a commit of this journal recorded the entry, under Token;
	// otherwise the entry is pending.
	Committed bool
	Token     uint64
}

// DocState reports the journal's last entry of id; an error matching
// ErrNotJournaled if it holds none.
func (ix *Indexer) DocState(id string) (DocState, error) {
	st, err := ix.journal.DocState(id)
	return DocState(st), err
}

// CommittedIDs returns the ids of the entries the journal's last commit
// recorded (at most limit), and that commit's token. The next grant drops
// them from the journal once it confirms them in the index; a service that
// answers "which commit has this document" reads them first.
func (ix *Indexer) CommittedIDs(limit int) (ids []string, token uint64, err error) {
	ids, mark, err := ix.journal.CommittedIDs(limit)
	return ids, mark.Token, err
}
