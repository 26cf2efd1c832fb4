//! C entry points for searching and listing ids.

use std::ffi::c_char;

use crate::error::TgError;
use crate::ffi::{handle, out_arg, put_json, run_code, str_arg};
use crate::index::TgIndex;
use crate::search::{ids_with_prefix, search, search_fields};

/// Searches the last committed state (the reader is reloaded on each call).
///
/// Terms without a field prefix search all tokenized text fields (title and
/// body in the default schema); `field:term` works for any indexed field.
/// An empty or whitespace-only query -> TG_ERR_INVALID_ARGUMENT ("empty
/// query"); an unparsable one -> TG_ERR_QUERY_SYNTAX. `limit` 0 counts only;
/// above 100000 -> TG_ERR_INVALID_ARGUMENT.
///
/// On success `*out_json` receives `{"total":N,"hits":[HIT...]}`, each HIT
/// an object of the document's stored fields (a field with one value gives
/// the value, with several an array; fields missing from a stored document
/// are omitted), `"snippet":{"field":..,"text":..,"highlighted":[[start,
/// end]...]}` (byte ranges of the matched terms in the one-line text;
/// left out when the schema stores no tokenized text) and `"score":f`; the
/// caller frees it with `tg_string_free`. `query` is borrowed for the call
/// only.
///
/// # Safety
/// `ix` live handle; `query_ptr` readable for `query_len`; `out_json`
/// writable; `out_err` null or writable. Safe to call concurrently on one handle.
#[no_mangle]
pub unsafe extern "C" fn tg_index_search(
    ix: *const TgIndex,
    query_ptr: *const u8,
    query_len: usize,
    limit: u32,
    out_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_json, "out_json")?;
            let ix = handle(ix, "index")?;
            let query = str_arg(query_ptr, query_len, "query")?;
            put_json(out_json, &search(ix, query, limit)?)
        })
    }
}

/// `tg_index_search`, keeping only the stored fields named in `fields_json`
/// (a JSON array of names; empty or NULL: all). A name not in the schema,
/// or not stored -> TG_ERR_INVALID_ARGUMENT. Borrowed for the call only.
///
/// # Safety
/// As `tg_index_search`; `fields_ptr` readable for `fields_len` (NULL
/// allowed when 0).
#[no_mangle]
pub unsafe extern "C" fn tg_index_search_fields(
    ix: *const TgIndex,
    query_ptr: *const u8,
    query_len: usize,
    limit: u32,
    fields_ptr: *const u8,
    fields_len: usize,
    out_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_json, "out_json")?;
            let ix = handle(ix, "index")?;
            let query = str_arg(query_ptr, query_len, "query")?;
            let fields = str_arg(fields_ptr, fields_len, "fields")?;
            let names: Option<Vec<String>> = if fields.trim().is_empty() {
                None
            } else {
                Some(
                    serde_json::from_str(fields)
                        .map_err(|e| crate::error::BridgeError::invalid(format!("fields: {e}")))?,
                )
            };
            put_json(
                out_json,
                &search_fields(ix, query, limit, names.as_deref())?,
            )
        })
    }
}

/// Lists the ids of the last committed state (the reader is reloaded on
/// each call) that start with `prefix`.
///
/// On success `*out_json` receives a JSON array of strings: every distinct
/// value of the `id` field that starts with `prefix`, byte-wise, in
/// ascending byte order, each once, leaving out ids whose documents are
/// all deleted (an id deleted or replaced in one segment but live in
/// another is listed). Uncommitted changes are not seen. An empty prefix
/// lists every id; no match gives `[]`.
///
/// The match is a plain string prefix: "/a/b" matches "/a/b/x" and also
/// "/a/bc". To list the contents of a folder the CALLER appends the path
/// separator ("/a/b/") and, if wanted, checks the folder's own id apart.
///
/// The schema must have the `id` upsert key (an indexed `string` field),
/// else TG_ERR_INVALID_ARGUMENT (possible for an index opened with "any
/// schema"). Ids longer than Tantivy's MAX_TOKEN_LEN (65530 bytes) are not
/// in the term dictionary and are never listed.
///
/// Ownership: `*out_json` is owned by the caller, who frees it with
/// `tg_string_free`; it is left untouched on error. `prefix` (UTF-8) is
/// borrowed for the call only.
///
/// # Safety
/// `ix` live handle; `prefix_ptr` readable for `prefix_len` (NULL allowed
/// when 0); `out_json` writable; `out_err` null or writable. Safe to call
/// concurrently on one handle, and alongside searches and a writer.
#[no_mangle]
pub unsafe extern "C" fn tg_index_ids_with_prefix(
    ix: *const TgIndex,
    prefix_ptr: *const u8,
    prefix_len: usize,
    out_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_json, "out_json")?;
            let ix = handle(ix, "index")?;
            let prefix = str_arg(prefix_ptr, prefix_len, "prefix")?;
            put_json(out_json, &ids_with_prefix(ix, prefix)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    use super::*;
    use crate::error::{tg_error_free, tg_string_free, TG_ERR_INVALID_ARGUMENT, TG_OK};

    /// The code and message of an out_err, freeing it.
    fn take_err(err: *mut TgError) -> (i32, String) {
        assert!(!err.is_null(), "expected an error");
        let r = unsafe {
            (
                (*err).code,
                CStr::from_ptr((*err).message).to_string_lossy().into(),
            )
        };
        unsafe { tg_error_free(err) };
        r
    }

    // Null pointers Go never passes: each is an argument error that names
    // what was null, and nothing is written to out_json.
    #[test]
    fn ids_null_arguments() {
        let tmp = tempfile::tempdir().unwrap();
        let ix =
            crate::index::open(tmp.path().to_str().unwrap(), "", true, Default::default()).unwrap();
        let ix: *const TgIndex = &ix;
        let (mut out, mut err) = (null_mut(), null_mut());

        let code = unsafe { tg_index_ids_with_prefix(ix, "x".as_ptr(), 1, null_mut(), &mut err) };
        assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
        assert!(take_err(err).1.contains("out_json"));

        let code = unsafe { tg_index_ids_with_prefix(null(), null(), 0, &mut out, &mut err) };
        assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
        assert!(take_err(err).1.contains("index"));

        let code = unsafe { tg_index_ids_with_prefix(ix, null(), 2, &mut out, &mut err) };
        assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
        assert!(take_err(err).1.contains("prefix"));

        // A null prefix of length 0 is the empty prefix.
        let code = unsafe { tg_index_ids_with_prefix(ix, null(), 0, &mut out, &mut err) };
        assert_eq!(code, TG_OK);
        assert!(err.is_null());
        assert_eq!(unsafe { CStr::from_ptr(out) }.to_str().unwrap(), "[]");
        unsafe { tg_string_free(out) };
    }
}
