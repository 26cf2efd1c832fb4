//! C entry points for index handles, statistics and static strings.
//!
//! The calling conventions shared by every function are stated once in
//! the header's preamble (rust/cbindgen.toml `header`).

use std::ffi::{c_char, CString};
use std::sync::{Arc, OnceLock};

use crate::error::TgError;
use crate::fenced_dir::CommitGuard;
use crate::ffi::{handle, out_arg, put_json, run_code, run_ptr, str_arg};
use crate::index::{open, TgIndex};
use crate::schema::DEFAULT_SCHEMA_JSON_C;
use crate::search::stats;

/// Opens an index directory.
///
/// `create == false`: the index must exist (missing dir -> TG_ERR_NOT_FOUND,
/// no meta.json -> TG_ERR_NOT_AN_INDEX); an empty schema accepts any schema,
/// a non-empty one must equal the index's (else TG_ERR_SCHEMA_MISMATCH).
/// `create == true`: creates the directory (and parents) and the index if
/// meta.json is absent; an empty schema means the default schema; an
/// existing index with another schema -> TG_ERR_SCHEMA_MISMATCH. Never
/// rebuilds: an unreadable index is TG_ERR_CORRUPT_INDEX.
///
/// A folder whose meta.json is missing but holds a complete temporary copy
/// of it (a publish that failed half-way on a share) -> TG_ERR_CORRUPT_INDEX,
/// with or without `create`; the message names the copy and the `mv` that
/// restores it.
///
/// A new index's first meta.json is published only while there still is no
/// meta.json (another creator got there first -> TG_ERR_CONFLICT, nothing
/// published; open again). `create_deadline_ns` and `create_fence_token`
/// guard it further, as a commit is guarded: published only if the deadline
/// (in `tg_clock_now_ns()` units) has not passed (else TG_ERR_LEASE_EXPIRED)
/// and no meta.json with a newer payload token exists (else TG_ERR_FENCED).
/// 0 and 0: no deadline, no token.
///
/// Searches and statistics wait at most 30 s for Tantivy's meta lock (held
/// by another process of this host), then fail with TG_ERR_IO.
///
/// `dir` (UTF-8 path) and `schema_json` are borrowed for the call only.
/// Returns a new handle owned by the caller (free with `tg_index_free`),
/// or NULL with `*out_err` set.
///
/// # Safety
/// Buffers must be readable for their lengths; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_index_open(
    dir_ptr: *const u8,
    dir_len: usize,
    schema_json_ptr: *const u8,
    schema_json_len: usize,
    create: bool,
    create_deadline_ns: i64,
    create_fence_token: u64,
    out_err: *mut *mut TgError,
) -> *mut TgIndex {
    unsafe {
        run_ptr(out_err, || {
            let dir = str_arg(dir_ptr, dir_len, "dir")?;
            let schema = str_arg(schema_json_ptr, schema_json_len, "schema_json")?;
            let guard = CommitGuard::default();
            guard.deadline.set(create_deadline_ns);
            guard.set_fence(create_fence_token);
            open(dir, schema, create, Arc::new(guard))
        })
    }
}

/// Frees an index handle. NULL is a no-op. Writers created from it stay
/// valid (they hold their own reference to the index).
///
/// # Safety
/// `ix` must be null or a live handle from `tg_index_open`, not used
/// concurrently and never used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn tg_index_free(ix: *mut TgIndex) {
    if ix.is_null() {
        return;
    }
    // Dropping Tantivy objects must not unwind into C.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees `ix` came from `tg_index_open`.
        drop(unsafe { Box::from_raw(ix) });
    }));
}

/// Writes `{"docs":N,"segments":N,"payload":"..."|null,"opstamp":N}` of the
/// last commit to `*out_json` (caller frees with `tg_string_free`).
/// `docs` excludes deleted documents. Returns TG_OK or an error code.
///
/// # Safety
/// `ix` live handle; `out_json` writable; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_index_stats(
    ix: *const TgIndex,
    out_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_json, "out_json")?;
            let ix = handle(ix, "index")?;
            put_json(out_json, &stats(ix)?)
        })
    }
}

/// Library and Tantivy version, e.g. "tguard-bridge 0.1.0 (tantivy v0.27.0, ...)".
/// Static: never free it.
#[no_mangle]
pub extern "C" fn tg_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let text = format!(
                "tguard-bridge {} ({})",
                env!("CARGO_PKG_VERSION"),
                tantivy::version_string()
            );
            CString::new(text.replace('\0', "")).unwrap_or_default()
        })
        .as_ptr()
}

/// The default schema as tguard schema JSON. Static: never free it.
#[no_mangle]
pub extern "C" fn tg_default_schema_json() -> *const c_char {
    DEFAULT_SCHEMA_JSON_C.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{tg_error_free, TG_ERR_INVALID_ARGUMENT};

    // Go never passes a null buffer with a length; the ABI still refuses it
    // as an argument error instead of reading through it.
    #[test]
    fn null_dir_with_a_length_is_an_invalid_argument() {
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
        assert!(!err.is_null());
        assert_eq!(unsafe { (*err).code }, TG_ERR_INVALID_ARGUMENT);
        unsafe { tg_error_free(err) };
    }
}
