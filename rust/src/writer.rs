//! The writer: upserts by id, deadline-guarded writes, fenced commits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::indexer::{LogMergePolicy, MergePolicy, NoMergePolicy};
use tantivy::schema::{Field, Schema};
use tantivy::{Index, IndexWriter, Term};

use crate::error::{
    BResult, BridgeError, TG_ERR_CONFLICT, TG_ERR_CORRUPT_INDEX, TG_ERR_INVALID_ARGUMENT,
    TG_ERR_IO, TG_ERR_SCHEMA_MISMATCH, TG_ERR_WRITER_LOCK_BUSY,
};
use crate::fenced_dir::{CommitGuard, FencedDirectory};
use crate::id_delete::IdQuery;
use crate::index::TgIndex;
use crate::ingest::{lines, parse_line, AddReport};
use crate::known_ids::KnownIds;
use crate::meta::{orphaned_temp_meta, payload_grant, read_meta, MetaSummary};
use crate::queue_budget::{queue_cap, QueueBudget, TrackedDoc};
use crate::schema::id_field;

/// Tantivy's minimum arena per indexing thread (MEMORY_BUDGET_NUM_BYTES_MIN).
pub const TG_MIN_BYTES_PER_THREAD: u64 = 15_000_000;
/// Same cap Tantivy's `Index::writer` applies when it picks the thread count.
const MAX_AUTO_THREADS: u64 = 8;
/// How long the writer waits for Tantivy's meta lock. The writer's only
/// use of it is the garbage collection after a published commit: skipping
/// it leaves unreferenced files for the next commit to collect, while
/// waiting keeps the lease (and every other host) held. A process of this
/// host that holds the lock longer (a stopped reader) costs a commit this
/// much, not the readers' 30 s.
const WRITER_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Re-check the deadline this often inside one large batch.
const DEADLINE_CHECK_EVERY: u64 = 1024;
/// Opening a writer is retried this often when meta.json changes meanwhile.
const OPEN_TRIES: u32 = 5;
/// The merges after a commit touch only segments of at most this many
/// documents, which Tantivy's log merge policy then treats as one size
/// class (its default floor, 10,000, would put a run's one-document segment
/// in the class of a first run's segments and rewrite those every few
/// small runs). Such merges cost little inside the lease, where every other
/// host waits; larger segments are merged by `tguard merge` when an
/// operator chooses. Measured without the size bound: four concurrent
/// `tguard index` runs of a quarter of the Go sources each ended with one
/// segment (the last run merged all eight inside its lease) in 4.8 and
/// 5.3 s; with it, eight segments in 3.2 and 4.5 s.
const MERGE_SMALL_DOCS: u32 = 1_000;

/// The merge policy `merge(0, ..)` follows: Tantivy's log merge policy (8
/// segments of one size class are merged into one), over small segments.
pub(crate) fn merge_policy() -> LogMergePolicy {
    let mut p = LogMergePolicy::default();
    p.set_min_layer_size(MERGE_SMALL_DOCS);
    p.set_max_docs_before_merge(MERGE_SMALL_DOCS as usize);
    p
}

