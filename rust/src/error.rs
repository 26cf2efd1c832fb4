//! Error codes, the C error struct, and the mapping from Tantivy's errors.
//!
//! Go only ever sees an `i32` code plus a one-line message; the codes are
//! the contract (Go maps them to sentinel errors), the message is for humans.

use std::ffi::{c_char, CString};

use tantivy::directory::error::{LockError, OpenDirectoryError, OpenReadError};
use tantivy::TantivyError;

/// Success.
pub const TG_OK: i32 = 0;
/// Tantivy's `.tantivy-writer.lock` is held by another writer (this or another process).
pub const TG_ERR_WRITER_LOCK_BUSY: i32 = 1;
/// An index exists at the path but its schema differs from the requested one.
pub const TG_ERR_SCHEMA_MISMATCH: i32 = 2;
/// meta.json unparsable, segment files missing, or other data corruption.
pub const TG_ERR_CORRUPT_INDEX: i32 = 3;
/// An I/O error from the operating system.
pub const TG_ERR_IO: i32 = 4;
/// A null pointer, bad UTF-8, bad schema JSON, too small a memory budget, ...
pub const TG_ERR_INVALID_ARGUMENT: i32 = 5;
/// The search query could not be parsed.
pub const TG_ERR_QUERY_SYNTAX: i32 = 6;
/// The directory exists but holds no meta.json (opening an existing index).
pub const TG_ERR_NOT_AN_INDEX: i32 = 7;
/// The commit was refused: the index was already committed under a newer fence token.
pub const TG_ERR_FENCED: i32 = 8;
/// The writer's deadline (lease) had passed; nothing more was written.
pub const TG_ERR_LEASE_EXPIRED: i32 = 9;
/// A panic was caught at the FFI boundary (message holds the panic text), or another bug.
pub const TG_ERR_INTERNAL: i32 = 10;
/// The directory does not exist (opening an existing index).
pub const TG_ERR_NOT_FOUND: i32 = 11;
/// The commit was refused: meta.json is no longer the one this writer (or
/// index creation) opened from: another writer committed meanwhile, or it
/// is missing or unreadable now. Nothing was published; reopen and retry.
pub const TG_ERR_CONFLICT: i32 = 12;

/// An error reported through an `out_err` parameter.
///
/// Ownership: allocated by Rust; the caller owns it and must release it with
/// `tg_error_free` exactly once (which also frees `message`). Never free
/// `message` on its own.
#[repr(C)]
pub struct TgError {
    /// One of the `TG_ERR_*` codes (never `TG_OK`).
    pub code: i32,
    /// NUL-terminated, one-line UTF-8 message. Owned by the `TgError`.
    pub message: *mut c_char,
}

/// Rust-side error value; converted to a `TgError` only at the FFI boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeError {
    pub(crate) code: i32,
    pub(crate) message: String,
}

pub type BResult<T> = Result<T, BridgeError>;

impl BridgeError {
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Self {
        BridgeError {
            code,
            message: one_line(&message.into()),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(TG_ERR_INVALID_ARGUMENT, message)
    }

    /// Adds context in front of the message, keeping the code.
    pub(crate) fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// Boxes into the C struct. The message never contains NUL (replaced),
    /// so this cannot fail.
    pub(crate) fn into_raw(self) -> *mut TgError {
        Box::into_raw(Box::new(TgError {
            code: self.code,
            message: to_c_string(&self.message),
        }))
    }
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

impl From<TantivyError> for BridgeError {
    fn from(err: TantivyError) -> Self {
        let message = match &err {
            // Tantivy prints the I/O error of a lock with Debug, burying its text.
            TantivyError::LockFailure(LockError::IoError(e), _) => {
                format!("failed to acquire a lock: {e}")
            }
            _ => err.to_string(),
        };
        BridgeError::new(tantivy_code(&err), message)
    }
}

/// Flattens a message onto one line: Go prints these in log lines.
pub(crate) fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Converts to a Rust-owned C string; interior NULs are replaced rather than failing.
pub(crate) fn to_c_string(s: &str) -> *mut c_char {
    let cleaned = s.replace('\0', "\\0");
    // Cannot fail: NULs were replaced above.
    CString::new(cleaned).unwrap_or_default().into_raw()
}

/// The error text Tantivy 0.27 uses in `IndexBuilder::open_or_create`.
const TANTIVY_SCHEMA_MISMATCH: &str = "schema does not match";

/// Maps Tantivy's error to our code. Callers that know more (for example
/// "meta.json is missing") check before calling Tantivy.
pub(crate) fn tantivy_code(err: &TantivyError) -> i32 {
    match err {
        TantivyError::LockFailure(LockError::LockBusy, _) => TG_ERR_WRITER_LOCK_BUSY,
        TantivyError::LockFailure(LockError::IoError(_), _) => TG_ERR_IO,
        TantivyError::SchemaError(msg) if msg.contains(TANTIVY_SCHEMA_MISMATCH) => {
            TG_ERR_SCHEMA_MISMATCH
        }
        TantivyError::SchemaError(_) => TG_ERR_INVALID_ARGUMENT,
        TantivyError::DataCorruption(_)
        | TantivyError::IncompatibleIndex(_)
        | TantivyError::DeserializeError(_) => TG_ERR_CORRUPT_INDEX,
        // meta.json presence is checked before opening, so a missing file
        // inside an index means a segment (or .managed.json entry) is gone.
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(_)) => TG_ERR_CORRUPT_INDEX,
        TantivyError::OpenReadError(OpenReadError::IncompatibleIndex(_)) => TG_ERR_CORRUPT_INDEX,
        TantivyError::OpenReadError(OpenReadError::IoError { .. }) => TG_ERR_IO,
        TantivyError::OpenDirectoryError(OpenDirectoryError::DoesNotExist(_)) => TG_ERR_NOT_FOUND,
        TantivyError::OpenDirectoryError(OpenDirectoryError::NotADirectory(_)) => {
            TG_ERR_NOT_AN_INDEX
        }
        TantivyError::OpenDirectoryError(_) => TG_ERR_IO,
        TantivyError::OpenWriteError(_) | TantivyError::IoError(_) => TG_ERR_IO,
        TantivyError::InvalidArgument(_)
        | TantivyError::FieldNotFound(_)
        | TantivyError::AggregationError(_) => TG_ERR_INVALID_ARGUMENT,
        _ => TG_ERR_INTERNAL,
    }
}

/// Frees an error returned through an `out_err` parameter (and its message).
/// Null is a no-op. Calling it twice on the same pointer is undefined behaviour.
///
/// # Safety
/// `err` must be null or a pointer obtained from this library's `out_err`
/// that has not been freed yet.
#[no_mangle]
pub unsafe extern "C" fn tg_error_free(err: *mut TgError) {
    if err.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `err` came from `BridgeError::into_raw`.
    let boxed = unsafe { Box::from_raw(err) };
    if !boxed.message.is_null() {
        // SAFETY: `message` came from `CString::into_raw` in `to_c_string`.
        drop(unsafe { CString::from_raw(boxed.message) });
    }
}

/// Frees a string this library returned through an `out_json`/`out_result_json`
/// parameter. Null is a no-op. Never pass `tg_version()` or
/// `tg_default_schema_json()` (static) or a string allocated by anyone else.
///
/// # Safety
/// `s` must be null or a string returned by this library that has not been freed yet.
#[no_mangle]
pub unsafe extern "C" fn tg_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the caller guarantees `s` came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(s) });
    }
}
