//! Test helpers that drive the library through its C ABI, the way Go does.
#![allow(dead_code)]

use std::ffi::{c_char, CStr};
use std::path::Path;
use std::ptr::null_mut;

use tguard_bridge::*;

pub struct Ix(pub *mut TgIndex);
pub struct W(pub *mut TgWriter);

impl Drop for Ix {
    fn drop(&mut self) {
        unsafe { tg_index_free(self.0) }
    }
}
impl Drop for W {
    fn drop(&mut self) {
        unsafe { tg_writer_free(self.0) }
    }
}

/// (code, message) taken from an out_err, freeing it.
pub fn take_err(err: *mut TgError) -> (i32, String) {
    assert!(!err.is_null(), "expected an error");
    let r = unsafe {
        (
            (*err).code,
            CStr::from_ptr((*err).message)
                .to_string_lossy()
                .into_owned(),
        )
    };
    unsafe { tg_error_free(err) };
    r
}

pub fn take_string(s: *mut c_char) -> String {
    assert!(!s.is_null());
    let r = unsafe { CStr::from_ptr(s).to_string_lossy().into_owned() };
    unsafe { tg_string_free(s) };
    r
}

pub fn open(dir: &Path, schema: &str, create: bool) -> Result<Ix, (i32, String)> {
    let d = dir.to_str().unwrap();
    let mut err = null_mut();
    let p = unsafe {
        tg_index_open(
            d.as_ptr(),
            d.len(),
            schema.as_ptr(),
            schema.len(),
            create,
            0,
            0,
            &mut err,
        )
    };
    if p.is_null() {
        Err(take_err(err))
    } else {
        assert!(err.is_null());
        Ok(Ix(p))
    }
}

pub fn writer(ix: &Ix, budget: u64, threads: u32) -> Result<W, (i32, String)> {
    let mut err = null_mut();
    let p = unsafe { tg_index_writer(ix.0, budget, threads, &mut err) };
    if p.is_null() {
        Err(take_err(err))
    } else {
        Ok(W(p))
    }
}

pub fn add(w: &W, buf: &[u8]) -> Result<serde_json::Value, (i32, String)> {
    let mut out = null_mut();
    let mut err = null_mut();
    let code =
        unsafe { tg_writer_add_json_lines(w.0, buf.as_ptr(), buf.len(), &mut out, &mut err) };
    if code != TG_OK {
        assert!(out.is_null());
        let e = take_err(err);
        assert_eq!(e.0, code);
        return Err(e);
    }
    Ok(serde_json::from_str(&take_string(out)).unwrap())
}

pub fn delete(w: &W, id: &str) -> Result<(), (i32, String)> {
    let mut err = null_mut();
    match unsafe { tg_writer_delete_id(w.0, id.as_ptr(), id.len(), &mut err) } {
        TG_OK => Ok(()),
        _ => Err(take_err(err)),
    }
}

pub fn commit(w: &W, payload: &str, token: u64) -> Result<u64, (i32, String)> {
    let mut err = null_mut();
    let mut op = 0u64;
    match unsafe {
        tg_writer_commit(
            w.0,
            payload.as_ptr(),
            payload.len(),
            token,
            &mut op,
            &mut err,
        )
    } {
        TG_OK => Ok(op),
        _ => Err(take_err(err)),
    }
}

pub fn search(ix: &Ix, q: &str, limit: u32) -> Result<serde_json::Value, (i32, String)> {
    let mut out = null_mut();
    let mut err = null_mut();
    match unsafe { tg_index_search(ix.0, q.as_ptr(), q.len(), limit, &mut out, &mut err) } {
        TG_OK => Ok(serde_json::from_str(&take_string(out)).unwrap()),
        _ => Err(take_err(err)),
    }
}

/// `tg_index_ids_with_prefix`, decoded.
pub fn ids_with_prefix(ix: &Ix, prefix: &str) -> Result<Vec<String>, (i32, String)> {
    let mut out = null_mut();
    let mut err = null_mut();
    let code = unsafe {
        tg_index_ids_with_prefix(ix.0, prefix.as_ptr(), prefix.len(), &mut out, &mut err)
    };
    if code != TG_OK {
        assert!(out.is_null());
        let e = take_err(err);
        assert_eq!(e.0, code);
        return Err(e);
    }
    assert!(err.is_null());
    Ok(serde_json::from_str(&take_string(out)).unwrap())
}

pub fn stats(ix: &Ix) -> serde_json::Value {
    let mut out = null_mut();
    let mut err = null_mut();
    let code = unsafe { tg_index_stats(ix.0, &mut out, &mut err) };
    assert_eq!(code, TG_OK);
    serde_json::from_str(&take_string(out)).unwrap()
}

pub fn ids(result: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

pub const MB15: u64 = 15_000_000;
