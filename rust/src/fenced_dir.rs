//! The writer's directory: Tantivy's MmapDirectory, except that the one write
//! that publishes a commit (meta.json) is checked against the lease deadline
//! and the fence token at the last moment before the rename that makes it
//! visible.
//!
//! Why here and not only before `PreparedCommit::commit`: Tantivy's commit
//! runs on its segment-updater thread, which first applies pending deletes
//! (our upserts are deletes, so it writes .del files: slow I/O on a share)
//! and only then writes meta.json. A writer paused inside that stretch
//! (SIGSTOP, a VM freeze, a long GC) can lose its lease; its successor
//! commits and garbage-collects the paused writer's unpublished segment
//! files; then the paused writer would publish a meta.json naming those
//! deleted files over the successor's commit. That was seen on the SMB test
//! share by the random-pause stress trials (tests/shareindex). Checking in
//! `atomic_write`, after the new meta.json is written to a temporary file
//! and synced, leaves only the rename itself between check and publish.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::Directory;

use crate::deadline::Deadline;
use crate::error::{BridgeError, TG_ERR_FENCED};
use crate::writer::payload_token;

const META_FILE: &str = "meta.json";

/// What the writer and its directory share: the lease deadline, the fence
/// token of the commit in progress, and why the directory refused a publish
/// (Tantivy turns the refusal into a plain I/O error; the writer reports
/// this instead).
#[derive(Default)]
pub struct CommitGuard {
    pub deadline: Deadline,
    fence: AtomicU64,
    refused: Mutex<Option<BridgeError>>,
}

impl CommitGuard {
    /// Sets the fence token the next publish is checked against (0: none).
    pub fn set_fence(&self, token: u64) {
        self.fence.store(token, Ordering::SeqCst);
    }

    /// Takes the reason of the last refused publish, if any.
    pub fn take_refusal(&self) -> Option<BridgeError> {
        self.refused.lock().ok().and_then(|mut r| r.take())
    }

    /// Errors if the lease deadline passed or meta.json (as it is on disk
    /// now) was committed under a newer fence token than ours.
    fn check(&self, root: &Path) -> Result<(), BridgeError> {
        self.deadline.check("publishing the commit (meta.json)")?;
        let ours = self.fence.load(Ordering::SeqCst);
        if ours == 0 {
            return Ok(());
        }
        let committed = match fs::read(root.join(META_FILE)) {
            Ok(bytes) => committed_token(&bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(BridgeError::new(
                    crate::error::TG_ERR_IO,
                    format!("re-reading meta.json before publishing the commit: {e}"),
                ))
            }
        };
        match committed {
            Some(c) if c > ours => Err(BridgeError::new(
                TG_ERR_FENCED,
                format!(
                    "commit refused: index already committed with fence token {c}, ours is {ours}"
                ),
            )),
            _ => Ok(()),
        }
    }

    fn refuse(&self, e: BridgeError) -> io::Error {
        let err = io::Error::other(e.message.clone());
        if let Ok(mut r) = self.refused.lock() {
            *r = Some(e);
        }
        err
    }
}

/// The fence token in a meta.json's payload, if any.
fn committed_token(meta: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(meta).ok()?;
    payload_token(v.get("payload")?.as_str())
}

/// MmapDirectory with a guarded meta.json publish.
#[derive(Clone)]
pub struct FencedDirectory {
    inner: MmapDirectory,
    root: PathBuf,
    guard: Arc<CommitGuard>,
}

impl std::fmt::Debug for FencedDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FencedDirectory({})", self.root.display())
    }
}

impl FencedDirectory {
    pub fn open(root: &Path, guard: Arc<CommitGuard>) -> tantivy::Result<FencedDirectory> {
        Ok(FencedDirectory {
            inner: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
            guard,
        })
    }

