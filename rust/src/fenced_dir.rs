//! The bridge's directory: Tantivy's MmapDirectory, except that
//!
//! - the one write that publishes a commit (meta.json) is a compare-and-set:
//!   right before the rename that makes it visible, it checks the lease
//!   deadline, the fence token and grant, and that meta.json is still,
//!   byte for byte, the one this writer opened from;
//! - every atomic write goes through a temporary file created with the
//!   process's umask (Tantivy's own uses mode 0600, so another service
//!   account could not even search the index);
//! - a blocking lock (Tantivy's meta lock) is waited for with a bound;
//! - work done through it counts as progress (see progress.rs).
//!
//! Why the checks sit here and not only before `PreparedCommit::commit`:
//! Tantivy's commit runs on its segment-updater thread, which first applies
//! pending deletes (our upserts are deletes, so it writes .del files: slow
//! I/O on a share) and only then writes meta.json. A writer paused inside
//! that stretch (SIGSTOP, a VM freeze, a long GC) can lose its lease; its
//! successor commits and garbage-collects the paused writer's unpublished
//! segment files; then the paused writer would publish a meta.json naming
//! those deleted files over the successor's commit. That was seen on the
//! SMB test share by the random-pause stress trials (tests/shareindex).
//! Checking in `atomic_write`, after the new meta.json is written to a
//! temporary file and synced, leaves only the rename itself between check
//! and publish.
//!
//! Why the compare and not only the token: the token stops an older writer
//! overwriting a newer one, never the reverse. A writer that still believes
//! in a lease that was broken (a paused VM whose clock stopped with it)
//! commits under its old token over an index whose committed token is
//! older still; its successor then opened an older meta.json and would
//! publish over that commit, dropping it. Comparing what is on disk with
//! what was opened refuses both.

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite, WatchCallback,
    WatchHandle, WritePtr,
};
use tantivy::Directory;

use crate::deadline::Deadline;
use crate::error::{BResult, BridgeError, TG_ERR_CONFLICT, TG_ERR_FENCED};
use crate::meta::{read_meta, temp_name, MetaSummary, META_FILE};
use crate::progress::{Progress, PROGRESS_BYTES};

/// The longest wait for a blocking lock (Tantivy's `.tantivy-meta.lock`),
/// when the lease deadline does not end it sooner. Tantivy holds that lock
/// only while a reader opens segment files or the garbage collector lists
/// what to delete: milliseconds, a second on a slow share. Thirty seconds
/// is far beyond any such hold, so a wait that long means a stopped or
/// hung process holds it (a `tguard search` in SIGSTOP); the writer then
/// skips the garbage collection (the commit stands) and a search fails
/// with an I/O error instead of hanging.
pub(crate) const LOCK_WAIT_MAX: Duration = Duration::from_secs(30);
/// How often a blocked lock is tried again.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// What the writer and its directory share: the lease deadline, the fence
/// token of the commit in progress, the meta.json the writer opened from,
/// the progress counter, and why the directory refused a publish (Tantivy
/// turns the refusal into a plain I/O error; the writer reports this
/// instead).
pub(crate) struct CommitGuard {
    pub(crate) deadline: Deadline,
    pub(crate) progress: Progress,
    fence: AtomicU64,
    /// The exact bytes of the meta.json this writer's Tantivy state was
    /// loaded from (after its own publish: the bytes it published). `None`:
    /// there was none (a new index), so a publish needs there still to be
    /// none. That is also the default, so a guard nobody set up refuses to
    /// publish over an existing index.
    opened: Mutex<Option<Vec<u8>>>,
    refused: Mutex<Option<BridgeError>>,
    lock_wait_ms: AtomicU64,
    /// Tests: the next rename of meta.json deletes meta.json and fails, as
    /// smbnetfs's delete-then-rename does when its rename fails.
    #[cfg(test)]
    pub(crate) break_next_rename: std::sync::atomic::AtomicBool,
}

