//! Which ids may already have a document: the upsert's delete is skipped
//! for an id that has none.
//!
//! Every upsert queues a delete of its id, and Tantivy applies each queued
//! delete to every segment at the commit: a term lookup per delete per
//! segment, new segments of this writer included. For an id that no
//! committed segment holds and that this writer has not added yet, that
//! delete matches nothing. A first run over a folder (every id new) then
//! queues no delete at all.
//!
//! "May exist" errs one way only: an id of a committed segment (deleted
//! documents included) or one whose 64-bit hash matches an id this writer
//! added is deleted as before.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use tantivy::index::Index;
use tantivy::schema::Field;
use tantivy::{SegmentReader, Term};

use crate::error::{BResult, BridgeError};

/// The ids of the committed segments a writer opened on, and of the
/// documents it added since.
pub struct KnownIds {
    field: Field,
    /// None once forgotten: every id may exist then.
    segments: Option<Vec<SegmentReader>>,
    added: HashSet<u64, BuildHasherDefault<NoHash>>,
    hasher: BuildHasherDefault<DefaultHasher>,
}

/// The set's keys are hashes already.
#[derive(Default)]
pub(crate) struct NoHash(u64);

impl std::hash::Hasher for NoHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl KnownIds {
    /// Reads the segment list of `index` as its meta.json is now: call it
    /// where that is the meta.json the writer opened from.
    pub fn open(index: &Index, field: Field) -> BResult<KnownIds> {
        let segments = index
            .searchable_segments()
            .and_then(|segs| segs.iter().map(SegmentReader::open).collect())
            .map_err(|e| BridgeError::from(e).context("reading the committed segments' ids"))?;
        Ok(KnownIds {
            field,
            segments: Some(segments),
            added: HashSet::default(),
            hasher: BuildHasherDefault::default(),
        })
    }

    /// Whether a document with this id may exist (false: surely none).
    pub fn may_exist(&self, id: &str) -> BResult<bool> {
        if self.added.contains(&self.hasher.hash_one(id)) {
            return Ok(true);
        }
        let Some(segments) = &self.segments else {
            return Ok(true);
        };
        let term = Term::from_field_text(self.field, id);
        for seg in segments {
            let inverted = seg
                .inverted_index(self.field)
                .map_err(|e| BridgeError::from(e).context("reading the id field"))?;
            if inverted
                .get_term_info(&term)
                .map_err(|e| BridgeError::from(tantivy::TantivyError::from(e)))?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Closes the committed segments (a merge is about to replace them, and
    /// an open file cannot be removed on some shares and on Windows); every
    /// id may exist from then on.
    pub(crate) fn forget_segments(&mut self) {
        self.segments = None;
    }

    /// Records that this writer added a document with this id.
    pub fn added(&mut self, id: &str) {
        self.added.insert(self.hasher.hash_one(id));
    }
}

#[cfg(test)]
mod tests {
    use crate::index::open;
    use crate::writer::TgWriter;

    fn docs(ix: &crate::index::TgIndex) -> u64 {
        crate::search::stats(ix).unwrap().docs
    }

    #[test]
    fn upserts_replace_within_a_writer_and_across_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let ix = open(tmp.path().to_str().unwrap(), "", true, Default::default()).unwrap();
        let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        // The same id twice in one batch, and again in a later batch.
        w.add_json_lines(
            b"{\"id\":\"a\",\"title\":\"one\"}\n{\"id\":\"a\",\"title\":\"two\"}\n{\"id\":\"b\"}",
        )
        .unwrap();
        w.add_json_lines(b"{\"id\":\"a\",\"title\":\"three\"}")
            .unwrap();
        w.commit("", 0).unwrap();
        drop(w);
        assert_eq!(docs(&ix), 2);
        // A new writer sees "a" and "b" in the committed segment.
        let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        w.add_json_lines(b"{\"id\":\"a\",\"title\":\"four\"}\n{\"id\":\"c\"}")
            .unwrap();
        w.commit("", 0).unwrap();
        drop(w);
        assert_eq!(docs(&ix), 3);
        let hits = crate::search::search(&ix, "title:three", 10).unwrap();
        assert_eq!(hits.total, 0, "the third version was replaced");
        let hits = crate::search::search(&ix, "title:four", 10).unwrap();
        assert_eq!(hits.total, 1);
    }

    #[test]
    fn may_exist_knows_committed_and_added_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let ix = open(tmp.path().to_str().unwrap(), "", true, Default::default()).unwrap();
        let mut w = TgWriter::open(&ix, 15_000_000, 1).unwrap();
        w.add_json_lines(b"{\"id\":\"old\"}").unwrap();
        w.commit("", 0).unwrap();
        drop(w);
        let id = crate::schema::id_field(&ix.index.schema()).unwrap();
        let mut k = super::KnownIds::open(&ix.index, id).unwrap();
        assert!(k.may_exist("old").unwrap());
        assert!(!k.may_exist("new").unwrap());
        k.added("new");
        assert!(k.may_exist("new").unwrap());
        k.forget_segments();
        assert!(k.may_exist("other").unwrap());
    }
}
