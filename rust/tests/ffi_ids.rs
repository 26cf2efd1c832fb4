//! `tg_index_ids_with_prefix` through the C ABI: segments, deletes,
//! updates, prefix boundaries and argument errors.

mod common;
use std::ptr::null_mut;

use common::*;
use tguard_bridge::*;

fn jsonl(ids: &[&str]) -> Vec<u8> {
    ids.iter()
        .map(|id| format!(r#"{{"id":"{id}","title":"t {id}"}}"#))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[test]
fn ids_across_segments_with_deletes_and_updates() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    assert_eq!(ids_with_prefix(&ix, "").unwrap(), Vec::<String>::new());

    let w = writer(&ix, MB15, 1).unwrap();
    // Segment 1. "/a/b/dup" is upserted twice in one batch: its term has
    // two postings in this segment, the first one deleted.
    let first = jsonl(&[
        "/a/b/x",
        "/a/bc",
        "/a/b/y",
        "/a/b/z",
        "/a/b",
        "/c/d",
        "/a/b/dup",
        "/a/b/dup",
        "/a/b/gone",
    ]);
    assert_eq!(add(&w, &first).unwrap()["added"], 9);
    commit(&w, "", 0).unwrap();
    // Segment 2: a delete and an update hitting segment 1, and a new id.
    delete(&w, "/a/b/y").unwrap();
    add(&w, &jsonl(&["/a/b/z", "/a/b/new"])).unwrap();
    // Deleted in segment 1 and again after being re-added in segment 2.
    add(&w, &jsonl(&["/a/b/gone"])).unwrap();
    delete(&w, "/a/b/gone").unwrap();
    // Uncommitted: not listed yet.
    add(&w, &jsonl(&["/a/b/pending"])).unwrap();
    assert!(!ids_with_prefix(&ix, "/a/b/")
        .unwrap()
        .contains(&"/a/b/pending".to_string()));
    delete(&w, "/a/b/pending").unwrap();
    commit(&w, "", 0).unwrap();
    assert_eq!(
        stats(&ix)["segments"],
        2,
        "NoMergePolicy keeps both segments"
    );
    assert_eq!(stats(&ix)["docs"], 7);

    let all = ids_with_prefix(&ix, "").unwrap();
    assert_eq!(
        all,
        ["/a/b", "/a/b/dup", "/a/b/new", "/a/b/x", "/a/b/z", "/a/bc", "/c/d"]
    );
    // A plain string prefix: "/a/b" also matches "/a/bc" and "/a/b" itself.
    assert_eq!(
        ids_with_prefix(&ix, "/a/b").unwrap(),
        ["/a/b", "/a/b/dup", "/a/b/new", "/a/b/x", "/a/b/z", "/a/bc"]
    );
    // The caller adds the separator to mean "inside the folder".
    assert_eq!(
        ids_with_prefix(&ix, "/a/b/").unwrap(),
        ["/a/b/dup", "/a/b/new", "/a/b/x", "/a/b/z"]
    );
    assert_eq!(ids_with_prefix(&ix, "/a/b/z").unwrap(), ["/a/b/z"]);
    assert_eq!(ids_with_prefix(&ix, "/c").unwrap(), ["/c/d"]);
    assert!(ids_with_prefix(&ix, "/a/b/zz").unwrap().is_empty());
    assert!(ids_with_prefix(&ix, "/b").unwrap().is_empty());
    assert!(ids_with_prefix(&ix, "/d").unwrap().is_empty());
    assert!(ids_with_prefix(&ix, "0").unwrap().is_empty());

    // Everything under a prefix deleted: an empty list, not an error.
    delete(&w, "/c/d").unwrap();
    commit(&w, "", 0).unwrap();
    assert!(ids_with_prefix(&ix, "/c").unwrap().is_empty());
    drop(w);

    // Another handle (as another process would) sees the same committed state.
    let ix2 = open(tmp.path(), "", false).unwrap();
    assert_eq!(ids_with_prefix(&ix2, "").unwrap(), &all[..all.len() - 1]);
}

#[test]
fn ids_are_byte_sorted_and_json_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    let docs = concat!(
        r#"{"id":"/p/\u00e9t\u00e9"}"#,
        "\n",
        r#"{"id":"/p/Z"}"#,
        "\n",
        r#"{"id":"/p/a \"q\"\\b"}"#,
        "\n",
        r#"{"id":"/p/\u65e5"}"#,
        "\n",
        r#"{"id":"/p"}"#,
    );
    assert_eq!(add(&w, docs.as_bytes()).unwrap()["added"], 5);
    commit(&w, "", 0).unwrap();
    assert_eq!(
        ids_with_prefix(&ix, "/p/").unwrap(),
        ["/p/Z", "/p/a \"q\"\\b", "/p/été", "/p/日"]
    );
    // A multi-byte prefix.
    assert_eq!(ids_with_prefix(&ix, "/p/é").unwrap(), ["/p/été"]);
}

#[test]
fn ids_argument_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let mut out = null_mut();
    let mut err = null_mut();
    // Null out_json.
    let code = unsafe { tg_index_ids_with_prefix(ix.0, "x".as_ptr(), 1, null_mut(), &mut err) };
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert!(take_err(err).1.contains("out_json"));
    // Null handle.
    let code = unsafe { tg_index_ids_with_prefix(null_mut(), null_mut(), 0, &mut out, &mut err) };
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert!(out.is_null());
    take_err(err);
    // Null prefix with a length; invalid UTF-8.
    let code = unsafe { tg_index_ids_with_prefix(ix.0, std::ptr::null(), 2, &mut out, &mut err) };
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    take_err(err);
    let bad = [b'/', 0xff];
    let code = unsafe { tg_index_ids_with_prefix(ix.0, bad.as_ptr(), 2, &mut out, &mut err) };
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert!(out.is_null());
    assert!(take_err(err).1.contains("prefix"));
    // Null prefix with length 0 is the empty prefix.
    let code = unsafe { tg_index_ids_with_prefix(ix.0, std::ptr::null(), 0, &mut out, &mut err) };
    assert_eq!(code, TG_OK);
    assert_eq!(take_string(out), "[]");
}

