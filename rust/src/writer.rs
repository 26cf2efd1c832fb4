//! The writer: upserts by id, deadline-guarded writes, fenced commits.

use std::sync::Arc;

use tantivy::indexer::NoMergePolicy;
use tantivy::schema::{Field, Schema};
use tantivy::{Index, IndexWriter, Term};

use crate::error::{
    BResult, BridgeError, TG_ERR_FENCED, TG_ERR_INVALID_ARGUMENT, TG_ERR_SCHEMA_MISMATCH,
};
use crate::fenced_dir::{CommitGuard, FencedDirectory};
use crate::id_delete::IdQuery;
use crate::index::TgIndex;
use crate::ingest::{lines, parse_line, AddReport};
use crate::queue_budget::{queue_cap, QueueBudget, TrackedDoc};
use crate::schema::id_field;

/// Tantivy's minimum arena per indexing thread (MEMORY_BUDGET_NUM_BYTES_MIN).
pub const TG_MIN_BYTES_PER_THREAD: u64 = 15_000_000;
/// Same cap Tantivy's `Index::writer` applies when it picks the thread count.
const MAX_AUTO_THREADS: u64 = 8;
/// Re-check the deadline this often inside one large batch.
const DEADLINE_CHECK_EVERY: u64 = 1024;

/// Opaque writer handle given to C. Freed with `tg_writer_free`, which drops
/// the Tantivy writer: uncommitted work is abandoned and the lock released.
pub struct TgWriter {
    writer: IndexWriter<TrackedDoc>,
    /// Bytes of documents waiting in Tantivy's indexing queue (see
    /// queue_budget.rs): a quarter of the memory budget at most.
    queue: Arc<QueueBudget>,
    index: Index,
    schema: Schema,
    id: Field,
    /// The deadline cell (shared with Go) and the fence checks that the
    /// writer's directory applies when it publishes meta.json.
    pub(crate) guard: Arc<CommitGuard>,
    /// Set after a refused (FENCED / LEASE_EXPIRED) or failed commit, or a
    /// caught panic: the writer's pending state is no longer trustworthy, so
    /// every later write fails with the same code until Go frees it.
    abandoned: Option<BridgeError>,
}

/// Picks the thread count and validates the budget before Tantivy does, so
/// the message can state the minimum for the requested thread count.
/// Public for the native benchmark baseline (rust/examples), which must
/// index with the same thread count.
pub fn thread_plan(budget: u64, threads: u32) -> BResult<usize> {
    let threads = if threads == 0 {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(1);
        cpus.min(MAX_AUTO_THREADS)
            .min(budget / TG_MIN_BYTES_PER_THREAD)
            .max(1)
    } else {
        u64::from(threads)
    };
    let min = threads.saturating_mul(TG_MIN_BYTES_PER_THREAD);
    if budget < min {
        return Err(BridgeError::invalid(format!(
            "memory budget {budget} bytes is below the minimum of {min} bytes \
             ({threads} thread(s) x {TG_MIN_BYTES_PER_THREAD} bytes per thread)"
        )));
    }
    usize::try_from(threads).map_err(|_| BridgeError::invalid("too many threads"))
}