impl Default for CommitGuard {
    fn default() -> Self {
        CommitGuard {
            deadline: Deadline::default(),
            progress: Progress::default(),
            fence: AtomicU64::new(0),
            opened: Mutex::new(None),
            refused: Mutex::new(None),
            lock_wait_ms: AtomicU64::new(LOCK_WAIT_MAX.as_millis() as u64),
            #[cfg(test)]
            break_next_rename: Default::default(),
        }
    }
}

/// The mutexes guard plain values replaced in one statement: still right
/// after a panic elsewhere.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl CommitGuard {
    /// Sets the fence token the next publish is checked against (0: none).
    pub(crate) fn set_fence(&self, token: u64) {
        self.fence.store(token, Ordering::SeqCst);
    }

    /// Records the meta.json the writer opened from (`None`: there was none).
    pub(crate) fn set_opened(&self, meta: Option<Vec<u8>>) {
        *lock(&self.opened) = meta;
    }

    /// Bounds the wait for a blocking lock (tests use less than the default).
    pub(crate) fn set_lock_wait(&self, d: Duration) {
        self.lock_wait_ms.store(
            d.as_millis().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    fn lock_wait(&self) -> Duration {
        Duration::from_millis(self.lock_wait_ms.load(Ordering::Relaxed))
    }

    /// Takes the reason of the last refused publish, if any.
    pub(crate) fn take_refusal(&self) -> Option<BridgeError> {
        lock(&self.refused).take()
    }

    /// Whether a commit whose payload carries `our_grant` may be published
    /// now (`before` names the step, for the lease message). Refuses, in
    /// this order: the lease deadline passed (LEASE_EXPIRED); meta.json on
    /// disk carries a higher fence token than ours, or our token under
    /// another grant (FENCED: a newer holder exists, stop); meta.json is not
    /// byte for byte the one opened: changed, missing or unreadable
    /// (CONFLICT: reopen and retry). Our token 0 (no lease) is below any
    /// committed token; the grant is only compared under a nonzero token
    /// and when our payload names one.
    pub(crate) fn check(&self, root: &Path, our_grant: Option<&str>, before: &str) -> BResult<()> {
        self.deadline.check(before)?;
        let on_disk = read_meta(root);
        let ours = self.fence.load(Ordering::SeqCst);
        if let Ok(Some(bytes)) = &on_disk {
            let disk = MetaSummary::of(bytes);
            match (disk.token, our_grant) {
                (Some(t), _) if t > ours => {
                    return Err(BridgeError::new(
                        TG_ERR_FENCED,
                        format!(
                            "commit refused: index already committed with fence token {t}, \
                             ours is {ours}"
                        ),
                    ))
                }
                (Some(t), Some(g))
                    if t == ours && ours != 0 && disk.grant.as_deref() != Some(g) =>
                {
                    return Err(BridgeError::new(
                        TG_ERR_FENCED,
                        format!(
                            "commit refused: two grants with one fence token: meta.json was \
                             committed under token {t} by grant {}, ours is grant {g}",
                            disk.grant.as_deref().unwrap_or("(none)")
                        ),
                    ))
                }
                _ => {}
            }
        }
        let opened = lock(&self.opened);
        let now = match &on_disk {
            Ok(d) if *d == *opened => return Ok(()),
            Ok(Some(b)) => format!("now {}", MetaSummary::of(b)),
            Ok(None) => "now it is missing".to_string(),
            Err(e) => format!("now it cannot be read: {e}"),
        };
        let was = match &*opened {
            Some(b) => format!("opened {}", MetaSummary::of(b)),
            None => "opened none: a new index".to_string(),
        };
        Err(BridgeError::new(
            TG_ERR_CONFLICT,
            format!(
                "meta.json changed since this writer opened it ({was}; {now}); \
                 nothing was published"
            ),
        ))
    }

    fn refuse(&self, e: BridgeError) -> io::Error {
        let err = io::Error::other(e.message.clone());
        *lock(&self.refused) = Some(e);
        err
    }
}

/// MmapDirectory with a guarded meta.json publish, umask-respecting atomic
/// writes, bounded lock waits and progress counting.
#[derive(Clone)]
pub(crate) struct FencedDirectory {
    inner: MmapDirectory,
    root: PathBuf,
    guard: Arc<CommitGuard>,
}

impl std::fmt::Debug for FencedDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FencedDirectory({})", self.root.display())
    }
}

