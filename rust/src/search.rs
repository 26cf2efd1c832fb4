//! Query parsing, search, id listing and index statistics (read side).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::IndexRecordOption;
use tantivy::schema::{Document, Field, FieldType, Schema};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocSet, Searcher, SegmentReader, TantivyDocument, TERMINATED};

use crate::error::{
    BResult, BridgeError, TG_ERR_CORRUPT_INDEX, TG_ERR_INTERNAL, TG_ERR_QUERY_SYNTAX,
};
use crate::index::TgIndex;
use crate::schema::{default_search_fields, id_field};

/// Upper bound on `limit`: TopDocs allocates a heap of that size up front.
pub const TG_MAX_SEARCH_LIMIT: u32 = 100_000;

/// One hit: the stored fields (all, or those asked for; a field with one
/// value gives the value, with several an array), a snippet, the score.
#[derive(Debug, Serialize)]
pub(crate) struct Hit {
    #[serde(flatten)]
    pub(crate) fields: BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) snippet: Option<HitSnippet>,
    pub(crate) score: f32,
}

/// A one-line excerpt of a stored text field around the matched terms.
/// `highlighted` are the matched terms' byte ranges in `text`.
#[derive(Debug, Serialize)]
pub(crate) struct HitSnippet {
    pub(crate) field: String,
    pub(crate) text: String,
    pub(crate) highlighted: Vec<[usize; 2]>,
}

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 160;

#[derive(Debug, Serialize)]
pub(crate) struct SearchResult {
    pub(crate) total: u64,
    pub(crate) hits: Vec<Hit>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Stats {
    pub(crate) docs: u64,
    pub(crate) segments: u64,
    pub(crate) payload: Option<String>,
    pub(crate) opstamp: u64,
}

/// Reloads the manual-policy reader so every call sees the latest commit
/// (including commits by other processes).
fn fresh_searcher(ix: &TgIndex) -> BResult<Searcher> {
    let reader = ix.reader()?;
    reader
        .reload()
        .map_err(|e| BridgeError::from(e).context("reloading reader"))?;
    Ok(reader.searcher())
}

pub(crate) fn search(ix: &TgIndex, query: &str, limit: u32) -> BResult<SearchResult> {
    search_fields(ix, query, limit, None)
}

/// `search`, keeping only the stored fields named in `fields` (None: all).
pub(crate) fn search_fields(
    ix: &TgIndex,
    query: &str,
    limit: u32,
    fields: Option<&[String]>,
) -> BResult<SearchResult> {
    if query.trim().is_empty() {
        return Err(BridgeError::invalid("empty query"));
    }
    if limit > TG_MAX_SEARCH_LIMIT {
        return Err(BridgeError::invalid(format!(
            "limit {limit} exceeds the maximum {TG_MAX_SEARCH_LIMIT}"
        )));
    }
    let schema = ix.index.schema();
    let parser = QueryParser::for_index(&ix.index, default_search_fields(&schema));
    let q = parser
        .parse_query(query)
        .map_err(|e| BridgeError::new(TG_ERR_QUERY_SYNTAX, e.to_string()))?;
    let searcher = fresh_searcher(ix)?;
    let (total, top) = if limit == 0 {
        // TopDocs rejects a zero limit; count only.
        (
            searcher.search(&q, &Count).map_err(BridgeError::from)?,
            Vec::new(),
        )
    } else {
        let collector = (Count, TopDocs::with_limit(limit as usize).order_by_score());
        searcher.search(&q, &collector).map_err(BridgeError::from)?
    };
    if let Some(names) = fields {
        for n in names {
            let f = schema.get_field(n).map_err(|_| {
                BridgeError::invalid(format!("--fields: no field {n:?} in the schema"))
            })?;
            if !schema.get_field_entry(f).is_stored() {
                return Err(BridgeError::invalid(format!(
                    "--fields: field {n:?} is not stored, so it cannot be shown"
                )));
            }
        }
    }
    let snippets = snippet_generators(&searcher, &*q, &schema)?;
    let mut hits = Vec::with_capacity(top.len());
    for (score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr).map_err(BridgeError::from)?;
        let named = doc.to_named_doc(&schema);
        let mut out = BTreeMap::new();
        for (name, mut values) in named.0 {
            if fields.is_some_and(|f| !f.contains(&name)) {
                continue;
            }
            let v = if values.len() == 1 {
                serde_json::to_value(values.remove(0))
            } else {
                serde_json::to_value(values)
            }
            .map_err(|e| BridgeError::new(TG_ERR_INTERNAL, format!("encoding a hit: {e}")))?;
            out.insert(name, v);
        }
        hits.push(Hit {
            fields: out,
            snippet: best_snippet(&snippets, &doc),
            score,
        });
    }
    Ok(SearchResult {
        total: total as u64,
        hits,
    })
}

/// One snippet generator per stored, tokenized text field, the fields most
/// likely to hold prose first: title and path are shown beside the snippet
/// anyway.
fn snippet_generators(
    searcher: &Searcher,
    q: &dyn tantivy::query::Query,
    schema: &Schema,
) -> BResult<Vec<(String, Field, SnippetGenerator)>> {
    let mut out = Vec::new();
    for (field, entry) in schema.fields() {
        let tokenized = match entry.field_type() {
            FieldType::Str(o) => o
                .get_indexing_options()
                .is_some_and(|i| i.tokenizer() != "raw"),
            _ => false,
        };
        if !tokenized || !entry.is_stored() {
            continue;
        }
        let mut g = SnippetGenerator::create(searcher, q, field).map_err(BridgeError::from)?;
        g.set_max_num_chars(SNIPPET_CHARS);
        out.push((entry.name().to_string(), field, g));
    }
    out.sort_by_key(|(name, _, _)| matches!(name.as_str(), "title" | "path"));
    Ok(out)
}