    /// meta.json: write and sync a temporary file, check, rename, sync the
    /// folder. A refused or failed publish leaves meta.json as it was.
    fn publish_meta(&self, data: &[u8]) -> io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = self.root.join(format!(
            ".{META_FILE}.tguard-{}-{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(|e| with_context(e, "creating a temporary meta.json"))?;
            f.write_all(data)
                .and_then(|_| f.sync_all())
                .map_err(|e| with_context(e, "writing a temporary meta.json"))?;
            drop(f);
            self.replace_meta(&tmp)?;
            self.inner.sync_directory()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// Adds what was being done to an I/O error, keeping its kind.
fn with_context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// How long a publish retries a rename that the share refused because
/// meta.json was busy (another client had it open: SMB refuses to replace
/// an open file, and smbnetfs reports that as EEXIST or EBUSY).
const BUSY_RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(2);

impl FencedDirectory {
    /// Checks the lease and the fence, then renames `tmp` over meta.json;
    /// on a busy meta.json, checks and tries again for a while.
    fn replace_meta(&self, tmp: &Path) -> io::Result<()> {
        let start = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(10);
        loop {
            self.guard
                .check(&self.root)
                .map_err(|e| self.guard.refuse(e))?;
            match fs::rename(tmp, self.root.join(META_FILE)) {
                Ok(()) => return Ok(()),
                Err(e) if is_busy(&e) && start.elapsed() < BUSY_RETRY_FOR => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(with_context(
                        e,
                        &format!(
                            "replacing meta.json (tried for {} ms)",
                            start.elapsed().as_millis()
                        ),
                    ))
                }
            }
        }
    }
}

fn is_busy(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::ResourceBusy
    )
}

impl Directory for FencedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }
    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }
    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }
    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }
    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if path == Path::new(META_FILE) {
            return self.publish_meta(data);
        }
        self.inner.atomic_write(path, data)
    }
    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }
    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }
    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::now_ns;
    use crate::error::TG_ERR_LEASE_EXPIRED;

    fn meta_with_token(t: u64) -> Vec<u8> {
        format!("{{\"payload\":\"{{\\\"token\\\":{t}}}\"}}\n").into_bytes()
    }

    #[test]
    fn publish_is_checked_at_the_last_moment() {
        let tmp = tempfile::tempdir().unwrap();
        let guard = Arc::new(CommitGuard::default());
        let dir = FencedDirectory::open(tmp.path(), guard.clone()).unwrap();
        let meta = Path::new(META_FILE);

        // No fence, no deadline: published.
        dir.atomic_write(meta, &meta_with_token(2)).unwrap();
        assert_eq!(
            fs::read(tmp.path().join(META_FILE)).unwrap(),
            meta_with_token(2)
        );

        // Committed under token 2; ours is 1: refused, meta.json untouched.
        guard.set_fence(1);
        assert!(dir.atomic_write(meta, &meta_with_token(1)).is_err());
        assert_eq!(guard.take_refusal().unwrap().code, TG_ERR_FENCED);
        assert_eq!(
            fs::read(tmp.path().join(META_FILE)).unwrap(),
            meta_with_token(2)
        );

        // Token 3 with the deadline passed: refused, meta.json untouched.
        guard.set_fence(3);
        guard.deadline.set(now_ns() - 1);
        assert!(dir.atomic_write(meta, &meta_with_token(3)).is_err());
        assert_eq!(guard.take_refusal().unwrap().code, TG_ERR_LEASE_EXPIRED);
        assert_eq!(
            fs::read(tmp.path().join(META_FILE)).unwrap(),
            meta_with_token(2)
        );

        // Token 3 within the deadline: published; no temporary file left.
        guard.deadline.set(now_ns() + 60_000_000_000);
        dir.atomic_write(meta, &meta_with_token(3)).unwrap();
        assert_eq!(
            fs::read(tmp.path().join(META_FILE)).unwrap(),
            meta_with_token(3)
        );
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(META_FILE)]);

        // Other files go straight through.
        guard.deadline.set(now_ns() - 1);
        dir.atomic_write(Path::new(".managed.json"), b"[]").unwrap();
    }
}
