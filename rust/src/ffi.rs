//! FFI plumbing shared by every `extern "C"` function: panic containment,
//! borrowing Go's buffers, and handing results back through out-parameters.

use std::any::Any;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{to_c_string, BResult, BridgeError, TgError, TG_ERR_INTERNAL, TG_OK};

/// Turns a panic payload into text; panics carry `&str` or `String` in practice.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Runs `f`, converting a panic into `TG_ERR_INTERNAL` so no unwind ever
/// crosses into Go (that would be undefined behaviour / an abort).
pub(crate) fn catch<T>(f: impl FnOnce() -> BResult<T>) -> BResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(BridgeError::new(
            TG_ERR_INTERNAL,
            format!("panic in tguard-bridge: {}", panic_text(payload.as_ref())),
        )),
    }
}

/// Clears `*out_err` on entry so the caller can rely on it being null on success.
///
/// # Safety
/// `out_err` must be null or valid for writes.
unsafe fn reset_err(out_err: *mut *mut TgError) {
    if !out_err.is_null() {
        // SAFETY: checked non-null; the caller guarantees it is writable.
        unsafe { *out_err = std::ptr::null_mut() };
    }
}

/// Stores an error for the caller (or drops it when the caller passed null).
unsafe fn store_err(out_err: *mut *mut TgError, err: BridgeError) -> i32 {
    let code = err.code;
    if !out_err.is_null() {
        // SAFETY: checked non-null; the caller guarantees it is writable.
        unsafe { *out_err = err.into_raw() };
    }
    code
}

/// Wrapper for functions that return a status code.
///
/// # Safety
/// `out_err` must be null or valid for writes.
pub(crate) unsafe fn run_code(out_err: *mut *mut TgError, f: impl FnOnce() -> BResult<()>) -> i32 {
    unsafe { reset_err(out_err) };
    match catch(f) {
        Ok(()) => TG_OK,
        Err(e) => unsafe { store_err(out_err, e) },
    }
}

/// Wrapper for functions that return a handle (null on error).
///
/// # Safety
/// `out_err` must be null or valid for writes.
pub(crate) unsafe fn run_ptr<T>(
    out_err: *mut *mut TgError,
    f: impl FnOnce() -> BResult<T>,
) -> *mut T {
    unsafe { reset_err(out_err) };
    match catch(f) {
        Ok(v) => Box::into_raw(Box::new(v)),
        Err(e) => {
            unsafe { store_err(out_err, e) };
            std::ptr::null_mut()
        }
    }
}

/// Borrows a caller buffer for the duration of the call. `len == 0` is an
/// empty slice whatever `ptr` is (Go passes nil for empty slices).
///
/// # Safety
/// If `len > 0`, `ptr` must point to `len` readable bytes that stay valid
/// and unmodified for the lifetime `'a` (the current call).
pub(crate) unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, what: &str) -> BResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(BridgeError::invalid(format!(
            "{what}: null pointer with length {len}"
        )));
    }
    // SAFETY: non-null and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Like `bytes_arg` but also requires UTF-8.
///
/// # Safety
/// Same as `bytes_arg`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const u8, len: usize, what: &str) -> BResult<&'a str> {
    let bytes = unsafe { bytes_arg(ptr, len, what) }?;
    std::str::from_utf8(bytes)
        .map_err(|e| BridgeError::invalid(format!("{what}: invalid UTF-8: {e}")))
}

/// Dereferences an opaque handle; null becomes INVALID_ARGUMENT.
///
/// # Safety
/// `ptr` must be null or a live handle of type `T` created by this library.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> BResult<&'a T> {
    // SAFETY: the caller guarantees the pointer is live if non-null.
    unsafe { ptr.as_ref() }.ok_or_else(|| BridgeError::invalid(format!("{what} handle is null")))
}

/// Mutable variant of `handle`.
///
/// # Safety
/// `ptr` must be null or a live handle of type `T` not used concurrently.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> BResult<&'a mut T> {
    // SAFETY: as above; the Go side serialises calls per handle with a mutex.
    unsafe { ptr.as_mut() }.ok_or_else(|| BridgeError::invalid(format!("{what} handle is null")))
}

/// Checks an out-parameter before any work is done, so a null pointer never
/// leads to work that cannot be reported.
pub(crate) fn out_arg<T>(ptr: *mut T, what: &str) -> BResult<()> {
    if ptr.is_null() {
        return Err(BridgeError::invalid(format!(
            "{what} out-parameter is null"
        )));
    }
    Ok(())
}

/// Hands a string to the caller through an out-parameter (caller frees with
/// `tg_string_free`).
///
/// # Safety
/// `out` must be non-null (checked with `out_arg`) and writable.
pub(crate) unsafe fn put_string(out: *mut *mut c_char, s: &str) {
    // SAFETY: checked by `out_arg` at the start of the call.
    unsafe { *out = to_c_string(s) };
}

/// Serialises `value` and hands it out like `put_string`.
///
/// # Safety
/// Same as `put_string`.
pub(crate) unsafe fn put_json<T: serde::Serialize>(
    out: *mut *mut c_char,
    value: &T,
) -> BResult<()> {
    let json = serde_json::to_string(value)
        .map_err(|e| BridgeError::new(TG_ERR_INTERNAL, format!("encoding result: {e}")))?;
    unsafe { put_string(out, &json) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{tg_error_free, TG_ERR_INVALID_ARGUMENT};
    use std::ffi::CStr;

    #[test]
    fn caught_panic_becomes_internal_with_text() {
        let mut err: *mut TgError = std::ptr::null_mut();
        let code = unsafe {
            run_code(&mut err, || {
                let v: Vec<u8> = Vec::new();
                let i = v.len() + 3;
                if i > 2 {
                    panic!("boom at {i}");
                }
                Ok(())
            })
        };
        assert_eq!(code, TG_ERR_INTERNAL);
        assert!(!err.is_null());
        let (c, msg) = unsafe {
            (
                (*err).code,
                CStr::from_ptr((*err).message)
                    .to_string_lossy()
                    .into_owned(),
            )
        };
        assert_eq!(c, TG_ERR_INTERNAL);
        assert!(msg.contains("boom at 3"), "{msg}");
        unsafe { tg_error_free(err) };
    }

    #[test]
    fn panic_in_handle_returning_fn_gives_null() {
        let mut err: *mut TgError = std::ptr::null_mut();
        let p: *mut u32 = unsafe {
            run_ptr(&mut err, || -> BResult<u32> {
                panic!("{}", String::from("owned"))
            })
        };
        assert!(p.is_null());
        assert_eq!(unsafe { (*err).code }, TG_ERR_INTERNAL);
        unsafe { tg_error_free(err) };
    }

    #[test]
    fn null_buffer_with_length_is_invalid_and_empty_is_fine() {
        let e = unsafe { bytes_arg(std::ptr::null(), 3, "buf") }.unwrap_err();
        assert_eq!(e.code, TG_ERR_INVALID_ARGUMENT);
        assert!(unsafe { bytes_arg(std::ptr::null(), 0, "buf") }
            .unwrap()
            .is_empty());
        let bad = [0xffu8, 0xfe];
        assert_eq!(
            unsafe { str_arg(bad.as_ptr(), 2, "s") }.unwrap_err().code,
            TG_ERR_INVALID_ARGUMENT
        );
    }

    #[test]
    fn success_leaves_out_err_null_even_if_garbage_before() {
        let mut err: *mut TgError = std::ptr::dangling_mut::<TgError>();
        let code = unsafe { run_code(&mut err, || Ok(())) };
        assert_eq!(code, TG_OK);
        assert!(err.is_null());
    }
}