/// Adds what was being done to an I/O error, keeping its kind.
fn with_context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Creates `path` (which must not exist) with the default mode, so the
/// process's umask decides who may read it, writes `data` and syncs it.
fn write_synced(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// How long a publish retries a rename that the share refused because the
/// target was busy (another client had it open: SMB refuses to replace an
/// open file, and smbnetfs reports that as EEXIST or EBUSY).
const BUSY_RETRY_FOR: Duration = Duration::from_secs(2);

fn is_busy(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::ResourceBusy
    ) || (cfg!(windows) && is_windows_busy(e))
}

/// Windows does not replace a file that another process (a searcher) holds
/// open: the rename fails with ERROR_ACCESS_DENIED (5), ERROR_SHARING_VIOLATION
/// (32) or ERROR_LOCK_VIOLATION (33) until it is closed (seen under Wine in
/// make test-windows). An access denied that is a real permission problem
/// costs BUSY_RETRY_FOR before it is reported.
fn is_windows_busy(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

/// Why a rename did not happen.
enum RenameError {
    /// A check before an attempt said no: nothing was renamed.
    Refused(io::Error),
    /// The rename itself failed (on a share, possibly after deleting the target).
    Failed(io::Error),
}

/// Renames `from` over `to`, running `check` right before every attempt and
/// retrying a busy target for a while.
fn rename_patiently(
    from: &Path,
    to: &Path,
    mut check: impl FnMut() -> io::Result<()>,
    mut rename: impl FnMut(&Path, &Path) -> io::Result<()>,
) -> Result<(), RenameError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        check().map_err(RenameError::Refused)?;
        match rename(from, to) {
            Ok(()) => return Ok(()),
            Err(e) if is_busy(&e) && start.elapsed() < BUSY_RETRY_FOR => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(e) => {
                let name = to.file_name().unwrap_or_default().to_string_lossy();
                return Err(RenameError::Failed(with_context(
                    e,
                    &format!(
                        "replacing {name} (tried for {} ms)",
                        start.elapsed().as_millis()
                    ),
                )));
            }
        }
    }
}

impl FencedDirectory {
    pub(crate) fn open(root: &Path, guard: Arc<CommitGuard>) -> tantivy::Result<FencedDirectory> {
        Ok(FencedDirectory {
            inner: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
            guard,
        })
    }

    /// meta.json: write and sync a temporary file, check, rename, sync the
    /// folder. A refused publish leaves meta.json as it was and removes the
    /// temporary file. A failed rename removes it too, unless meta.json is
    /// gone: smbnetfs replaces a file by deleting it and then renaming, so
    /// after a failed rename the temporary file may be the only complete
    /// copy of the index's state (opening the index then says how to
    /// restore it; see meta::orphaned_temp_meta).
    fn publish_meta(&self, data: &[u8]) -> io::Result<()> {
        let our_grant = MetaSummary::of(data).grant;
        let tmp = self.root.join(temp_name(META_FILE));
        let target = self.root.join(META_FILE);
        if let Err(e) = write_synced(&tmp, data) {
            let _ = fs::remove_file(&tmp);
            return Err(with_context(e, "writing a temporary meta.json"));
        }
        self.guard.progress.bump();
        let check = || {
            self.guard
                .check(
                    &self.root,
                    our_grant.as_deref(),
                    "publishing the commit (meta.json)",
                )
                .map_err(|e| self.guard.refuse(e))
        };
        match rename_patiently(&tmp, &target, check, |from, to| self.rename_meta(from, to)) {
            Ok(()) => {
                // A writer may commit again: its next publish compares with this.
                self.guard.set_opened(Some(data.to_vec()));
                self.guard.progress.bump();
                self.inner.sync_directory()
            }
            Err(RenameError::Refused(e)) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
            Err(RenameError::Failed(e)) => match fs::symlink_metadata(&target) {
                Ok(_) => {
                    let _ = fs::remove_file(&tmp);
                    Err(e)
                }
                Err(_) => Err(with_context(
                    e,
                    &format!(
                        "meta.json is gone; {} holds the only complete copy and was kept",
                        tmp.display()
                    ),
                )),
            },
        }
    }