impl TgWriter {
    pub fn open(ix: &TgIndex, budget: u64, threads: u32) -> BResult<TgWriter> {
        let schema = ix.index.schema();
        let id = id_field(&schema)?;
        let threads = thread_plan(budget, threads)?;
        let queue = QueueBudget::new(queue_cap(budget));
        let budget =
            usize::try_from(budget).map_err(|_| BridgeError::invalid("memory budget too large"))?;
        // The writer works on its own Index over a FencedDirectory, so that
        // its meta.json publish is checked at the last moment.
        let guard = Arc::new(CommitGuard::default());
        let at = |e: tantivy::TantivyError| {
            BridgeError::from(e).context(&format!("opening writer on {}", ix.dir.display()))
        };
        let dir = FencedDirectory::open(&ix.dir, guard.clone()).map_err(at)?;
        let index = Index::open(dir).map_err(at)?;
        if index.schema() != schema {
            return Err(BridgeError::new(
                TG_ERR_SCHEMA_MISMATCH,
                format!(
                    "the schema of {} changed after it was opened",
                    ix.dir.display()
                ),
            ));
        }
        let writer = index.writer_with_num_threads(threads, budget).map_err(at)?;
        // No background merges. Tantivy publishes a finished merge by
        // rewriting meta.json with the writer's own last-committed view and
        // payload, outside any commit call; that write would bypass the fence
        // and deadline checks (a writer whose lease lapsed could overwrite a
        // newer holder's commit). With NoMergePolicy, meta.json is written
        // only by `commit` below, and nothing runs after `tg_writer_free`.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        Ok(TgWriter {
            writer,
            queue,
            index,
            schema,
            id,
            guard,
            abandoned: None,
        })
    }

    fn usable(&self) -> BResult<()> {
        match &self.abandoned {
            None => Ok(()),
            Some(e) => Err(BridgeError::new(
                e.code,
                format!(
                    "writer was abandoned after an earlier error ({}); free it",
                    e.message
                ),
            )),
        }
    }

    /// Remembers an error that makes this writer unusable, and returns it.
    fn abandon(&mut self, e: BridgeError) -> BridgeError {
        self.abandoned.get_or_insert(e.clone());
        e
    }

    /// Called when a panic was caught during an operation on this writer.
    pub(crate) fn poison(&mut self, e: &BridgeError) {
        self.abandoned.get_or_insert(e.clone());
    }

    fn check_deadline(&mut self, before: &str) -> BResult<()> {
        self.guard
            .deadline
            .check(before)
            .map_err(|e| self.abandon(e))
    }

    /// Upserts every good line; bad lines are reported, not fatal.
    pub fn add_json_lines(&mut self, buf: &[u8]) -> BResult<AddReport> {
        self.usable()?;
        self.check_deadline("adding documents")?;
        let mut report = AddReport::default();
        for (n, raw) in lines(buf) {
            if n % DEADLINE_CHECK_EVERY == 0 {
                self.check_deadline("adding documents")?;
            }
            match parse_line(&self.schema, raw) {
                Ok(None) => {}
                Ok(Some(line)) => {
                    // Admitted before the delete, so that a refusal leaves
                    // no delete without its add.
                    let ticket = self
                        .queue
                        .admit(raw.len() as u64, &self.guard.deadline)
                        .map_err(|e| self.abandon(e))?;
                    // Upsert: delete-by-id is ordered before the add by
                    // opstamp, so only the new version survives the commit.
                    self.delete_by_id(&line.id)?;
                    if let Err(e) = self.writer.add_document(TrackedDoc::new(line.doc, ticket)) {
                        // Indexing workers died: later adds would fail too.
                        return Err(self.abandon(e.into()));
                    }
                    report.added += 1;
                }
                Err(msg) => report.record_bad(n, msg),
            }
        }
        Ok(report)
    }

    pub fn delete_id(&mut self, id: &str) -> BResult<()> {
        self.usable()?;
        if id.is_empty() {
            return Err(BridgeError::new(TG_ERR_INVALID_ARGUMENT, "id is empty"));
        }
        self.check_deadline("deleting a document")?;
        self.delete_by_id(id)
    }

    /// Queues the deletion of every document with this id (see id_delete.rs
    /// for why not `delete_term`).
    fn delete_by_id(&mut self, id: &str) -> BResult<()> {
        let query = IdQuery::new(Term::from_field_text(self.id, id));
        match self.writer.delete_query(Box::new(query)) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.abandon(BridgeError::from(e).context("queueing a delete"))),
        }
    }

    /// Commits with `payload` unless the index was committed under a newer
    /// fence token or the deadline passed. Refusal and failure abandon the writer.
    pub fn commit(&mut self, payload: &str, fence_token: u64) -> BResult<u64> {
        self.usable()?;
        self.check_deadline("commit")?;
        let result = self.commit_inner(payload, fence_token);
        result.map_err(|e| self.abandon(e))
    }

    fn commit_inner(&mut self, payload: &str, fence_token: u64) -> BResult<u64> {
        // prepare_commit flushes segments (slow); the fence and deadline are
        // checked after it, right before the meta.json write, to keep the
        // window between check and commit as small as possible.
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(|e| BridgeError::from(e).context("preparing the commit (writing segments)"))?;
        let metas = self
            .index
            .load_metas()
            .map_err(|e| BridgeError::from(e).context("reloading meta.json"))?;
        if let Some(committed) = payload_token(metas.payload.as_deref()) {
            if committed > fence_token {
                // Dropping `prepared` without commit() leaves meta.json alone.
                drop(prepared);
                return Err(BridgeError::new(
                    TG_ERR_FENCED,
                    format!(
                        "commit refused: index already committed with fence token {committed}, \
                         ours is {fence_token}"
                    ),
                ));
            }
        }
        self.guard.deadline.check("commit")?;
        if !payload.is_empty() {
            prepared.set_payload(payload);
        }
        // The same two checks run again inside the directory, right before
        // the rename that publishes meta.json (see fenced_dir.rs).
        self.guard.set_fence(fence_token);
        prepared.commit().map_err(|e| {
            self.guard
                .take_refusal()
                .unwrap_or_else(|| BridgeError::from(e).context("publishing the commit"))
        })
    }
}

/// The numeric `"token"` of a committed payload, if it is a JSON object with one.
pub fn payload_token(payload: Option<&str>) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(payload?).ok()?;
    let t = v.as_object()?.get("token")?;
    t.as_u64()
        .or_else(|| t.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_token_parsing() {
        assert_eq!(payload_token(None), None);
        assert_eq!(payload_token(Some("x")), None);
        assert_eq!(payload_token(Some("{\"token\":\"5\"}")), None);
        assert_eq!(payload_token(Some("{\"token\":5,\"a\":1}")), Some(5));
        assert_eq!(payload_token(Some("{\"token\":7.0}")), Some(7));
    }

    #[test]
    fn thread_plan_minimums() {
        let e = thread_plan(29_999_999, 2).unwrap_err();
        assert_eq!(e.code, TG_ERR_INVALID_ARGUMENT);
        assert!(e.message.contains("30000000"), "{e}");
        assert_eq!(thread_plan(30_000_000, 2).unwrap(), 2);
        assert!(thread_plan(14_000_000, 0).is_err());
        assert_eq!(thread_plan(15_000_000, 0).unwrap(), 1);
    }
}
