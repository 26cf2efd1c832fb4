//! Opening (or creating) an index directory, with the checks that give each
//! failure its own code. Never rebuilds or overwrites an existing index.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::schema::Schema;
use tantivy::{Index, IndexBuilder, IndexReader, ReloadPolicy};

use crate::error::{
    BResult, BridgeError, TG_ERR_CORRUPT_INDEX, TG_ERR_IO, TG_ERR_NOT_AN_INDEX, TG_ERR_NOT_FOUND,
    TG_ERR_SCHEMA_MISMATCH,
};
use crate::fenced_dir::{CommitGuard, FencedDirectory};
use crate::meta::{orphaned_temp_meta, META_FILE};
use crate::schema::{describe, parse_schema};

/// Opaque index handle given to C. Freed with `tg_index_free`.
pub struct TgIndex {
    pub(crate) index: Index,
    /// Made at a read-only open, or on the first search of an index opened
    /// to write: a reader takes Tantivy's meta lock, which a writer does not
    /// need, and a process that holds
    /// that lock on this host (a stopped `tguard search`) must not keep a
    /// writer from committing. Manual reload policy: no background watcher
    /// thread; searches reload explicitly so they always see the latest
    /// commit.
    reader: Mutex<Option<IndexReader>>,
    pub(crate) dir: PathBuf,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> BridgeError {
    BridgeError::new(TG_ERR_IO, format!("{what} {}: {e}", path.display()))
}

/// Opens an existing index (`create == false`) or opens-or-creates one.
/// `schema_json` empty: with `create` the default schema for a new index; an
/// existing index is opened with the schema it stores (never compared).
/// A new index's first meta.json is published through `guard` (see
/// fenced_dir.rs): a creator whose lease lapsed mid-creation cannot publish
/// an empty index over a newer holder's commits.
pub(crate) fn open(
    dir: &str,
    schema_json: &str,
    create: bool,
    guard: Arc<CommitGuard>,
) -> BResult<TgIndex> {
    if dir.is_empty() {
        return Err(BridgeError::invalid("index directory path is empty"));
    }
    let path = PathBuf::from(dir);
    // Parse before touching the disk so a bad schema never creates a directory.
    let wanted: Option<Schema> = if create || !schema_json.trim().is_empty() {
        Some(parse_schema(schema_json)?)
    } else {
        None
    };

    if create {
        std::fs::create_dir_all(&path).map_err(|e| io_err("cannot create", &path, e))?;
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(BridgeError::new(
                TG_ERR_NOT_AN_INDEX,
                format!("{} is not a directory", path.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BridgeError::new(
                TG_ERR_NOT_FOUND,
                format!("index directory {} does not exist", path.display()),
            ))
        }
        Err(e) => return Err(io_err("cannot stat", &path, e)),
    }

    let has_meta = path.join(META_FILE).exists();
    if !has_meta {
        // A publish that failed half-way on a share (delete, then a failed
        // rename) leaves the commit only in its temporary file: never
        // create a new index over it, and say how to restore it.
        if let Some(e) = orphaned_temp_meta(&path)? {
            return Err(e);
        }
    }
    let index = match (has_meta, create.then_some(wanted.as_ref()).flatten()) {
        // No schema given: an existing index keeps its own (the index
        // stores its schema; later runs need no --schema).
        (true, _) if schema_json.trim().is_empty() => open_existing(&path, None)?,
        (true, _) => open_existing(&path, wanted.as_ref())?,
        (false, Some(schema)) => create_new(&path, schema.clone(), guard)?,
        (false, None) => {
            return Err(BridgeError::new(
                TG_ERR_NOT_AN_INDEX,
                format!("{} has no {META_FILE}: not a Tantivy index", path.display()),
            ))
        }
    };
    let ix = TgIndex {
        index,
        reader: Mutex::new(None),
        dir: path,
    };
    if !create {
        // Opened to read: open the reader now, so that an index with a
        // missing or broken segment file fails here, as corrupt.
        ix.reader()?;
    }
    Ok(ix)
}

impl TgIndex {
    /// The index's reader, made on first use.
    pub(crate) fn reader(&self) -> BResult<IndexReader> {
        let mut slot = self
            .reader
            .lock()
            .map_err(|_| BridgeError::new(crate::error::TG_ERR_INTERNAL, "reader lock poisoned"))?;
        if let Some(r) = slot.as_ref() {
            return Ok(r.clone());
        }
        let r: IndexReader = self
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| BridgeError::from(e).context("opening reader"))?;
        *slot = Some(r.clone());
        Ok(r)
    }
}

/// Opens the index for reading. Through a FencedDirectory with no lease and
/// no fence: readers publish nothing, but their reloads take Tantivy's meta
/// lock, and that wait must be bounded (fenced_dir::LOCK_WAIT_MAX).
fn open_existing(path: &Path, wanted: Option<&Schema>) -> BResult<Index> {
    let at = |e: tantivy::TantivyError| {
        BridgeError::from(e).context(&format!("opening {}", path.display()))
    };
    let dir = FencedDirectory::open(path, Arc::default()).map_err(at)?;
    let index = Index::open(dir).map_err(at)?;
    if let Some(wanted) = wanted {
        let have = index.schema();
        if &have != wanted {
            return Err(BridgeError::new(
                TG_ERR_SCHEMA_MISMATCH,
                format!(
                    "index at {} has schema {{{}}}, requested {{{}}}",
                    path.display(),
                    describe(&have),
                    describe(wanted)
                ),
            ));
        }
    }
    Ok(index)
}

/// File names that only exist inside a Tantivy index. If any is present
/// while meta.json is missing, the index lost its meta file: creating a new
/// one there would silently throw the old data away. `.managed.json` alone
/// is not such a file: Tantivy writes it before the first meta.json, so it
/// is what a creator that crashed (or paused and lost its lease) mid-way
/// leaves, with no data to lose.
fn leftover_index_file(path: &Path) -> BResult<Option<String>> {
    const EXTS: [&str; 7] = ["idx", "pos", "term", "store", "fast", "fieldnorm", "del"];
    let entries = std::fs::read_dir(path).map_err(|e| io_err("cannot list", path, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("cannot list", path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ext = Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if EXTS.contains(&ext) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

fn create_new(path: &Path, schema: Schema, guard: Arc<CommitGuard>) -> BResult<Index> {
    if let Some(name) = leftover_index_file(path)? {
        return Err(BridgeError::new(
            TG_ERR_CORRUPT_INDEX,
            format!(
                "{} has index file {name} but no {META_FILE}; refusing to create a new index over it",
                path.display()
            ),
        ));
    }
    let dir = FencedDirectory::open(path, guard.clone()).map_err(BridgeError::from)?;
    // The guard's opened meta.json is "none": the first meta.json is
    // published only while there still is none (else CONFLICT: another
    // creator or writer got there first; nothing was published).
    // open_or_create (not create) so a creator that finds meta.json already
    // there opens it, and one with another schema is a mismatch.
    IndexBuilder::new()
        .schema(schema.clone())
        .open_or_create(dir)
        .map_err(|e| {
            guard
                .take_refusal()
                .unwrap_or_else(|| BridgeError::from(e))
                .context(&format!("creating {}", path.display()))
        })?;
    // Reopened for reading: the handle's own directory must not carry the
    // creation's lease deadline, which would end its readers' lock waits.
    open_existing(path, Some(&schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TG_ERR_INVALID_ARGUMENT;

    #[test]
    fn open_errors_have_codes() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope");
        let m = missing.to_str().unwrap();
        assert_eq!(
            open(m, "", false, Arc::default()).err().unwrap().code,
            TG_ERR_NOT_FOUND
        );
        assert_eq!(
            open(tmp.path().to_str().unwrap(), "", false, Arc::default())
                .err()
                .unwrap()
                .code,
            TG_ERR_NOT_AN_INDEX
        );
        assert_eq!(
            open("", "", true, Arc::default()).err().unwrap().code,
            TG_ERR_INVALID_ARGUMENT
        );
        // Bad schema: nothing is created.
        assert_eq!(
            open(m, "{", true, Arc::default()).err().unwrap().code,
            TG_ERR_INVALID_ARGUMENT
        );
        assert!(!missing.exists());
    }

    #[test]
    fn create_then_reopen_and_mismatch() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("a/b");
        let d = d.to_str().unwrap();
        open(d, "", true, Arc::default()).unwrap();
        open(d, "", true, Arc::default()).unwrap();
        open(d, "", false, Arc::default()).unwrap();
        let other = r#"{"fields":[{"name":"id","type":"string","stored":true}]}"#;
        let e = open(d, other, true, Arc::default()).err().unwrap();
        assert_eq!(e.code, TG_ERR_SCHEMA_MISMATCH, "{e}");
        assert!(e.message.contains("title:text"), "{e}");
        assert_eq!(
            open(d, other, false, Arc::default()).err().unwrap().code,
            TG_ERR_SCHEMA_MISMATCH
        );
    }

    #[test]
    fn corrupt_meta_and_leftovers_are_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().to_str().unwrap();
        std::fs::write(tmp.path().join("meta.json"), b"{not json").unwrap();
        assert_eq!(
            open(d, "", false, Arc::default()).err().unwrap().code,
            TG_ERR_CORRUPT_INDEX
        );
        assert_eq!(
            open(d, "", true, Arc::default()).err().unwrap().code,
            TG_ERR_CORRUPT_INDEX
        );
        std::fs::remove_file(tmp.path().join("meta.json")).unwrap();
        std::fs::write(tmp.path().join("abc.store"), b"").unwrap();
        assert_eq!(
            open(d, "", true, Arc::default()).err().unwrap().code,
            TG_ERR_CORRUPT_INDEX
        );
    }

    /// A committed index in `dir` with one document, its meta.json then
    /// moved to a temporary name as a publish whose rename failed after
    /// smbnetfs deleted the old meta.json leaves it. Returns the temp's name.
    fn index_with_meta_moved_away(dir: &Path, name: &str) -> String {
        let ix = open(dir.to_str().unwrap(), "", true, Arc::default()).unwrap();
        let mut w = crate::writer::TgWriter::open(&ix, 15_000_000, 1).unwrap();
        w.add_json_lines(br#"{"id":"a","title":"kept"}"#).unwrap();
        w.commit(r#"{"token":3,"grant":"g"}"#, 3).unwrap();
        drop(w);
        let tmp = format!(".meta.json.tguard-{name}.tmp");
        std::fs::rename(dir.join(META_FILE), dir.join(&tmp)).unwrap();
        tmp
    }

    #[test]
    fn missing_meta_with_a_complete_temporary_copy_says_how_to_restore() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().to_str().unwrap();
        let name = index_with_meta_moved_away(tmp.path(), "0123abcd");
        // A partial copy next to it is not a commit.
        std::fs::write(tmp.path().join(".meta.json.tguard-ffff.tmp"), b"{\"segm").unwrap();
        for create in [false, true] {
            let e = open(d, "", create, Arc::default()).err().unwrap();
            assert_eq!(e.code, TG_ERR_CORRUPT_INDEX, "{e}");
            let want =
                format!("meta.json is missing but {d}/{name} holds a complete commit (opstamp ");
            assert!(e.message.starts_with(&want), "{e}");
            assert!(e.message.contains("fence token 3"), "{e}");
            assert!(
                e.message
                    .ends_with(&format!("mv '{d}/{name}' '{d}/meta.json'")),
                "{e}"
            );
            assert!(!e.message.contains("newest"), "{e}");
        }
        assert!(
            !tmp.path().join(META_FILE).exists(),
            "nothing created over it"
        );

        // The mv it names restores the index.
        std::fs::rename(tmp.path().join(&name), tmp.path().join(META_FILE)).unwrap();
        let ix = open(d, "", false, Arc::default()).unwrap();
        assert_eq!(crate::search::stats(&ix).unwrap().docs, 1);
    }

    #[test]
    fn several_temporary_copies_name_the_newest_and_the_count() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().to_str().unwrap();
        let newest = index_with_meta_moved_away(tmp.path(), "bbbb");
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join(&newest)).unwrap()).unwrap();
        let mut older = meta.clone();
        older["opstamp"] = serde_json::json!(meta["opstamp"].as_u64().unwrap() - 1);
        std::fs::write(
            tmp.path().join(".meta.json.tguard-zzzz.tmp"),
            serde_json::to_vec(&older).unwrap(),
        )
        .unwrap();
        let e = open(d, "", false, Arc::default()).err().unwrap();
        assert!(e.message.contains(&newest), "{e}");
        assert!(e.message.contains("the newest of 2 complete"), "{e}");
    }

    #[test]
    fn creation_is_refused_when_meta_json_appeared_meanwhile() {
        // Tantivy found no meta.json (IndexBuilder::open_or_create checked),
        // then another creator published one before our rename.
        let tmp = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        open(other.path().to_str().unwrap(), "", true, Arc::default()).unwrap();
        let theirs = std::fs::read(other.path().join(META_FILE)).unwrap();
        std::fs::write(tmp.path().join(META_FILE), &theirs).unwrap();

        let guard = Arc::new(CommitGuard::default());
        guard.set_fence(5);
        let dir = FencedDirectory::open(tmp.path(), guard.clone()).unwrap();
        let schema = parse_schema("").unwrap();
        let e = Index::create(dir, schema, Default::default())
            .err()
            .unwrap();
        let e = guard.take_refusal().unwrap_or_else(|| BridgeError::from(e));
        assert_eq!(e.code, crate::error::TG_ERR_CONFLICT, "{e}");
        assert_eq!(std::fs::read(tmp.path().join(META_FILE)).unwrap(), theirs);
    }

    /// Every file and folder under `dir` (the folder included) with its mode bits.
    #[cfg(unix)]
    fn modes(dir: &Path) -> Vec<(String, u32)> {
        use std::os::unix::fs::PermissionsExt;
        let mut v = vec![(
            ".".to_string(),
            std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
        )];
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            v.push((e.file_name().to_string_lossy().into_owned(), mode));
        }
        v.sort();
        v
    }

    #[cfg(unix)]
    #[test]
    fn everything_created_follows_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        for (umask, file, folder) in [(0o000, 0o666, 0o777), (0o022, 0o644, 0o755)] {
            // SAFETY: umask has no memory effects; the test restores it below.
            let old = unsafe { libc::umask(umask) };
            let d = tmp.path().join(format!("u{umask:o}/index"));
            let ix = open(d.to_str().unwrap(), "", true, Arc::default()).unwrap();
            let mut w = crate::writer::TgWriter::open(&ix, 15_000_000, 1).unwrap();
            w.add_json_lines(br#"{"id":"a","title":"shared"}"#).unwrap();
            w.commit("", 0).unwrap();
            crate::search::stats(&ix).unwrap(); // takes the meta lock
            drop(w);
            unsafe { libc::umask(old) };

            let all = modes(&d);
            for (name, mode) in &all {
                let want = if name == "." { folder } else { file };
                assert_eq!(
                    *mode, want,
                    "{name}: {mode:o} under umask {umask:o}: {all:?}"
                );
            }
            let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
            for must in [
                "meta.json",
                ".managed.json",
                ".tantivy-meta.lock",
                ".tantivy-writer.lock",
            ] {
                assert!(names.contains(&must), "{must} missing: {names:?}");
            }
            assert!(names.iter().any(|n| n.ends_with(".idx")), "{names:?}");
            let parent = std::fs::metadata(d.parent().unwrap()).unwrap();
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(parent.permissions().mode() & 0o777, folder);
        }
    }
}
