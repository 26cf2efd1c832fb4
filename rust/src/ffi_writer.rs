//! C entry points for writers. A writer handle must not be used from two
//! threads at once (Go serialises calls with a mutex); only the deadline
//! cell may be written concurrently, atomically.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{BResult, BridgeError, TgError, TG_ERR_INTERNAL};
use crate::ffi::{
    bytes_arg, handle, handle_mut, out_arg, panic_text, put_json, run_code, run_ptr, str_arg,
};
use crate::index::TgIndex;
use crate::writer::TgWriter;

/// Runs `f` on the writer; a panic inside it also abandons the writer,
/// because Tantivy's pending state may be half-updated.
unsafe fn with_writer<T>(
    w: *mut TgWriter,
    f: impl FnOnce(&mut TgWriter) -> BResult<T>,
) -> BResult<T> {
    // Validate once; both borrows below are derived from the raw pointer,
    // never from each other.
    unsafe { handle_mut(w, "writer") }?;
    // SAFETY: non-null and live (caller contract); Go serialises calls.
    match catch_unwind(AssertUnwindSafe(|| f(unsafe { &mut *w }))) {
        Ok(r) => r,
        Err(payload) => {
            let e = BridgeError::new(
                TG_ERR_INTERNAL,
                format!("panic in tguard-bridge: {}", panic_text(payload.as_ref())),
            );
            // SAFETY: the closure's borrow ended with the unwind.
            unsafe { (*w).poison(&e) };
            Err(e)
        }
    }
}

/// Opens Tantivy's writer (takes `.tantivy-writer.lock`; held by another
/// writer in this or another process -> TG_ERR_WRITER_LOCK_BUSY).
///
/// The writer remembers the exact meta.json it opened from, for the
/// compare-and-set at commit; if meta.json keeps changing while the writer
/// opens (five tries) -> TG_ERR_CONFLICT. meta.json missing ->
/// TG_ERR_CORRUPT_INDEX (saying how to restore it if a complete temporary
/// copy is there).
///
/// `threads == 0` lets the library choose (at most 8, at most one per CPU).
/// `memory_budget_bytes` is split across threads; each needs at least
/// 15000000 bytes, else TG_ERR_INVALID_ARGUMENT stating the minimum. The
/// index schema must have an indexed string field `id`.
///
/// Returns a new handle owned by the caller (free with `tg_writer_free`), or
/// NULL with `*out_err` set. The writer stays valid if `ix` is freed first.
///
/// # Safety
/// `ix` live handle; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_index_writer(
    ix: *const TgIndex,
    memory_budget_bytes: u64,
    threads: u32,
    out_err: *mut *mut TgError,
) -> *mut TgWriter {
    unsafe {
        run_ptr(out_err, || {
            let ix = handle(ix, "index")?;
            TgWriter::open(ix, memory_budget_bytes, threads)
        })
    }
}

/// Upserts documents from a JSON-lines buffer (one object per line, blank
/// lines skipped): for each good line, documents with the same `id` are
/// deleted and the new one added (visible after commit). Bad lines (invalid
/// UTF-8 or JSON, no string `id`, wrong field types) are counted, not fatal.
///
/// On success returns TG_OK and sets `*out_result_json` to
/// `{"added":N,"bad":N,"errors":[{"line":L,"message":".."}]}` (line numbers
/// 1-based, at most 100 errors listed), freed with `tg_string_free`.
/// The deadline is checked first (and every 1024 lines): expired ->
/// TG_ERR_LEASE_EXPIRED and the writer is abandoned. `buf` is borrowed for
/// the call only.
///
/// # Safety
/// `w` live writer not used concurrently; `buf_ptr` readable for `buf_len`;
/// `out_result_json` writable; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_add_json_lines(
    w: *mut TgWriter,
    buf_ptr: *const u8,
    buf_len: usize,
    out_result_json: *mut *mut c_char,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_result_json, "out_result_json")?;
            let buf = bytes_arg(buf_ptr, buf_len, "buf")?;
            let report = with_writer(w, |w| w.add_json_lines(buf))?;
            put_json(out_result_json, &report)
        })
    }
}

