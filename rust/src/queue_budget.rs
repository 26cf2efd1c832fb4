//! Back-pressure on Tantivy's indexing queue, counted in bytes.
//!
//! `IndexWriter::add_document` hands each document to the indexing threads
//! through a channel that holds up to 10,000 documents whatever their size
//! (tantivy's `PIPELINE_MAX_SIZE_IN_DOCS`), and that queue is outside the
//! writer's memory budget. With the Go sources as documents (11 KB on
//! average) it can hold over 100 MB: native_index over 21,454 of them peaked
//! at 368 MB, and at 185 MB with a Tantivy built (outside this repository)
//! with a 64-document queue. With 1 MB documents it could hold 10 GB. Tantivy has no option for it, so the bridge bounds it from
//! outside, through the public `Document` trait: every document goes in as
//! a `TrackedDoc` that carries a `Ticket` for its bytes, and the indexing
//! thread drops the document (and so the ticket) as soon as it has indexed
//! it. `QueueBudget::admit` lets a document in only while the bytes still
//! queued leave room for it under the cap; one document is always let into
//! an empty queue, however large, so a big document slows the writer but
//! never blocks it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tantivy::schema::Document;
use tantivy::TantivyDocument;

use crate::deadline::Deadline;
use crate::error::{BResult, BridgeError, TG_ERR_IO};
use crate::progress::Progress;

/// The queue's share of the writer's memory budget: a sixteenth of it
/// (8 MiB of a 128 MiB budget, several hundred average documents: enough to
/// keep two to eight indexing threads fed), so that the queue and the
/// indexing arenas together stay within 1.07 times the budget. A quarter
/// (the first choice) took the same CPU time and peaked 28 MB higher on the Go
/// sources, and grew 1.21 per doubling of the corpus past the budget fill
/// where a sixteenth grew 1.02.
const QUEUE_SHARE_OF_BUDGET: u64 = 16;
/// Enough for a few documents per indexing thread even under a small budget.
const MIN_QUEUE_BYTES: u64 = 4 << 20;
/// How often a waiting add re-checks the lease deadline.
const WAIT_SLICE: Duration = Duration::from_millis(100);
/// A queue that takes no document for this long has no live indexing thread
/// left (Tantivy gives no other sign of it before the next add); a segment
/// flush, even to a slow share, takes far less.
const STALL_LIMIT: Duration = Duration::from_secs(300);

/// The cap on queued document bytes for a writer with this memory budget.
pub(crate) fn queue_cap(budget: u64) -> u64 {
    (budget / QUEUE_SHARE_OF_BUDGET).max(MIN_QUEUE_BYTES)
}

/// Bytes of documents handed to Tantivy and not yet indexed.
pub(crate) struct QueueBudget {
    queued: Mutex<u64>,
    drained: Condvar,
    cap: u64,
    /// Counts each document an indexing thread is done with: the work goes
    /// on while an add waits for room.
    progress: Progress,
}

impl QueueBudget {
    #[cfg(test)]
    pub(crate) fn new(cap: u64) -> Arc<QueueBudget> {
        Self::with_progress(cap, Progress::default())
    }

    pub(crate) fn with_progress(cap: u64, progress: Progress) -> Arc<QueueBudget> {
        Arc::new(QueueBudget {
            queued: Mutex::new(0),
            drained: Condvar::new(),
            cap,
            progress,
        })
    }