#[test]
fn ids_need_the_id_string_field() {
    use tantivy::schema::{Schema, STORED, TEXT};
    // Indexes written by plain Tantivy: opened with "any schema", but
    // listing ids needs `id` as an indexed raw string field.
    for with_id in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = Schema::builder();
        let f = b.add_text_field(if with_id { "id" } else { "name" }, TEXT | STORED);
        let index = tantivy::Index::create_in_dir(tmp.path(), b.build()).unwrap();
        let mut iw: tantivy::IndexWriter = index.writer(MB15 as usize).unwrap();
        iw.add_document(tantivy::doc!(f => "/a/b")).unwrap();
        iw.commit().unwrap();
        drop(iw);
        let ix = open(tmp.path(), "", false).unwrap();
        let (code, msg) = ids_with_prefix(&ix, "").err().unwrap();
        assert_eq!(code, TG_ERR_INVALID_ARGUMENT, "{msg}");
        assert!(msg.contains("\"id\""), "{msg}");
    }
}

#[test]
fn ids_concurrent_calls_on_one_handle() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    let names: Vec<String> = (0..300).map(|i| format!("/r/{i:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    add(&w, &jsonl(&refs)).unwrap();
    commit(&w, "", 0).unwrap();
    struct Shared(*mut TgIndex);
    unsafe impl Sync for Shared {}
    let shared = Shared(ix.0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let shared = &shared;
                for _ in 0..20 {
                    let mut out = null_mut();
                    let mut err = null_mut();
                    let code = unsafe {
                        tg_index_ids_with_prefix(shared.0, "/r/".as_ptr(), 3, &mut out, &mut err)
                    };
                    assert_eq!(code, TG_OK);
                    let v: Vec<String> = serde_json::from_str(&take_string(out)).unwrap();
                    // Some committed snapshot: a suffix of the sorted names.
                    assert!(v.len() >= 290, "{}", v.len());
                    assert_eq!(v[..], names[300 - v.len()..]);
                }
            });
        }
        // Commits (deletes) racing with the listings.
        for name in &names[..10] {
            delete(&w, name).unwrap();
            commit(&w, "", 0).unwrap();
        }
    });
    assert_eq!(ids_with_prefix(&ix, "/r/").unwrap(), names[10..]);
}