/// Deletes the documents whose `id` equals the given UTF-8 string (visible
/// after commit). Deadline-checked like adds. `id` is borrowed for the call.
///
/// # Safety
/// `w` live writer not used concurrently; `id_ptr` readable for `id_len`;
/// `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_delete_id(
    w: *mut TgWriter,
    id_ptr: *const u8,
    id_len: usize,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            let id = str_arg(id_ptr, id_len, "id")?;
            with_writer(w, |w| w.delete_id(id))
        })
    }
}

/// Commits pending work with `payload` (UTF-8, stored verbatim in meta.json;
/// empty = no payload) and writes the commit opstamp to `*out_opstamp`.
///
/// meta.json is published by a compare-and-set: after preparing the commit,
/// and again right before the rename that publishes meta.json, meta.json is
/// re-read and the commit refused with
/// - TG_ERR_LEASE_EXPIRED if the deadline has passed;
/// - TG_ERR_FENCED if its payload's numeric `"token"` is greater than
///   `fence_token`, or equal to a nonzero `fence_token` while its `"grant"`
///   string differs from the `"grant"` of `payload` (when `payload` has one);
/// - TG_ERR_CONFLICT if it is not byte for byte the meta.json this writer
///   opened from (or last published): another writer committed meanwhile,
///   or it is missing or unreadable now.
///
/// On a refusal (and on any other commit error) nothing is committed and the
/// writer is abandoned: every later call fails with the same code; free it
/// with `tg_writer_free`. `payload` is borrowed for the call only.
///
/// # Safety
/// `w` live writer not used concurrently; `payload_ptr` readable for
/// `payload_len`; `out_opstamp` writable; `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_commit(
    w: *mut TgWriter,
    payload_ptr: *const u8,
    payload_len: usize,
    fence_token: u64,
    out_opstamp: *mut u64,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_opstamp, "out_opstamp")?;
            let payload = str_arg(payload_ptr, payload_len, "payload")?;
            let opstamp = with_writer(w, |w| w.commit(payload, fence_token))?;
            // SAFETY: checked non-null above; the caller guarantees writability.
            *out_opstamp = opstamp;
            Ok(())
        })
    }
}

/// Merges the index's committed segments and writes how many are left to
/// `*out_segments`. `max_segments == 0` merges what the library's merge
/// policy asks for (Tantivy's log merge policy over segments of at most
/// 1,000 documents: eight of one size class become one); otherwise the
/// smallest segments are merged into one until at most `max_segments` are
/// left. Each merge publishes meta.json (with the last commit's opstamp and
/// payload) through the same compare-and-set fence as `tg_writer_commit`,
/// under `fence_token`, and is refused with the same codes; a refusal or
/// failure abandons the writer (a commit made before it stays published).
///
/// # Safety
/// `w` live writer not used concurrently; `out_segments` writable;
/// `out_err` null or writable.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_merge(
    w: *mut TgWriter,
    max_segments: u32,
    fence_token: u64,
    out_segments: *mut u32,
    out_err: *mut *mut TgError,
) -> i32 {
    unsafe {
        run_code(out_err, || {
            out_arg(out_segments, "out_segments")?;
            let left = with_writer(w, |w| w.merge(max_segments, fence_token))?;
            // SAFETY: checked non-null above; the caller guarantees writability.
            *out_segments = left;
            Ok(())
        })
    }
}

