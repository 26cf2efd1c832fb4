//! The writer's progress counter.
//!
//! A lease holder renews its lease in the background; renewing says "I am
//! alive", not "I am getting somewhere". A writer stuck inside Tantivy (a
//! lock held by a stopped process, a hung share) would keep its lease, and
//! with it every other host, for ever. So the writer counts the work it
//! does, and Go stops renewing when the count stops moving for too long.
//!
//! The counter goes up on work done, never on waiting: each document
//! admitted to the indexing queue, added, and taken off the queue by an
//! indexing thread; each delete queued; each file opened for writing and
//! each `PROGRESS_BYTES` written to it; each atomic write; each step of a
//! commit. A wait (for the queue, for a lock, for I/O) adds nothing.
//!
//! Like the deadline cell, it lives on the heap at a fixed address and Go
//! reads it with an atomic load, without a cgo call (see
//! `tg_writer_progress_cell`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes written through one file between two counts.
pub(crate) const PROGRESS_BYTES: u64 = 64 << 10;

/// A shared, monotonically increasing count of work done. Clones count into
/// the same cell.
#[derive(Clone, Default)]
pub(crate) struct Progress(Arc<AtomicU64>);

impl Progress {
    /// Counts one step of work.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` steps of work.
    pub(crate) fn add(&self, n: u64) {
        if n > 0 {
            self.0.fetch_add(n, Ordering::Relaxed);
        }
    }

    #[cfg(test)]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Raw pointer handed to Go (8-byte aligned); valid as long as any clone
    /// of `self` lives.
    pub(crate) fn cell_ptr(&self) -> *const u64 {
        self.0.as_ptr().cast_const()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_cell_and_the_pointer_sees_it() {
        let p = Progress::default();
        let q = p.clone();
        p.bump();
        q.add(2);
        q.add(0);
        assert_eq!(p.get(), 3);
        // SAFETY: the cell lives as long as `p`.
        assert_eq!(unsafe { *p.cell_ptr() }, 3);
        assert_eq!(p.cell_ptr() as usize % 8, 0);
    }
}
