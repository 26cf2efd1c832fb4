//! C entry point for searching.

use std::ffi::c_char;

use crate::error::TgError;
use crate::ffi::{handle, out_arg, put_json, run_code, str_arg};
use crate::index::TgIndex;
use crate::search::search;

/// Searches the last committed state (the reader is reloaded on each call).
///
/// Terms without a field prefix search all tokenized text fields (title and
/// body in the default schema); `field:term` works for any indexed field.
/// An empty or whitespace-only query -> TG_ERR_INVALID_ARGUMENT ("empty
/// query"); an unparsable one -> TG_ERR_QUERY_SYNTAX. `limit` 0 counts only;
/// above 100000 -> TG_ERR_INVALID_ARGUMENT.
///
/// On success `*out_json` receives
/// `{"total":N,"hits":[{"id":"..","path":"..","title":"..","score":f}]}`
/// (fields missing from a stored document are omitted); the caller frees it
/// with `tg_string_free`. `query` is borrowed for the call only.
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
