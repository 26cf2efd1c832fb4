//! The delete half of an upsert: "every document whose id is this term",
//! held in Tantivy's delete queue until the commit applies it.
//!
//! `IndexWriter::delete_term` queues a `TermQuery` weight, and with scoring
//! disabled that weight still carries a BM25 weight with its 256-entry
//! cache: about 1.2 KB per delete, kept until the commit. One upsert per
//! document made the delete queue grow with the batch (41 MB for 43,000
//! documents, measured with massif), so memory grew with the corpus. This
//! weight holds only the term; it matches exactly what the term query
//! matches for an indexed raw-token field like `id`: the term's postings,
//! deleted documents included (deleting those again changes nothing).
//!
//! It goes in through `IndexWriter::delete_query`, which tantivy marks
//! `#[doc(hidden)]`; the tantivy version is pinned exactly (Cargo.toml).

use tantivy::query::{ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, SegmentReader, TantivyError, Term};

/// Matches the documents that contain `term` (the id field's raw token).
#[derive(Clone, Debug)]
pub struct IdQuery {
    term: Term,
}

impl IdQuery {
    pub fn new(term: Term) -> IdQuery {
        IdQuery { term }
    }
}

impl Query for IdQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(IdWeight {
            term: self.term.clone(),
        }))
    }
}

struct IdWeight {
    term: Term,
}

impl Weight for IdWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let postings = reader
            .inverted_index(self.term.field())?
            .read_postings(&self.term, IndexRecordOption::Basic)?;
        Ok(match postings {
            Some(p) => Box::new(ConstScorer::new(p, boost)),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, _: &SegmentReader, _: DocId) -> tantivy::Result<Explanation> {
        // Only ever used to delete; nothing scores or explains with it.
        Err(TantivyError::InvalidArgument(
            "an id delete has no explanation".to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::Count;
    use tantivy::schema::{Schema, STORED, STRING, TEXT};
    use tantivy::{doc, Index, IndexWriter, TantivyDocument};

    // Upserts in one commit and across commits leave one document per id,
    // the newest, exactly as delete_term did.
    #[test]
    fn upsert_keeps_only_the_newest_version() {
        let mut sb = Schema::builder();
        let id = sb.add_text_field("id", STRING | STORED);
        let body = sb.add_text_field("body", TEXT | STORED);
        let index = Index::create_in_ram(sb.build());
        let mut w: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let upsert = |w: &IndexWriter<TantivyDocument>, key: &str, text: &str| {
            w.delete_query(Box::new(IdQuery::new(Term::from_field_text(id, key))))
                .unwrap();
            w.add_document(doc!(id => key, body => text)).unwrap();
        };
        upsert(&w, "a", "one");
        upsert(&w, "b", "one");
        upsert(&w, "a", "two"); // same commit
        w.commit().unwrap();
        upsert(&w, "b", "three"); // across commits
        upsert(&w, "c", "one");
        w.commit().unwrap();

        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.num_docs(), 3);
        let count = |field, text: &str| {
            let q = tantivy::query::TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            );
            searcher.search(&q, &Count).unwrap()
        };
        assert_eq!(count(id, "a"), 1);
        assert_eq!(count(id, "b"), 1);
        assert_eq!(count(body, "two"), 1, "a's newest version");
        assert_eq!(count(body, "three"), 1, "b's newest version");
        assert_eq!(count(body, "one"), 1, "only c still says one");
    }
}