/// The first snippet with a matched term; else the start of the first
/// stored text field (title and path aside). Made one line (control characters become spaces,
/// which keeps the byte offsets).
fn best_snippet(
    gens: &[(String, Field, SnippetGenerator)],
    doc: &TantivyDocument,
) -> Option<HitSnippet> {
    let one_line = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_control() { ' ' } else { c })
            .collect()
    };
    // Title and path are printed beside the snippet: an excerpt of them
    // would repeat them.
    let shown = |name: &str| matches!(name, "title" | "path");
    for (name, _, g) in gens {
        if shown(name) {
            continue;
        }
        let sn = g.snippet_from_doc(doc);
        if sn.highlighted().is_empty() {
            continue;
        }
        return Some(HitSnippet {
            field: name.clone(),
            text: one_line(sn.fragment()),
            highlighted: sn.highlighted().iter().map(|r| [r.start, r.end]).collect(),
        });
    }
    let (name, field, _) = gens.iter().find(|(name, _, _)| !shown(name))?;
    let text = doc.get_first(*field).and_then(|v| {
        use tantivy::schema::Value as _;
        v.as_str().map(str::to_string)
    })?;
    let end = text
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(i, _)| i);
    Some(HitSnippet {
        field: name.clone(),
        text: one_line(&text[..end]),
        highlighted: Vec::new(),
    })
}

/// Every distinct `id` term of the last commit that starts with `prefix`
/// (byte-wise; an empty prefix matches all), sorted, skipping ids whose
/// documents are all deleted. Read from each segment's term dictionary of
/// the `id` field, so no stored document is loaded.
pub(crate) fn ids_with_prefix(ix: &TgIndex, prefix: &str) -> BResult<Vec<String>> {
    let id = id_field(&ix.index.schema())?;
    let searcher = fresh_searcher(ix)?;
    let mut ids = BTreeSet::new();
    for segment in searcher.segment_readers() {
        segment_ids_with_prefix(segment, id, prefix.as_bytes(), &mut ids)?;
    }
    Ok(ids.into_iter().collect())
}

fn segment_ids_with_prefix(
    segment: &SegmentReader,
    id: tantivy::schema::Field,
    prefix: &[u8],
    ids: &mut BTreeSet<String>,
) -> BResult<()> {
    let io = |e: std::io::Error| BridgeError::from(tantivy::TantivyError::from(e));
    let inverted = segment
        .inverted_index(id)
        .map_err(|e| BridgeError::from(e).context("reading the id term dictionary"))?;
    let alive = segment.alive_bitset();
    // For a raw `string` field the dictionary key is the id's UTF-8 bytes.
    let mut terms = inverted
        .terms()
        .range()
        .ge(prefix)
        .into_stream()
        .map_err(io)?;
    while let Some((key, info)) = terms.next() {
        if !key.starts_with(prefix) {
            break; // sorted: nothing further can match
        }
        let text = std::str::from_utf8(key).map_err(|e| {
            BridgeError::new(
                TG_ERR_CORRUPT_INDEX,
                format!(
                    "id term is not UTF-8 ({e}) in segment {}",
                    segment.segment_id().uuid_string()
                ),
            )
        })?;
        if ids.contains(text) {
            continue; // already known alive in another segment
        }
        let live = match alive {
            // doc_freq counts deleted documents too: check the postings.
            Some(alive) => {
                let mut postings = inverted
                    .read_postings_from_terminfo(info, IndexRecordOption::Basic)
                    .map_err(io)?;
                let mut doc = postings.doc();
                while doc != TERMINATED && !alive.is_alive(doc) {
                    doc = postings.advance();
                }
                doc != TERMINATED
            }
            None => info.doc_freq > 0,
        };
        if live {
            ids.insert(text.to_string());
        }
    }
    Ok(())
}

/// Counts come from meta.json (one consistent snapshot with payload and
/// opstamp), and a searcher is opened on that snapshot to prove it is readable.
pub(crate) fn stats(ix: &TgIndex) -> BResult<Stats> {
    let metas = ix
        .index
        .load_metas()
        .map_err(|e| BridgeError::from(e).context("reading meta.json"))?;
    // From meta.json alone, without a reader: the indexer reads the payload
    // under its lease, and a reader's reload would wait on Tantivy's meta
    // lock, which a stopped process on this host may hold.
    Ok(Stats {
        docs: metas.segments.iter().map(|s| u64::from(s.num_docs())).sum(),
        segments: metas.segments.len() as u64,
        payload: metas.payload,
        opstamp: metas.opstamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TG_ERR_INVALID_ARGUMENT;

    // An index written by plain Tantivy opens with "any schema", but listing
    // ids needs `id` as an indexed raw string field: a tokenized `id` does
    // not do, and neither does no `id` at all.
    #[test]
    fn ids_need_the_id_string_field() {
        use tantivy::schema::{Schema, STORED, TEXT};
        for with_id in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let mut b = Schema::builder();
            let f = b.add_text_field(if with_id { "id" } else { "name" }, TEXT | STORED);
            let index = tantivy::Index::create_in_dir(tmp.path(), b.build()).unwrap();
            let mut iw: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
            iw.add_document(tantivy::doc!(f => "/a/b")).unwrap();
            iw.commit().unwrap();
            drop(iw);
            let ix =
                crate::index::open(tmp.path().to_str().unwrap(), "", false, Default::default())
                    .unwrap();
            let e = ids_with_prefix(&ix, "").unwrap_err();
            assert_eq!(e.code, TG_ERR_INVALID_ARGUMENT, "{e}");
            assert!(e.message.contains("\"id\""), "{e}");
        }
    }
}