    fn rename_meta(&self, from: &Path, to: &Path) -> io::Result<()> {
        #[cfg(test)]
        if self.guard.break_next_rename.swap(false, Ordering::SeqCst) {
            let _ = fs::remove_file(to);
            return Err(io::Error::other("simulated: rename failed after delete"));
        }
        fs::rename(from, to)
    }

    /// Any other file: through a temporary file created with the process's
    /// umask (MmapDirectory's own atomic_write creates it 0600). Not
    /// checked against the lease: these files (`.managed.json`) name files,
    /// they publish nothing.
    fn write_atomically(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let target = self.root.join(path);
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
            .to_string_lossy()
            .into_owned();
        let tmp = target.with_file_name(temp_name(&name));
        let result = write_synced(&tmp, data).map_err(RenameError::Failed);
        let result = result.and_then(|()| {
            rename_patiently(&tmp, &target, || Ok(()), |from, to| fs::rename(from, to))
        });
        match result {
            Ok(()) => {
                self.guard.progress.bump();
                Ok(())
            }
            Err(RenameError::Refused(e) | RenameError::Failed(e)) => {
                let _ = fs::remove_file(&tmp);
                Err(with_context(e, &format!("writing {name}")))
            }
        }
    }

    /// A blocking lock, polled without blocking until it is free, the lease
    /// deadline passes, or `LOCK_WAIT_MAX` (see there) is over.
    fn acquire_bounded(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        let attempt = Lock {
            filepath: lock.filepath.clone(),
            is_blocking: false,
        };
        let bound = self.guard.lock_wait();
        let start = Instant::now();
        let name = lock.filepath.display();
        loop {
            // Past the lease, nothing is taken: the garbage collector must
            // not delete files once a successor may be using them.
            if let Err(e) = self.guard.deadline.check(&format!("taking {name}")) {
                return Err(LockError::wrap_io_error(io::Error::new(
                    io::ErrorKind::TimedOut,
                    e.message,
                )));
            }
            // MmapDirectory maps every failure of a non-blocking attempt to
            // LockBusy: an I/O error is retried like a busy lock, within the bound.
            match self.inner.acquire_lock(&attempt) {
                Err(LockError::LockBusy) => {}
                other => return other,
            }
            if start.elapsed() >= bound {
                return Err(LockError::wrap_io_error(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{name} is still held after {} ms: another process on this host \
                         (a stopped or hung `tguard search`?) holds it",
                        start.elapsed().as_millis()
                    ),
                )));
            }
            std::thread::sleep(LOCK_POLL);
        }
    }
}

/// A file being written, counting every `PROGRESS_BYTES` as progress.
struct ProgressWriter {
    inner: Box<dyn TerminatingWrite + Send + Sync>,
    progress: Progress,
    uncounted: u64,
}

impl ProgressWriter {
    fn count(&mut self, n: usize) {
        self.uncounted += n as u64;
        if self.uncounted >= PROGRESS_BYTES {
            self.progress.add(self.uncounted / PROGRESS_BYTES);
            self.uncounted %= PROGRESS_BYTES;
        }
    }
}

