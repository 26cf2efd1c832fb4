// Package bridge is tguard's only cgo package: a thin Go API over the
// tguard-bridge Rust static library (rust/), which wraps Tantivy.
//
// The index on disk is a plain Tantivy index. On top of Tantivy the library
// adds upsert by the "id" field, JSON-lines ingestion with per-line errors,
// a fenced commit (a compare-and-set on meta.json: the commit is refused
// when meta.json's payload carries a newer "token" than the caller's, or
// the caller's token under another "grant", or when meta.json is no longer
// the one the writer opened from), a deadline ("lease") checked before
// every write and right before commit, and a progress counter that shows
// whether a writer is getting anywhere.
//
// Ownership across the boundary: Go passes byte slices and strings that
// Rust borrows only for the duration of a call; every string or error Rust
// returns is copied into Go memory and freed at once with the library's
// free functions. Handles (Index, Writer) are freed by Close. There are no
// finalizers: a Writer holds Tantivy's writer lock until Close, and releasing
// it at an unpredictable GC time would hide bugs; the lock is an flock, so it
// is released anyway when the process exits.
//
// Index and Writer are safe for concurrent use. Searches on one Index run in
// parallel; calls on one Writer are serialised. Writer.SetDeadline and
// Writer.Progress never wait for a running call: they store into and load
// from cells in the Rust writer's memory (owned by the writer, valid until
// Close), so a lease can be extended, and progress watched, while a commit
// is in progress.
//
// The Rust library must be built first (the Makefile does it):
//
//	cargo build --release --target x86_64-unknown-linux-gnu --manifest-path rust/Cargo.toml
package bridge