/// Pointer to the writer's deadline cell: an 8-byte-aligned int64 holding a
/// deadline in `tg_clock_now_ns()` nanoseconds (0 = none). Callers may store
/// into it atomically at any time, from any thread, without a call into
/// this library. Owned by the writer: valid until `tg_writer_free(w)`, never
/// freed by the caller. Returns NULL if `w` is NULL.
///
/// # Safety
/// `w` null or a live writer.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_deadline_cell(w: *const TgWriter) -> *mut i64 {
    // SAFETY: the caller guarantees `w` is null or live.
    match unsafe { w.as_ref() } {
        Some(w) => w.guard.deadline.cell_ptr(),
        None => std::ptr::null_mut(),
    }
}

/// Pointer to the writer's progress counter: an 8-byte-aligned uint64 that
/// only grows, by one for each document admitted, added or indexed, each
/// delete queued, each file opened for writing and each 64 KiB written to
/// it, each atomic file write and each commit step; never while waiting (for
/// a lock, for room in the indexing queue). Read it with an atomic load, at
/// any time, from any thread, without a call into this library; never write
/// it. Owned by the writer: valid until `tg_writer_free(w)`, never freed by
/// the caller. Returns NULL if `w` is NULL.
///
/// # Safety
/// `w` null or a live writer.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_progress_cell(w: *const TgWriter) -> *const u64 {
    // SAFETY: the caller guarantees `w` is null or live.
    match unsafe { w.as_ref() } {
        Some(w) => w.guard.progress.cell_ptr(),
        None => std::ptr::null(),
    }
}

/// Frees a writer: uncommitted work is abandoned (never committed), indexing
/// threads are joined and Tantivy's writer lock is released. NULL is a no-op.
/// The deadline cell and progress cell pointers become invalid.
///
/// # Safety
/// `w` null or a live writer, not used concurrently and never used again.
#[no_mangle]
pub unsafe extern "C" fn tg_writer_free(w: *mut TgWriter) {
    if w.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees `w` came from `tg_index_writer`.
        drop(unsafe { Box::from_raw(w) });
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_during_writer_op_is_internal_and_abandons_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let ix =
            crate::index::open(tmp.path().to_str().unwrap(), "", true, Default::default()).unwrap();
        let w = Box::into_raw(Box::new(TgWriter::open(&ix, 15_000_000, 1).unwrap()));
        let r: BResult<()> = unsafe { with_writer(w, |_| panic!("injected")) };
        let e = r.unwrap_err();
        assert_eq!(e.code, TG_ERR_INTERNAL);
        assert!(e.message.contains("injected"));
        let again = unsafe { with_writer(w, |w| w.add_json_lines(b"{\"id\":\"a\"}")) };
        assert_eq!(again.unwrap_err().code, TG_ERR_INTERNAL);
        unsafe { tg_writer_free(w) };
    }

    // Null handles Go never passes: argument errors (or NULL from the cell
    // accessors), and freeing NULL is a no-op.
    #[test]
    fn null_handles_are_invalid_arguments() {
        use crate::error::{tg_error_free, tg_string_free, TG_ERR_INVALID_ARGUMENT};
        use crate::ffi_index::tg_index_free;
        use crate::ffi_search::tg_index_search;
        use std::ptr::{null, null_mut};

        let (mut out, mut err) = (null_mut(), null_mut());
        let code =
            unsafe { tg_writer_add_json_lines(null_mut(), b"x".as_ptr(), 1, &mut out, &mut err) };
        assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
        assert_eq!(unsafe { (*err).code }, TG_ERR_INVALID_ARGUMENT);
        unsafe { tg_error_free(err) };
        // out_err may be NULL: the code alone reports the error.
        let code = unsafe { tg_index_search(null(), b"x".as_ptr(), 1, 1, &mut out, null_mut()) };
        assert_eq!(code, TG_ERR_INVALID_ARGUMENT);
        assert!(unsafe { tg_writer_deadline_cell(null()) }.is_null());
        assert!(unsafe { tg_writer_progress_cell(null()) }.is_null());
        unsafe {
            tg_writer_free(null_mut());
            tg_index_free(null_mut());
            tg_string_free(null_mut());
            tg_error_free(null_mut());
        }
    }
}