impl Write for ProgressWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count(n);
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        self.count(buf.len());
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl TerminatingWrite for ProgressWriter {
    fn terminate_ref(&mut self, token: AntiCallToken) -> io::Result<()> {
        self.inner.terminate_ref(token)?;
        self.progress.bump();
        Ok(())
    }
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
        // MmapDirectory creates the file with the default mode (umask applies).
        let buffered = self.inner.open_write(path)?;
        self.guard.progress.bump();
        // Nothing was written yet, so unwrapping the buffer cannot fail.
        let inner = buffered
            .into_inner()
            .map_err(|e| OpenWriteError::wrap_io_error(e.into_error(), path.to_path_buf()))?;
        Ok(BufWriter::new(Box::new(ProgressWriter {
            inner,
            progress: self.guard.progress.clone(),
            uncounted: 0,
        })))
    }
    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if path == Path::new(META_FILE) {
            return self.publish_meta(data);
        }
        self.write_atomically(path, data)
    }
    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }
    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        // The lock file is created with the default mode (umask applies).
        if lock.is_blocking {
            self.acquire_bounded(lock)
        } else {
            self.inner.acquire_lock(lock)
        }
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

    fn meta_with(token: u64, grant: &str) -> Vec<u8> {
        let payload = serde_json::json!({"v": 2, "token": token, "grant": grant}).to_string();
        serde_json::to_vec(&serde_json::json!({"opstamp": token, "payload": payload})).unwrap()
    }

    #[test]
    fn windows_busy_codes() {
        for code in [5, 32, 33] {
            assert!(
                is_windows_busy(&io::Error::from_raw_os_error(code)),
                "{code}"
            );
        }
        for code in [2, 3, 112] {
            assert!(
                !is_windows_busy(&io::Error::from_raw_os_error(code)),
                "{code}"
            );
        }
    }

    fn meta_with_token(t: u64) -> Vec<u8> {
        format!("{{\"payload\":\"{{\\\"token\\\":{t}}}\"}}\n").into_bytes()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn setup() -> (tempfile::TempDir, Arc<CommitGuard>, FencedDirectory) {
        let tmp = tempfile::tempdir().unwrap();
        let guard = Arc::new(CommitGuard::default());
        let dir = FencedDirectory::open(tmp.path(), guard.clone()).unwrap();
        (tmp, guard, dir)
    }

    fn publish(dir: &FencedDirectory, data: &[u8]) -> io::Result<()> {
        dir.atomic_write(Path::new(META_FILE), data)
    }

    fn on_disk(tmp: &tempfile::TempDir) -> Vec<u8> {
        fs::read(tmp.path().join(META_FILE)).unwrap()
    }

    #[test]
    fn publish_is_checked_at_the_last_moment() {
        let (tmp, guard, dir) = setup();

        // No fence, no deadline, no meta.json opened and none there: published.
        publish(&dir, &meta_with_token(2)).unwrap();
        assert_eq!(on_disk(&tmp), meta_with_token(2));

        // Committed under token 2; ours is 1: refused, meta.json untouched.
        guard.set_fence(1);
        assert!(publish(&dir, &meta_with_token(1)).is_err());
        assert_eq!(guard.take_refusal().unwrap().code, TG_ERR_FENCED);
        assert_eq!(on_disk(&tmp), meta_with_token(2));

        // Token 3 with the deadline passed: refused, meta.json untouched.
        guard.set_fence(3);
        guard.deadline.set(now_ns() - 1);
        assert!(publish(&dir, &meta_with_token(3)).is_err());
        assert_eq!(guard.take_refusal().unwrap().code, TG_ERR_LEASE_EXPIRED);
        assert_eq!(on_disk(&tmp), meta_with_token(2));

        // Token 3 within the deadline: published (the writer's own last
        // publish is what it compares with); no temporary file left.
        guard.deadline.set(now_ns() + 60_000_000_000);
        publish(&dir, &meta_with_token(3)).unwrap();
        assert_eq!(on_disk(&tmp), meta_with_token(3));
        assert_eq!(names(tmp.path()), vec![META_FILE.to_string()]);

        // Other files are not checked against the lease.
        guard.deadline.set(now_ns() - 1);
        dir.atomic_write(Path::new(".managed.json"), b"[]").unwrap();
        assert_eq!(fs::read(tmp.path().join(".managed.json")).unwrap(), b"[]");
        assert_eq!(
            names(tmp.path()),
            vec![".managed.json".to_string(), META_FILE.to_string()]
        );
    }

    #[test]
    fn publish_needs_meta_json_unchanged_since_opened() {
        let (tmp, guard, dir) = setup();
        fs::write(tmp.path().join(META_FILE), meta_with(4, "g4")).unwrap();
        guard.set_opened(Some(meta_with(4, "g4")));
        guard.set_fence(5);

        // Another writer committed (with an older token: a zombie): refused.
        fs::write(tmp.path().join(META_FILE), meta_with(3, "g3")).unwrap();
        assert!(publish(&dir, &meta_with(5, "g5")).is_err());
        let e = guard.take_refusal().unwrap();
        assert_eq!(e.code, TG_ERR_CONFLICT, "{e}");
        assert!(
            e.message
                .starts_with("meta.json changed since this writer opened it")
                && e.message.contains("opened opstamp 4, fence token 4")
                && e.message.contains("now opstamp 3, fence token 3"),
            "{e}"
        );
        assert_eq!(on_disk(&tmp), meta_with(3, "g3"));

        // Missing where one was opened (smbnetfs's delete-then-rename gap): refused.
        fs::remove_file(tmp.path().join(META_FILE)).unwrap();
        assert!(publish(&dir, &meta_with(5, "g5")).is_err());
        let e = guard.take_refusal().unwrap();
        assert_eq!(e.code, TG_ERR_CONFLICT, "{e}");
        assert!(e.message.contains("now it is missing"), "{e}");
        assert!(!tmp.path().join(META_FILE).exists());

        // Back as opened: published, and the next publish compares with it.
        fs::write(tmp.path().join(META_FILE), meta_with(4, "g4")).unwrap();
        publish(&dir, &meta_with(5, "g5")).unwrap();
        publish(&dir, &meta_with(5, "g5")).unwrap();
        assert_eq!(on_disk(&tmp), meta_with(5, "g5"));
        assert_eq!(names(tmp.path()), vec![META_FILE.to_string()]);

        // A byte changed (same token and grant): still refused.
        let mut touched = meta_with(5, "g5");
        touched.push(b'\n');
        fs::write(tmp.path().join(META_FILE), &touched).unwrap();
        assert!(publish(&dir, &meta_with(5, "g5")).is_err());
        assert_eq!(guard.take_refusal().unwrap().code, TG_ERR_CONFLICT);
        assert_eq!(names(tmp.path()), vec![META_FILE.to_string()]);
    }

    #[test]
    fn a_new_index_publishes_only_while_there_is_none() {
        let (tmp, guard, dir) = setup();
        // Opened none (the default); meta.json appeared meanwhile.
        fs::write(tmp.path().join(META_FILE), meta_with(0, "other")).unwrap();
        assert!(publish(&dir, &meta_with(1, "g1")).is_err());
        let e = guard.take_refusal().unwrap();
        assert_eq!(e.code, TG_ERR_CONFLICT, "{e}");
        assert!(e.message.contains("opened none: a new index"), "{e}");
        assert_eq!(on_disk(&tmp), meta_with(0, "other"));
    }

    #[test]
    fn one_token_two_grants_is_fenced() {
        let (tmp, guard, dir) = setup();
        fs::write(tmp.path().join(META_FILE), meta_with(7, "aaaa")).unwrap();
        guard.set_opened(Some(meta_with(7, "aaaa")));
        guard.set_fence(7);
        assert!(publish(&dir, &meta_with(7, "bbbb")).is_err());
        let e = guard.take_refusal().unwrap();
        assert_eq!(e.code, TG_ERR_FENCED, "{e}");
        assert!(
            e.message.contains("two grants with one fence token")
                && e.message.contains("aaaa")
                && e.message.contains("bbbb"),
            "{e}"
        );
        // The check is the same before Tantivy's commit starts.
        assert_eq!(
            guard
                .check(tmp.path(), Some("bbbb"), "commit")
                .unwrap_err()
                .code,
            TG_ERR_FENCED
        );
        // Our payload without a grant: no grant check; the same grant: fine.
        guard.check(tmp.path(), None, "commit").unwrap();
        publish(&dir, &meta_with(7, "aaaa")).unwrap();
    }

    #[test]
    fn a_failed_rename_keeps_the_only_complete_copy() {
        let (tmp, guard, dir) = setup();
        fs::write(tmp.path().join(META_FILE), meta_with(1, "g1")).unwrap();
        guard.set_opened(Some(meta_with(1, "g1")));
        guard.set_fence(2);
        guard.break_next_rename.store(true, Ordering::SeqCst);
        let e = publish(&dir, &meta_with(2, "g2")).unwrap_err();
        assert!(e.to_string().contains("only complete copy"), "{e}");
        assert!(guard.take_refusal().is_none());
        let left = names(tmp.path());
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(crate::meta::is_temp_meta(&left[0]), "{left:?}");
        assert_eq!(
            fs::read(tmp.path().join(&left[0])).unwrap(),
            meta_with(2, "g2")
        );
    }

    #[test]
    fn temporary_names_are_random() {
        let (tmp, _guard, dir) = setup();
        // Two writers (two containers, both pid 1) never share a temporary
        // name: here, every name differs within one process.
        let a = temp_name(META_FILE);
        assert_ne!(a, temp_name(META_FILE));
        dir.atomic_write(Path::new("x.json"), b"1").unwrap();
        assert_eq!(names(tmp.path()), vec!["x.json".to_string()]);
    }

    /// Holds an exclusive flock on `path` through a file description of its
    /// own, as another process would.
    #[cfg(unix)]
    fn hold_flock(path: &Path) -> fs::File {
        use std::os::fd::AsRawFd;
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .unwrap();
        // SAFETY: a valid open descriptor.
        assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
        f
    }

    #[cfg(unix)]
    #[test]
    fn a_blocking_lock_is_waited_for_with_a_bound() {
        use tantivy::directory::META_LOCK;
        let (tmp, guard, dir) = setup();
        guard.set_lock_wait(Duration::from_millis(300));
        let held = hold_flock(&tmp.path().join(".tantivy-meta.lock"));

        let start = Instant::now();
        let e = dir.acquire_lock(&META_LOCK).err().unwrap();
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        assert!(format!("{e:?}").contains("still held"), "{e:?}");

        // The lease ends the wait sooner.
        guard.set_lock_wait(Duration::from_secs(60));
        guard.deadline.set(now_ns() + 150_000_000);
        let start = Instant::now();
        assert!(dir.acquire_lock(&META_LOCK).is_err());
        assert!(start.elapsed() < Duration::from_secs(5));

        // Released: taken at once (within one poll).
        guard.deadline.set(0);
        drop(held);
        let start = Instant::now();
        let l = dir.acquire_lock(&META_LOCK).unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(l);
    }

    #[cfg(unix)]
    #[test]
    fn a_reader_reload_does_not_hang_on_the_meta_lock() {
        let (tmp, guard, _) = setup();
        crate::index::open(tmp.path().to_str().unwrap(), "", true, Arc::default()).unwrap();
        guard.set_lock_wait(Duration::from_millis(200));
        let dir = FencedDirectory::open(tmp.path(), guard).unwrap();
        let index = tantivy::Index::open(dir).unwrap();
        let _held = hold_flock(&tmp.path().join(".tantivy-meta.lock"));
        let start = Instant::now();
        let r: tantivy::Result<tantivy::IndexReader> = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into();
        let e = BridgeError::from(r.err().unwrap());
        assert_eq!(e.code, crate::error::TG_ERR_IO, "{e}");
        assert!(e.message.contains("still held"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn writes_count_as_progress() {
        let (_tmp, guard, dir) = setup();
        let p0 = guard.progress.get();
        let mut w = dir.open_write(Path::new("seg.idx")).unwrap();
        let p1 = guard.progress.get();
        assert!(p1 > p0);
        w.write_all(&vec![7u8; 3 * PROGRESS_BYTES as usize])
            .unwrap();
        w.flush().unwrap();
        let p2 = guard.progress.get();
        assert!(p2 >= p1 + 3, "{p1} -> {p2}");
        w.terminate().unwrap();
        dir.atomic_write(Path::new(".managed.json"), b"[]").unwrap();
        assert!(guard.progress.get() > p2);
    }

    #[cfg(unix)]
    #[test]
    fn a_blocked_lock_wait_is_no_progress() {
        use tantivy::directory::META_LOCK;
        let (tmp, guard, dir) = setup();
        guard.set_lock_wait(Duration::from_millis(200));
        let _held = hold_flock(&tmp.path().join(".tantivy-meta.lock"));
        let before = guard.progress.get();
        assert!(dir.acquire_lock(&META_LOCK).is_err());
        assert_eq!(guard.progress.get(), before);
    }
}
