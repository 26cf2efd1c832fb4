//! Query parsing, search and index statistics (read side).

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::Value;
use tantivy::{Searcher, TantivyDocument};

use crate::error::{BResult, BridgeError, TG_ERR_QUERY_SYNTAX};
use crate::index::TgIndex;
use crate::schema::default_search_fields;

/// Upper bound on `limit`: TopDocs allocates a heap of that size up front.
pub const TG_MAX_SEARCH_LIMIT: u32 = 100_000;

#[derive(Debug, Serialize)]
pub struct Hit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub score: f32,
}

#[derive(Debug, Serialize)]
pub struct SearchResult {
    pub total: u64,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub docs: u64,
    pub segments: u64,
    pub payload: Option<String>,
    pub opstamp: u64,
}

/// Reloads the manual-policy reader so every call sees the latest commit
/// (including commits by other processes).
fn fresh_searcher(ix: &TgIndex) -> BResult<Searcher> {
    ix.reader
        .reload()
        .map_err(|e| BridgeError::from(e).context("reloading reader"))?;
    Ok(ix.reader.searcher())
}

pub fn search(ix: &TgIndex, query: &str, limit: u32) -> BResult<SearchResult> {
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
    let text = |doc: &TantivyDocument, name: &str| -> Option<String> {
        let field = schema.get_field(name).ok()?;
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut hits = Vec::with_capacity(top.len());
    for (score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr).map_err(BridgeError::from)?;
        hits.push(Hit {
            id: text(&doc, "id"),
            path: text(&doc, "path"),
            title: text(&doc, "title"),
            score,
        });
    }
    Ok(SearchResult {
        total: total as u64,
        hits,
    })
}

/// Counts come from meta.json (one consistent snapshot with payload and
/// opstamp), and a searcher is opened on that snapshot to prove it is readable.
pub fn stats(ix: &TgIndex) -> BResult<Stats> {
    let metas = ix
        .index
        .load_metas()
        .map_err(|e| BridgeError::from(e).context("reading meta.json"))?;
    fresh_searcher(ix)?;
    Ok(Stats {
        docs: metas.segments.iter().map(|s| u64::from(s.num_docs())).sum(),
        segments: metas.segments.len() as u64,
        payload: metas.payload,
        opstamp: metas.opstamp,
    })
}