    /// Bytes queued now.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> u64 {
        *self.lock()
    }

    // The counter stays right even if a holder panicked: it is one integer
    // updated in one statement.
    fn lock(&self) -> MutexGuard<'_, u64> {
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `bytes` more fit under the cap (or the queue is empty),
    /// then counts them. Fails with LEASE_EXPIRED if the deadline passes
    /// while waiting, and with IO if the queue stops draining.
    pub(crate) fn admit(self: &Arc<Self>, bytes: u64, deadline: &Deadline) -> BResult<Ticket> {
        let mut queued = self.lock();
        let mut last = *queued;
        let mut progress_at = Instant::now();
        while *queued > 0 && queued.saturating_add(bytes) > self.cap {
            queued = self
                .drained
                .wait_timeout(queued, WAIT_SLICE)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
            deadline.check("adding documents")?;
            if *queued < last {
                last = *queued;
                progress_at = Instant::now();
            } else if progress_at.elapsed() >= STALL_LIMIT {
                return Err(BridgeError::new(
                    TG_ERR_IO,
                    format!(
                        "Tantivy's indexing threads took no document for {} s; \
                         they have most likely stopped on an error",
                        STALL_LIMIT.as_secs()
                    ),
                ));
            }
        }
        *queued = queued.saturating_add(bytes);
        Ok(Ticket {
            budget: Arc::clone(self),
            bytes,
        })
    }

    fn release(&self, bytes: u64) {
        let mut queued = self.lock();
        *queued = queued.saturating_sub(bytes);
        drop(queued);
        self.progress.bump();
        self.drained.notify_all();
    }
}

/// A document's place in the queue; dropping it gives the bytes back.
pub(crate) struct Ticket {
    budget: Arc<QueueBudget>,
    bytes: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

/// A document with its ticket: the type the bridge's IndexWriter indexes.
/// Tantivy sees the inner document's fields unchanged.
pub(crate) struct TrackedDoc {
    doc: TantivyDocument,
    _ticket: Ticket,
}

impl TrackedDoc {
    pub(crate) fn new(doc: TantivyDocument, ticket: Ticket) -> TrackedDoc {
        TrackedDoc {
            doc,
            _ticket: ticket,
        }
    }
}

impl Document for TrackedDoc {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }

    fn into_tantivy_document(self) -> TantivyDocument {
        self.doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::now_ns;
    use crate::error::TG_ERR_LEASE_EXPIRED;

    #[test]
    fn cap_is_a_share_of_the_budget_with_a_floor() {
        assert_eq!(queue_cap(128 << 20), 8 << 20);
        assert_eq!(queue_cap(15_000_000), MIN_QUEUE_BYTES);
    }

    #[test]
    fn tickets_count_and_release() {
        let b = QueueBudget::new(100);
        let d = Deadline::default();
        let t1 = b.admit(60, &d).unwrap();
        let t2 = b.admit(40, &d).unwrap();
        assert_eq!(b.queued(), 100);
        drop(t1);
        assert_eq!(b.queued(), 40);
        assert_eq!(
            b.progress.get(),
            1,
            "a document taken off the queue is progress"
        );
        drop(t2);
        assert_eq!(b.queued(), 0);
    }

    #[test]
    fn an_oversized_document_enters_an_empty_queue() {
        let b = QueueBudget::new(10);
        let t = b.admit(1_000, &Deadline::default()).unwrap();
        assert_eq!(b.queued(), 1_000);
        drop(t);
    }

    #[test]
    fn a_full_queue_waits_for_the_indexing_thread() {
        let b = QueueBudget::new(100);
        let d = Deadline::default();
        let held = b.admit(80, &d).unwrap();
        let consumer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        let start = Instant::now();
        let t = b.admit(50, &d).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(250));
        assert_eq!(b.queued(), 50);
        consumer.join().unwrap();
        drop(t);
    }

    #[test]
    fn waiting_ends_when_the_lease_does() {
        let b = QueueBudget::new(100);
        let d = Deadline::default();
        let _held = b.admit(100, &d).unwrap();
        d.set(now_ns() + 200_000_000);
        let e = match b.admit(1, &d) {
            Ok(_) => panic!("admitted past a full queue"),
            Err(e) => e,
        };
        assert_eq!(e.code, TG_ERR_LEASE_EXPIRED);
        assert_eq!(b.queued(), 100, "a refused document is not counted");
    }
}
