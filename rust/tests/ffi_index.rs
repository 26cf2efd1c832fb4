//! Opening, schema checks, search and stats through the C ABI.

mod common;
use common::*;
use tguard_bridge::*;

#[test]
fn open_error_codes() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        open(&tmp.path().join("missing"), "", false)
            .err()
            .unwrap()
            .0,
        TG_ERR_NOT_FOUND
    );
    assert_eq!(
        open(tmp.path(), "", false).err().unwrap().0,
        TG_ERR_NOT_AN_INDEX
    );
    let (code, msg) = open(
        tmp.path(),
        r#"{"fields":[{"name":"id","type":"nope"}]}"#,
        true,
    )
    .err()
    .unwrap();
    assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
    assert!(msg.contains("\"id\"") && msg.contains("nope"), "{msg}");
    // Null dir pointer with a length is an argument error, not a crash.
    let mut err = std::ptr::null_mut();
    let p = unsafe {
        tg_index_open(
            std::ptr::null(),
            3,
            std::ptr::null(),
            0,
            true,
            0,
            0,
            &mut err,
        )
    };
    assert!(p.is_null());
    assert_eq!(take_err(err).0, TG_ERR_INVALID_ARGUMENT);
    // Invalid UTF-8 path.
    let bad = [0xffu8];
    let p = unsafe { tg_index_open(bad.as_ptr(), 1, std::ptr::null(), 0, true, 0, 0, &mut err) };
    assert!(p.is_null());
    assert_eq!(take_err(err).0, TG_ERR_INVALID_ARGUMENT);
}

#[test]
fn schema_mismatch_and_any_schema_open() {
    let tmp = tempfile::tempdir().unwrap();
    let custom =
        r#"{"fields":[{"name":"id","type":"string","stored":true},{"name":"text","type":"text"}]}"#;
    drop(open(tmp.path(), custom, true).unwrap());
    // No schema given: the index keeps its own.
    drop(open(tmp.path(), "", true).unwrap());
    let default = tguard_bridge::schema::DEFAULT_SCHEMA_JSON;
    let (code, msg) = open(tmp.path(), default, true).err().unwrap();
    assert_eq!(code, TG_ERR_SCHEMA_MISMATCH, "{msg}");
    drop(open(tmp.path(), "", false).unwrap());
    drop(open(tmp.path(), custom, false).unwrap());
    drop(open(tmp.path(), custom, true).unwrap());
}

#[test]
fn missing_segment_file_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    add(&w, br#"{"id":"a","title":"hello"}"#).unwrap();
    commit(&w, "", 0).unwrap();
    drop(w);
    drop(ix);
    let store = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "store"))
        .unwrap();
    std::fs::remove_file(store).unwrap();
    assert_eq!(
        open(tmp.path(), "", false).err().unwrap().0,
        TG_ERR_CORRUPT_INDEX
    );
}

#[test]
fn search_hits_and_query_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let w = writer(&ix, MB15, 1).unwrap();
    let docs = concat!(
        r#"{"id":"1","path":"/a.txt","title":"Rust and Go","body":"cgo bridges","modified":"2024-01-02T03:04:05Z"}"#,
        "\n",
        r#"{"id":"2","path":"/b.txt","title":"Only Go","body":"goroutines"}"#,
        "\n",
        r#"{"id":"3","title":"Zebra"}"#,
    );
    assert_eq!(add(&w, docs.as_bytes()).unwrap()["added"], 3);
    // Uncommitted documents are not visible.
    assert_eq!(search(&ix, "go", 10).unwrap()["total"], 0);
    commit(&w, "", 0).unwrap();
    let r = search(&ix, "go", 10).unwrap();
    assert_eq!(r["total"], 2);
    assert_eq!(ids(&r), ["1", "2"]);
    let r = search(&ix, "cgo", 10).unwrap();
    assert_eq!(r["hits"][0]["path"], "/a.txt");
    assert_eq!(r["hits"][0]["title"], "Rust and Go");
    assert!(r["hits"][0]["score"].as_f64().unwrap() > 0.0);
    assert!(search(&ix, "zebra", 10).unwrap()["hits"][0]
        .get("path")
        .is_none());
    assert_eq!(search(&ix, "id:2", 10).unwrap()["total"], 1);
    assert_eq!(search(&ix, "go", 0).unwrap()["total"], 2);
    assert_eq!(
        search(&ix, "go", 1).unwrap()["hits"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        search(&ix, "", 10).err().unwrap(),
        (TG_ERR_INVALID_ARGUMENT, "empty query".into())
    );
    assert_eq!(
        search(&ix, " \t\n", 10).err().unwrap().0,
        TG_ERR_INVALID_ARGUMENT
    );
    for bad in [
        "title:(go",
        "\"unclosed",
        "nosuchfield:x",
        "modified:notadate",
    ] {
        let e = search(&ix, bad, 10).err().unwrap();
        assert_eq!(e.0, TG_ERR_QUERY_SYNTAX, "{bad}: {e:?}");
    }
    assert_eq!(
        search(&ix, "go", TG_MAX_SEARCH_LIMIT + 1).err().unwrap().0,
        TG_ERR_INVALID_ARGUMENT
    );
}

#[test]
fn stats_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    let ix = open(tmp.path(), "", true).unwrap();
    let s = stats(&ix);
    assert_eq!(s["docs"], 0);
    assert_eq!(s["segments"], 0);
    assert!(s["payload"].is_null());
    let v = unsafe { std::ffi::CStr::from_ptr(tg_version()) }
        .to_str()
        .unwrap();
    assert!(
        v.starts_with("tguard-bridge ") && v.contains("0.27.0"),
        "{v}"
    );
    let d = unsafe { std::ffi::CStr::from_ptr(tg_default_schema_json()) }
        .to_str()
        .unwrap();
    assert_eq!(d, tguard_bridge::schema::DEFAULT_SCHEMA_JSON);
}
