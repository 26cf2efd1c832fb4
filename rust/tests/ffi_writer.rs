//! Writer behaviour through the C ABI: upserts, bad lines, fencing,
//! deadlines, locking, and plain-Tantivy compatibility.

mod common;
use common::*;
use tguard_bridge::*;

#[test]
fn upsert_replaces_and_delete_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    add(
        &w,
        b"{\"id\":\"a\",\"title\":\"first apple\"}\n{\"id\":\"b\",\"title\":\"banana\"}",
    )
    .unwrap();
    commit(&w, "", 0).unwrap();
    add(&w, br#"{"id":"a","title":"second apricot"}"#).unwrap();
    // Same id twice in one batch: the last one wins.
    add(
        &w,
        b"{\"id\":\"c\",\"title\":\"cherry one\"}\n{\"id\":\"c\",\"title\":\"cherry two\"}",
    )
    .unwrap();
    commit(&w, "", 0).unwrap();
    assert_eq!(search(&ix, "apple", 10).unwrap()["total"], 0);
    assert_eq!(search(&ix, "apricot", 10).unwrap()["total"], 1);
    let r = search(&ix, "cherry", 10).unwrap();
    assert_eq!(r["total"], 1);
    assert_eq!(r["hits"][0]["title"], "cherry two");
    assert_eq!(stats(&ix)["docs"], 3);
    delete(&w, "b").unwrap();
    commit(&w, "", 0).unwrap();
    assert_eq!(stats(&ix)["docs"], 2);
    assert_eq!(delete(&w, "").err().unwrap().0, TG_ERR_INVALID_ARGUMENT);
}

#[test]
fn bad_lines_are_counted_with_line_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    let mut buf = Vec::new();
    buf.extend_from_slice(b"{\"id\":\"ok1\",\"title\":\"good\"}\n");
    buf.extend_from_slice(b"{broken\n");
    buf.extend_from_slice(b"\n");
    buf.extend_from_slice(b"{\"title\":\"no id\"}\n");
    buf.extend_from_slice(b"{\"id\":\"x\",\"modified\":12.5}\n");
    buf.extend_from_slice(b"{\"id\":\"bad\xff\"}\n");
    buf.extend_from_slice(b"{\"id\":\"ok2\",\"title\":\"good\"}\n");
    let r = add(&w, &buf).unwrap();
    assert_eq!(r["added"], 2);
    assert_eq!(r["bad"], 4);
    let lines: Vec<u64> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4, 5, 6]);
    for e in r["errors"].as_array().unwrap() {
        assert!(!e["message"].as_str().unwrap().contains('\n'));
    }
    assert!(
        r["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("modified"),
        "{r}"
    );
    assert!(
        r["errors"][3]["message"]
            .as_str()
            .unwrap()
            .contains("UTF-8"),
        "{r}"
    );
    commit(&w, "", 0).unwrap();
    assert_eq!(search(&ix, "good", 10).unwrap()["total"], 2);

    // The listed errors are capped, the count is not.
    let many: Vec<u8> = std::iter::repeat_n(&b"nope\n"[..], 250)
        .flatten()
        .copied()
        .collect();
    let r = add(&w, &many).unwrap();
    assert_eq!(r["bad"], 250);
    assert_eq!(r["errors"].as_array().unwrap().len(), TG_MAX_LISTED_ERRORS);
    // Empty buffer: nothing to do.
    assert_eq!(add(&w, b"").unwrap()["added"], 0);
}

#[test]
fn payload_round_trips_through_meta_json() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    add(&w, br#"{"id":"a"}"#).unwrap();
    let payload = r#"{"token":3,"holder":"h\u00e9"}"#;
    let op = commit(&w, payload, 3).unwrap();
    let metas = tantivy::Index::open_in_dir(tmp.path())
        .unwrap()
        .load_metas()
        .unwrap();
    assert_eq!(metas.payload.as_deref(), Some(payload));
    assert_eq!(metas.opstamp, op);
    let s = stats(&ix);
    assert_eq!(s["payload"], payload);
    assert_eq!(s["opstamp"], op);
    assert_eq!(s["docs"], 1);
}