/// Opaque writer handle given to C. Freed with `tg_writer_free`, which drops
/// the Tantivy writer: uncommitted work is abandoned and the lock released.
pub struct TgWriter {
    writer: IndexWriter<TrackedDoc>,
    /// Bytes of documents waiting in Tantivy's indexing queue (see
    /// queue_budget.rs): a sixteenth of the memory budget at most.
    queue: Arc<QueueBudget>,
    schema: Schema,
    id: Field,
    /// Which ids may have a document already: the upsert's delete is
    /// skipped for the others (known_ids.rs).
    known: KnownIds,
    dir: PathBuf,
    /// The deadline cell and progress counter (shared with Go) and the
    /// fence checks that the writer's directory applies when it publishes
    /// meta.json.
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

/// Tantivy's IndexWriter over `dir` (it keeps its own reference to the
/// Index), checking the schema did not change since the index handle was
/// opened.
fn open_tantivy_writer(
    dir: FencedDirectory,
    schema: &Schema,
    threads: usize,
    budget: usize,
    path: &Path,
) -> BResult<IndexWriter<TrackedDoc>> {
    let index = Index::open(dir).map_err(BridgeError::from)?;
    if index.schema() != *schema {
        return Err(BridgeError::new(
            TG_ERR_SCHEMA_MISMATCH,
            format!(
                "the schema of {} changed after it was opened",
                path.display()
            ),
        ));
    }
    let writer = index
        .writer_with_num_threads(threads, budget)
        .map_err(BridgeError::from)?;
    Ok(writer)
}

fn meta_io_error(e: std::io::Error) -> BridgeError {
    BridgeError::new(TG_ERR_IO, format!("reading meta.json: {e}"))
}

/// The error for an index folder whose meta.json is missing.
fn missing_meta(dir: &Path) -> BResult<BridgeError> {
    Ok(orphaned_temp_meta(dir)?.unwrap_or_else(|| {
        BridgeError::new(
            TG_ERR_CORRUPT_INDEX,
            format!("{} has no meta.json any more", dir.display()),
        )
    }))
}

impl TgWriter {
    pub(crate) fn open(ix: &TgIndex, budget: u64, threads: u32) -> BResult<TgWriter> {
        let schema = ix.index.schema();
        let id = id_field(&schema)?;
        let threads = thread_plan(budget, threads)?;
        let budget_bytes = budget;
        let budget =
            usize::try_from(budget).map_err(|_| BridgeError::invalid("memory budget too large"))?;
        // The writer works on its own Index over a FencedDirectory, so that
        // its meta.json publish is checked at the last moment.
        let guard = Arc::new(CommitGuard::default());
        guard.set_lock_wait(WRITER_LOCK_WAIT);
        let at = |e: BridgeError| e.context(&format!("opening writer on {}", ix.dir.display()));
        let dir =
            FencedDirectory::open(&ix.dir, guard.clone()).map_err(|e| at(BridgeError::from(e)))?;
        // The fence compares meta.json at publish time with the meta.json
        // Tantivy's writer loaded (it reads it several times while opening).
        // Reading it before and after, and retrying when the two differ,
        // makes those bytes exactly what the writer's state was built from.
        let mut changes = Vec::new();
        for attempt in 0..OPEN_TRIES {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(10 << attempt));
            }
            let Some(before) = read_meta(&ix.dir).map_err(|e| at(meta_io_error(e)))? else {
                return Err(at(missing_meta(&ix.dir)?));
            };
            // The segment list is read between the two readings too.
            let opened = open_tantivy_writer(dir.clone(), &schema, threads, budget, &ix.dir)
                .and_then(|w| Ok((KnownIds::open(w.index(), id)?, w)));
            let after = read_meta(&ix.dir);
            match (opened, after) {
                (Ok((known, writer)), Ok(Some(after))) if after == before => {
                    guard.set_opened(Some(before));
                    // No background merges. Tantivy publishes a finished
                    // merge by rewriting meta.json with the writer's own
                    // last-committed view and payload, outside any commit
                    // call; with NoMergePolicy, meta.json is written only by
                    // `commit` below, and nothing runs after `tg_writer_free`.
                    writer.set_merge_policy(Box::new(NoMergePolicy));
                    let queue =
                        QueueBudget::with_progress(queue_cap(budget_bytes), guard.progress.clone());
                    return Ok(TgWriter {
                        writer,
                        queue,
                        schema,
                        id,
                        known,
                        dir: ix.dir.clone(),
                        guard,
                        abandoned: None,
                    });
                }
                // meta.json did not change, or another writer of this host
                // holds the lock: the error is the writer's own.
                (Err(e), Ok(Some(after))) if after == before => return Err(at(e)),
                (Err(e), _) if e.code == TG_ERR_WRITER_LOCK_BUSY => return Err(at(e)),
                (_, after) => {
                    // Dropped here: the writer lock is released before the retry.
                    changes.push(match after {
                        Ok(Some(b)) => format!(
                            "from {} to {}",
                            MetaSummary::of(&before),
                            MetaSummary::of(&b)
                        ),
                        Ok(None) => "it went missing".to_string(),
                        Err(e) => format!("it could not be read: {e}"),
                    });
                }
            }
        }
        Err(at(BridgeError::new(
            TG_ERR_CONFLICT,
            format!(
                "meta.json changed while the writer was opening, {OPEN_TRIES} times in a row ({})",
                changes.join("; ")
            ),
        )))
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
    pub(crate) fn add_json_lines(&mut self, buf: &[u8]) -> BResult<AddReport> {
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
                    self.guard.progress.bump();
                    // Upsert: delete-by-id is ordered before the add by
                    // opstamp, so only the new version survives the commit.
                    // An id with no document yet needs no delete.
                    if self
                        .known
                        .may_exist(&line.id)
                        .map_err(|e| self.abandon(e))?
                    {
                        self.delete_by_id(&line.id)?;
                    }
                    self.known.added(&line.id);
                    if let Err(e) = self.writer.add_document(TrackedDoc::new(line.doc, ticket)) {
                        // Indexing workers died: later adds would fail too.
                        return Err(self.abandon(e.into()));
                    }
                    self.guard.progress.bump();
                    report.added += 1;
                }
                Err(msg) => report.record_bad(n, msg),
            }
        }
        Ok(report)
    }

    pub(crate) fn delete_id(&mut self, id: &str) -> BResult<()> {
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
            Ok(_) => {
                self.guard.progress.bump();
                Ok(())
            }
            Err(e) => Err(self.abandon(BridgeError::from(e).context("queueing a delete"))),
        }
    }

    /// Commits with `payload` unless the fence refuses (see
    /// `CommitGuard::check`) or the deadline passed. Refusal and failure
    /// abandon the writer.
    pub(crate) fn commit(&mut self, payload: &str, fence_token: u64) -> BResult<u64> {
        self.usable()?;
        self.check_deadline("commit")?;
        self.guard.progress.bump();
        let result = self.commit_inner(payload, fence_token);
        result.map_err(|e| self.abandon(e))
    }

    /// Merges committed segments and returns how many are left.
    /// `max_segments == 0`: the merges `merge_policy` asks for; otherwise
    /// the smallest segments are merged into one until at most
    /// `max_segments` are left. Each merge publishes meta.json (with the
    /// last commit's opstamp and payload) through the same fence as a
    /// commit, under `fence_token`. A refusal or failure abandons the
    /// writer; a commit made before stays.
    pub(crate) fn merge(&mut self, max_segments: u32, fence_token: u64) -> BResult<u32> {
        self.usable()?;
        self.check_deadline("merge")?;
        self.guard.set_fence(fence_token);
        let result = self.merge_inner(max_segments);
        result.map_err(|e| self.abandon(e))
    }

    fn merge_inner(&mut self, max_segments: u32) -> BResult<u32> {
        self.known.forget_segments();
        let metas = self
            .writer
            .index()
            .searchable_segment_metas()
            .map_err(|e| BridgeError::from(e).context("reading the segments to merge"))?;
        let mut left = metas.len();
        let candidates: Vec<Vec<tantivy::index::SegmentId>> = if max_segments == 0 {
            merge_policy()
                .compute_merge_candidates(&metas)
                .into_iter()
                .map(|c| c.0)
                .collect()
        } else if metas.len() > max_segments as usize {
            let mut by_size: Vec<_> = metas.iter().collect();
            by_size.sort_by_key(|m| m.max_doc());
            let n = metas.len() - max_segments as usize + 1;
            vec![by_size[..n].iter().map(|m| m.id()).collect()]
        } else {
            Vec::new()
        };
        for ids in candidates.into_iter().filter(|ids| ids.len() > 1) {
            self.check_deadline("merge")?;
            self.guard.progress.bump();
            let merged = self.writer.merge(&ids).wait().map_err(|e| {
                self.guard
                    .take_refusal()
                    .unwrap_or_else(|| BridgeError::from(e).context("merging segments"))
            })?;
            self.guard.progress.bump();
            left = left + usize::from(merged.is_some()) - ids.len();
        }
        u32::try_from(left).map_err(|_| BridgeError::invalid("too many segments"))
    }

    fn commit_inner(&mut self, payload: &str, fence_token: u64) -> BResult<u64> {
        let grant = payload_grant((!payload.is_empty()).then_some(payload));
        self.guard.set_fence(fence_token);
        // prepare_commit flushes segments (slow); the fence and deadline are
        // checked after it, before Tantivy's commit task starts, and again
        // inside the directory right before the rename that publishes
        // meta.json (see fenced_dir.rs): the same checks both times.
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(|e| BridgeError::from(e).context("preparing the commit (writing segments)"))?;
        self.guard.progress.bump();
        // On refusal, dropping `prepared` without commit() leaves meta.json alone.
        self.guard.check(&self.dir, grant.as_deref(), "commit")?;
        if !payload.is_empty() {
            prepared.set_payload(payload);
        }
        let opstamp = prepared.commit().map_err(|e| {
            self.guard
                .take_refusal()
                .unwrap_or_else(|| BridgeError::from(e).context("publishing the commit"))
        })?;
        self.guard.progress.bump();
        Ok(opstamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_plan_minimums() {
        let e = thread_plan(29_999_999, 2).unwrap_err();
        assert_eq!(e.code, TG_ERR_INVALID_ARGUMENT);
        assert!(e.message.contains("30000000"), "{e}");
        assert_eq!(thread_plan(30_000_000, 2).unwrap(), 2);
        assert!(thread_plan(14_000_000, 0).is_err());
        assert_eq!(thread_plan(15_000_000, 0).unwrap(), 1);
    }

    use crate::error::{TG_ERR_CONFLICT, TG_ERR_FENCED};
    use crate::index::{open, TgIndex};

    fn new_index(dir: &std::path::Path) -> TgIndex {
        open(dir.to_str().unwrap(), "", true, Arc::default()).unwrap()
    }

    /// A second writer beside `w`'s: Tantivy's writer lock is an flock, which
    /// does not reach another host, so removing it is what a second host sees.
    fn second_writer(ix: &TgIndex) -> TgWriter {
        std::fs::remove_file(ix.dir.join(".tantivy-writer.lock")).unwrap();
        TgWriter::open(ix, 15_000_000, 1).unwrap()
    }

    #[test]
    fn a_writer_opened_on_an_older_meta_json_cannot_publish_over_a_newer_one() {
        let tmp = tempfile::tempdir().unwrap();
        let ix = new_index(tmp.path());
        let mut zombie = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        let mut successor = second_writer(&ix);
        // The zombie (token 1, its lease broken) commits first; its token is
        // above the index's, so the token alone would let it through.
        zombie
            .add_json_lines(br#"{"id":"z","title":"zombie"}"#)
            .unwrap();
        zombie.commit(r#"{"token":1,"grant":"g1"}"#, 1).unwrap();
        let committed = std::fs::read(tmp.path().join("meta.json")).unwrap();
        // The successor (token 2) opened the meta.json before that commit.
        successor
            .add_json_lines(br#"{"id":"s","title":"successor"}"#)
            .unwrap();
        let e = successor
            .commit(r#"{"token":2,"grant":"g2"}"#, 2)
            .unwrap_err();
        assert_eq!(e.code, TG_ERR_CONFLICT, "{e}");
        assert!(
            e.message.contains("changed since this writer opened it"),
            "{e}"
        );
        assert_eq!(
            std::fs::read(tmp.path().join("meta.json")).unwrap(),
            committed
        );
        // Abandoned, and a fresh writer sees the zombie's commit and can publish.
        assert_eq!(successor.commit("", 2).unwrap_err().code, TG_ERR_CONFLICT);
        drop(successor);
        drop(zombie);
        let mut again = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        again
            .add_json_lines(br#"{"id":"s","title":"successor"}"#)
            .unwrap();
        again.commit(r#"{"token":2,"grant":"g2"}"#, 2).unwrap();
        assert_eq!(crate::search::stats(&ix).unwrap().docs, 2);
    }

    #[test]
    fn one_token_under_two_grants_is_fenced() {
        let tmp = tempfile::tempdir().unwrap();
        let ix = new_index(tmp.path());
        let mut a = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        a.commit(r#"{"token":4,"grant":"aa"}"#, 4).unwrap();
        // The same grant commits again: fine.
        a.commit(r#"{"token":4,"grant":"aa"}"#, 4).unwrap();
        drop(a);
        let mut b = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        let e = b.commit(r#"{"token":4,"grant":"bb"}"#, 4).unwrap_err();
        assert_eq!(e.code, TG_ERR_FENCED, "{e}");
        assert!(e.message.contains("two grants with one fence token"), "{e}");
    }

    #[test]
    fn progress_counts_adds_deletes_and_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let ix = new_index(tmp.path());
        let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        let p0 = w.guard.progress.get();
        w.add_json_lines(b"{\"id\":\"a\"}\n{\"id\":\"b\"}").unwrap();
        let p1 = w.guard.progress.get();
        assert!(p1 >= p0 + 4, "{p0} -> {p1}");
        w.delete_id("a").unwrap();
        let p2 = w.guard.progress.get();
        assert!(p2 > p1);
        w.commit("", 0).unwrap();
        assert!(w.guard.progress.get() > p2 + 3);
    }

    #[cfg(unix)]
    #[test]
    fn a_held_meta_lock_only_skips_the_garbage_collection() {
        use std::os::fd::AsRawFd;
        let tmp = tempfile::tempdir().unwrap();
        let ix = new_index(tmp.path());
        let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        w.guard.set_lock_wait(std::time::Duration::from_millis(300));
        let held = std::fs::File::create(tmp.path().join(".tantivy-meta.lock")).unwrap();
        // SAFETY: a valid open descriptor.
        assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
        w.add_json_lines(br#"{"id":"a","title":"locked"}"#).unwrap();
        let start = std::time::Instant::now();
        let op = w.commit(r#"{"token":1}"#, 1).unwrap();
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        let meta = std::fs::read(tmp.path().join("meta.json")).unwrap();
        assert_eq!(crate::meta::MetaSummary::of(&meta).opstamp, Some(op));
        drop(held);
        assert_eq!(crate::search::stats(&ix).unwrap().docs, 1);
    }

    // The index on disk is plain Tantivy: Tantivy alone finds what the
    // writer added, reads the payload and opstamp of its commit from
    // meta.json, and can open its own writer once ours is freed.
    #[test]
    fn plain_tantivy_reads_what_the_writer_wrote() {
        use tantivy::collector::TopDocs;
        use tantivy::query::QueryParser;
        use tantivy::schema::Value;

        let tmp = tempfile::tempdir().unwrap();
        let payload = r#"{"token":1,"holder":"h\u00e9"}"#;
        let op = {
            let ix = new_index(tmp.path());
            let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
            w.add_json_lines(
                br#"{"id":"doc-1","path":"/p","title":"plain tantivy compat","body":"hello"}"#,
            )
            .unwrap();
            w.commit(payload, 1).unwrap()
        };
        let index = Index::open_in_dir(tmp.path()).unwrap();
        let metas = index.load_metas().unwrap();
        assert_eq!(metas.payload.as_deref(), Some(payload));
        assert_eq!(metas.opstamp, op);
        let schema = index.schema();
        let title = schema.get_field("title").unwrap();
        let id = schema.get_field("id").unwrap();
        let searcher = index.reader().unwrap().searcher();
        let q = QueryParser::for_index(&index, vec![title])
            .parse_query("compat")
            .unwrap();
        let top = searcher
            .search(&q, &TopDocs::with_limit(5).order_by_score())
            .unwrap();
        assert_eq!(top.len(), 1);
        let doc: tantivy::TantivyDocument = searcher.doc(top[0].1).unwrap();
        assert_eq!(doc.get_first(id).and_then(|v| v.as_str()), Some("doc-1"));
        let mut w: IndexWriter = index.writer(15_000_000).unwrap();
        w.commit().unwrap();
    }

    // An index made by plain Tantivy without an `id` field opens (any
    // schema), but has nothing to upsert by, so no writer.
    #[test]
    fn no_writer_without_an_id_field() {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = Schema::builder();
        b.add_text_field("title", tantivy::schema::TEXT);
        Index::create_in_dir(tmp.path(), b.build()).unwrap();
        let ix = crate::index::open(tmp.path().to_str().unwrap(), "", false, Default::default())
            .unwrap();
        let e = TgWriter::open(&ix, 15_000_000, 1).err().unwrap();
        assert_eq!(e.code, TG_ERR_INVALID_ARGUMENT, "{e}");
    }

    // A background merge would publish meta.json outside a commit, unfenced;
    // so every commit leaves its own segment until an explicit merge.
    #[test]
    fn no_background_merges() {
        let tmp = tempfile::tempdir().unwrap();
        let ix = new_index(tmp.path());
        let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        for i in 0..12 {
            w.add_json_lines(format!(r#"{{"id":"{i}","title":"seg"}}"#).as_bytes())
                .unwrap();
            w.commit("", 0).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let s = crate::search::stats(&ix).unwrap();
        assert_eq!((s.segments, s.docs), (12, 12));
    }
}
