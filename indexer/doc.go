// Package indexer writes documents into a shared Tantivy index, through the
// bridge, only while it holds the index folder's lease (package lock), and
// exactly once however the writer is interrupted.
//
// An Indexer (New) has a local SQLite journal (WithJournal, or the default
// journal of the index and the lease owner). Accept, AcceptIdentified and
// AcceptDeletes journal documents and deletions: once they return nil, the
// change is acknowledged. AddPaths walks files and
// folders and journals references to what changed since the journal last
// saw it (WithRoot, WithMaxFileSize, WithPrune). Flush acquires the lease,
// applies every pending entry, commits with the lease's fencing token and
// a grant nonce recorded in the commit payload, and releases; an entry
// leaves the journal only when a later grant reads it in the index. Merge
// merges segments under the lease through the same fence. The errors
// match lock.ErrHeld (not acquired), lock.ErrLeaseLost (lost while
// writing: nothing committed), ErrFenced (a later lease committed) or
// ErrInterrupted (WithInterrupt).
//
// ListJournals, ReadJournalInfo and RemoveJournal manage the journals of
// one user; DocState and CommittedIDs answer what a service (tguard serve)
// says about one document.
//
// Inside, each job is a package under internal/: journal (the SQLite
// journal), payload (the commit payload: token, grant, each journal's
// progress), fileref (when a file is still the content journaled), walk
// (files to documents, canonical ids) and batch (documents to buffers of
// JSON lines, one cgo call each). docs/PROTOCOL.md gives the rules.
package indexer
