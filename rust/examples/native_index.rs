//! native_index: the native Rust baseline of `make bench` (not shipped in
//! the library). It indexes a JSON-lines file with Tantivy directly, in one
//! process, with no Go, no cgo call and no journal, doing per document what
//! the bridge's `tg_writer_add_json_lines` does:
//!
//! * the same schema (`schema::parse_schema("")`, tguard's default), the
//!   same index creation (`IndexBuilder` over an `MmapDirectory`);
//! * the same writer: memory budget 128 MiB and the thread plan of
//!   `writer.rs` (0 = available cores, at most 8, at most one per 15 MB of
//!   budget), background merges off (`NoMergePolicy`);
//! * the same line parser (`ingest::parse_line`) and upsert (queue the
//!   delete of the id with the bridge's `IdQuery`, skipped for an id that
//!   `known_ids::KnownIds` knows has no document yet, then add the document);
//! * but Tantivy's own indexing queue, without the bridge's byte budget on
//!   it (`queue_budget.rs`): that budget is part of what the bridge costs;
//! * the same batching as `tguard index` (1,000 lines or 8 MiB per batch,
//!   `indexer.DefaultBatchDocs` / `DefaultBatchBytes`) and one commit at the
//!   end, with a payload.
//!
//! Usage: native_index --index DIR [--memory BYTES] [--threads N] FILE.jsonl
//! Prints one JSON object: {"docs","bad","threads","memory","seconds"}.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::Instant;

use tantivy::directory::MmapDirectory;
use tantivy::indexer::NoMergePolicy;
use tantivy::{IndexBuilder, IndexWriter, TantivyDocument, Term};

use tguard_bridge::bench_api::{
    id_field, lines, parse_line, parse_schema, thread_plan, IdQuery, KnownIds,
};

const DEFAULT_MEMORY: u64 = 128 << 20; // indexer.DefaultMemoryBudget
const BATCH_DOCS: usize = 1000; // indexer.DefaultBatchDocs
const BATCH_BYTES: usize = 8 << 20; // indexer.DefaultBatchBytes

fn usage() -> ! {
    eprintln!("usage: native_index --index DIR [--memory BYTES] [--threads N] FILE.jsonl");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut memory, mut threads, mut input) = (None, DEFAULT_MEMORY, 0u64, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--index" => dir = args.next(),
            "--memory" => {
                memory = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ if input.is_none() && !a.starts_with("--") => input = Some(a),
            _ => usage(),
        }
    }
    let (Some(dir), Some(input)) = (dir, input) else {
        usage()
    };
    let start = Instant::now();
    let threads = thread_plan(memory, threads as u32).unwrap_or_else(|e| {
        eprintln!("native_index: {e}");
        std::process::exit(2)
    });

    let schema = parse_schema("").expect("default schema");
    let id = id_field(&schema).expect("id field");
    std::fs::create_dir_all(&dir).expect("create index folder");
    let index = IndexBuilder::new()
        .schema(schema.clone())
        .open_or_create(MmapDirectory::open(&dir).expect("open folder"))
        .expect("create index");
    let mut writer: IndexWriter<TantivyDocument> = index
        .writer_with_num_threads(threads, memory as usize)
        .expect("open writer");
    writer.set_merge_policy(Box::new(NoMergePolicy));
    let mut known = KnownIds::open(&index, id).expect("read the committed ids");

    let mut reader = BufReader::with_capacity(1 << 20, File::open(&input).expect("open input"));
    let (mut docs, mut bad) = (0u64, 0u64);
    let mut batch: Vec<u8> = Vec::with_capacity(BATCH_BYTES + (1 << 20));
    let mut in_batch = 0usize;
    let mut apply = |batch: &mut Vec<u8>, writer: &mut IndexWriter<TantivyDocument>| {
        for (_, raw) in lines(batch) {
            match parse_line(&schema, raw) {
                Ok(None) => {}
                Ok(Some(line)) => {
                    if known.may_exist(&line.id).expect("look up the id") {
                        writer
                            .delete_query(Box::new(IdQuery::new(Term::from_field_text(
                                id, &line.id,
                            ))))
                            .expect("queue delete");
                    }
                    known.added(&line.id);
                    writer.add_document(line.doc).expect("add document");
                    docs += 1;
                }
                Err(_) => bad += 1,
            }
        }
        batch.clear();
    };
    loop {
        let before = batch.len();
        let n = reader.read_until(b'\n', &mut batch).expect("read input");
        if n == 0 {
            break;
        }
        if batch[before..].iter().all(|b| b.is_ascii_whitespace()) {
            batch.truncate(before);
            continue;
        }
        if !batch.ends_with(b"\n") {
            batch.push(b'\n');
        }
        in_batch += 1;
        if in_batch >= BATCH_DOCS || batch.len() >= BATCH_BYTES {
            apply(&mut batch, &mut writer);
            in_batch = 0;
        }
    }
    apply(&mut batch, &mut writer);
    let mut prepared = writer.prepare_commit().expect("prepare commit");
    prepared.set_payload(r#"{"token":1}"#);
    prepared.commit().expect("commit");
    writer.wait_merging_threads().expect("writer shutdown");
    println!(
        r#"{{"docs":{docs},"bad":{bad},"threads":{threads},"memory":{memory},"seconds":{:.6}}}"#,
        start.elapsed().as_secs_f64()
    );
}
