//! C entry points for schemas: checking one before anything is journaled,
//! and reading the one an index keeps.

use std::ffi::c_char;

use crate::error::TgError;
use crate::ffi::{handle, out_arg, put_string, run_code, str_arg};
use crate::index::TgIndex;
use crate::schema::{parse_schema, to_tantivy_json};

/// Checks a schema (Tantivy's schema JSON, a meta.json, or tguard's
/// `{"fields":[...]}`; empty means the default) without touching any disk.
///
/// On success `*out_json` receives the schema in Tantivy's JSON, indented
/// (equal schemas give equal text); the caller frees it with
/// `tg_string_free`. A bad schema -> TG_ERR_INVALID_ARGUMENT naming the
/// field. `schema` is borrowed for the call only.
///
/// # Safety
/// `schema_ptr` readable for `schema_len` (NULL allowed when 0); `out_json`
/// writable; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_schema_check(
    schema_ptr: *const u8,
    schema_len: usize,
    out_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_json, "out_json")?;
            let json = str_arg(schema_ptr, schema_len, "schema")?;
            let text = to_tantivy_json(&parse_schema(json)?)?;
            put_string(out_json, &text);
            Ok(())
        })
    }
}

/// The schema the index keeps, in Tantivy's JSON, indented, as
/// `tg_schema_check` gives it. The caller frees `*out_json` with
/// `tg_string_free`.
///
/// # Safety
/// `ix` live handle; `out_json` writable; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_index_schema(
    ix: *const TgIndex,
    out_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_json, "out_json")?;
            let ix = handle(ix, "index")?;
            let text = to_tantivy_json(&ix.index.schema())?;
            put_string(out_json, &text);
            Ok(())
        })
    }
}