#[test]
fn fenced_commit_is_refused_and_nothing_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    add(&w, br#"{"id":"a","title":"first"}"#).unwrap();
    let op = commit(&w, r#"{"token":7}"#, 7).unwrap();
    // Same token again is fine (the holder commits repeatedly).
    add(&w, br#"{"id":"b","title":"second"}"#).unwrap();
    let op2 = commit(&w, r#"{"token":7}"#, 7).unwrap();
    assert!(op2 > op);
    add(&w, br#"{"id":"c","title":"stale"}"#).unwrap();
    let (code, msg) = commit(&w, r#"{"token":5}"#, 5).err().unwrap();
    assert_eq!(code, TG_ERR_FENCED);
    assert!(msg.contains('7') && msg.contains('5'), "{msg}");
    // The writer is abandoned: further use fails with the same code.
    assert_eq!(
        commit(&w, r#"{"token":9}"#, 9).err().unwrap().0,
        TG_ERR_FENCED
    );
    assert_eq!(add(&w, br#"{"id":"d"}"#).err().unwrap().0, TG_ERR_FENCED);
    drop(w);
    let s = stats(&ix);
    assert_eq!(s["payload"], r#"{"token":7}"#);
    assert_eq!(s["opstamp"], op2);
    assert_eq!(search(&ix, "stale", 10).unwrap()["total"], 0);
    // A new writer does not resurrect the abandoned documents.
    let w = writer(&ix, MB15, 1).unwrap();
    commit(&w, r#"{"token":8}"#, 8).unwrap();
    assert_eq!(search(&ix, "stale", 10).unwrap()["total"], 0);
    assert_eq!(stats(&ix)["docs"], 2);
}

#[test]
fn expired_deadline_refuses_writes_and_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    let cell = unsafe { tg_writer_deadline_cell(w.0) };
    assert!(!cell.is_null());
    unsafe { *cell = tg_clock_now_ns() + 60_000_000_000 };
    add(&w, br#"{"id":"a","title":"kept"}"#).unwrap();
    commit(&w, "", 0).unwrap();
    add(&w, br#"{"id":"b","title":"lost"}"#).unwrap();
    unsafe { *cell = tg_clock_now_ns() - 1 };
    let (code, msg) = commit(&w, "", 0).err().unwrap();
    assert_eq!(code, TG_ERR_LEASE_EXPIRED, "{msg}");
    unsafe { *cell = 0 };
    assert_eq!(commit(&w, "", 0).err().unwrap().0, TG_ERR_LEASE_EXPIRED);
    drop(w);
    assert_eq!(search(&ix, "kept", 10).unwrap()["total"], 1);
    assert_eq!(search(&ix, "lost", 10).unwrap()["total"], 0);

    let w = writer(&ix, MB15, 1).unwrap();
    unsafe { *tg_writer_deadline_cell(w.0) = tg_clock_now_ns() - 1 };
    assert_eq!(
        add(&w, br#"{"id":"c"}"#).err().unwrap().0,
        TG_ERR_LEASE_EXPIRED
    );
    let w = writer(&ix, MB15, 1).err().map(|e| e.0);
    assert_eq!(
        w,
        Some(TG_ERR_WRITER_LOCK_BUSY),
        "abandoned writer still holds the lock until freed"
    );
}

#[test]
fn second_writer_is_lock_busy_until_first_freed() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    let ix2 = open(tmp.path(), "", false).unwrap();
    let (code, msg) = writer(&ix2, MB15, 1).err().unwrap();
    assert_eq!(code, TG_ERR_WRITER_LOCK_BUSY, "{msg}");
    drop(w);
    drop(writer(&ix2, MB15, 1).unwrap());
}

#[test]
fn memory_budget_minimum_and_schema_without_id() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let (code, msg) = writer(&ix, 2 * MB15 - 1, 2).err().unwrap();
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert!(msg.contains("30000000"), "{msg}");
    assert_eq!(
        writer(&ix, MB15 - 1, 0).err().unwrap().0,
        TG_ERR_INVALID_ARGUMENT
    );
    drop(writer(&ix, 40 * MB15, 0).unwrap());
    drop(writer(&ix, 2 * MB15, 2).unwrap());

    // An index made by plain Tantivy without an `id` field opens, but has no writer.
    let other = tempfile::tempdir().unwrap();
    let mut b = tantivy::schema::Schema::builder();
    b.add_text_field("title", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(other.path(), b.build()).unwrap();
    let ix = open(other.path(), "", false).unwrap();
    assert_eq!(
        writer(&ix, MB15, 1).err().unwrap().0,
        TG_ERR_INVALID_ARGUMENT
    );
}

#[test]
fn plain_tantivy_reads_what_the_wrapper_wrote() {
    use tantivy::collector::TopDocs;
    use tantivy::query::QueryParser;
    use tantivy::schema::Value;

    let tmp = tempfile::tempdir().unwrap();
    {
        let ix = open(tmp.path(), "", true).unwrap();
        let w = writer(&ix, MB15, 1).unwrap();
        add(
            &w,
            br#"{"id":"doc-1","path":"/p","title":"plain tantivy compat","body":"hello"}"#,
        )
        .unwrap();
        commit(&w, r#"{"token":1}"#, 1).unwrap();
    }
    let index = tantivy::Index::open_in_dir(tmp.path()).unwrap();
    let schema = index.schema();
    let title = schema.get_field("title").unwrap();
    let id = schema.get_field("id").unwrap();
    let reader = index.reader().unwrap();
    let searcher = reader.searcher();
    let q = QueryParser::for_index(&index, vec![title])
        .parse_query("compat")
        .unwrap();
    let top = searcher
        .search(&q, &TopDocs::with_limit(5).order_by_score())
        .unwrap();
    assert_eq!(top.len(), 1);
    let doc: tantivy::TantivyDocument = searcher.doc(top[0].1).unwrap();
    assert_eq!(doc.get_first(id).and_then(|v| v.as_str()), Some("doc-1"));
    // And plain Tantivy can write to it too (it is not locked after free).
    let mut w: tantivy::IndexWriter = index.writer(MB15 as usize).unwrap();
    w.commit().unwrap();
}

#[test]
fn null_handles_are_invalid_arguments() {
    let mut err = std::ptr::null_mut();
    let mut out = std::ptr::null_mut();
    let code = unsafe {
        tg_writer_add_json_lines(std::ptr::null_mut(), b"x".as_ptr(), 1, &mut out, &mut err)
    };
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert_eq!(take_err(err).0, TG_ERR_INVALID_ARGUMENT);
    let code = unsafe {
        tg_index_search(
            std::ptr::null(),
            b"x".as_ptr(),
            1,
            1,
            &mut out,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert!(unsafe { tg_writer_deadline_cell(std::ptr::null()) }.is_null());
    unsafe {
        tg_writer_free(std::ptr::null_mut());
        tg_index_free(std::ptr::null_mut());
        tg_string_free(std::ptr::null_mut());
        tg_error_free(std::ptr::null_mut());
    }
}

#[test]
fn no_background_merges_so_only_commits_write_meta_json() {
    // Merges publish via meta.json outside commit (unfenced), so they are off.
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    for i in 0..12 {
        add(&w, format!(r#"{{"id":"{i}","title":"seg"}}"#).as_bytes()).unwrap();
        commit(&w, "", 0).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let s = stats(&ix);
    assert_eq!(s["segments"], 12, "{s}");
    assert_eq!(s["docs"], 12);
}

#[test]
fn fence_sees_meta_json_changed_by_someone_else() {
    // Simulates a newer lease holder (e.g. on another host) committing while
    // this writer was open: its token is read back from disk at commit time.
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    add(&w, br#"{"id":"a"}"#).unwrap();
    commit(&w, r#"{"token":1}"#, 1).unwrap();
    let meta_path = tmp.path().join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["payload"] = serde_json::Value::String(r#"{"token":5,"holder":"other"}"#.into());
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();

    add(&w, br#"{"id":"b"}"#).unwrap();
    let (code, msg) = commit(&w, r#"{"token":1}"#, 1).err().unwrap();
    assert_eq!(code, TG_ERR_FENCED, "{msg}");
    drop(w);
    assert_eq!(stats(&ix)["payload"], r#"{"token":5,"holder":"other"}"#);
    assert_eq!(stats(&ix)["docs"], 1);
}
