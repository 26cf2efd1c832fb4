//! Opening (or creating) an index directory, with the checks that give each
//! failure its own code. Never rebuilds or overwrites an existing index.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::schema::Schema;
use tantivy::{Index, IndexBuilder, IndexReader, ReloadPolicy};

use crate::error::{
    BResult, BridgeError, TG_ERR_CORRUPT_INDEX, TG_ERR_IO, TG_ERR_NOT_AN_INDEX, TG_ERR_NOT_FOUND,
    TG_ERR_SCHEMA_MISMATCH,
};
use crate::fenced_dir::{CommitGuard, FencedDirectory};
use crate::schema::{describe, parse_schema};

const META_FILE: &str = "meta.json";

/// Opaque index handle given to C. Freed with `tg_index_free`.
pub struct TgIndex {
    pub(crate) index: Index,
    /// Manual reload policy: no background watcher thread; searches reload
    /// explicitly so they always see the latest commit.
    pub(crate) reader: IndexReader,
    pub(crate) dir: PathBuf,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> BridgeError {
    BridgeError::new(TG_ERR_IO, format!("{what} {}: {e}", path.display()))
}

/// Opens an existing index (`create == false`) or opens-or-creates one.
/// `schema_json` empty: with `create` the default schema, without it "any schema".
/// A new index's first meta.json is published through `guard` (see
/// fenced_dir.rs): a creator whose lease lapsed mid-creation cannot publish
/// an empty index over a newer holder's commits.
pub fn open(
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
    let index = match (has_meta, create.then_some(wanted.as_ref()).flatten()) {
        (true, _) => open_existing(&path, wanted.as_ref())?,
        (false, Some(schema)) => create_new(&path, schema.clone(), guard)?,
        (false, None) => {
            return Err(BridgeError::new(
                TG_ERR_NOT_AN_INDEX,
                format!("{} has no {META_FILE}: not a Tantivy index", path.display()),
            ))
        }
    };
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e: tantivy::TantivyError| BridgeError::from(e).context("opening reader"))?;
    Ok(TgIndex {
        index,
        reader,
        dir: path,
    })
}

fn open_existing(path: &Path, wanted: Option<&Schema>) -> BResult<Index> {
    let index = Index::open_in_dir(path)
        .map_err(|e| BridgeError::from(e).context(&format!("opening {}", path.display())))?;
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
    // open_or_create (not create) so a concurrent creator with the same
    // schema is accepted and one with another schema is a mismatch.
    IndexBuilder::new()
        .schema(schema)
        .open_or_create(dir)
        .map_err(|e| {
            guard
                .take_refusal()
                .unwrap_or_else(|| BridgeError::from(e))
                .context(&format!("creating {}", path.display()))
        })
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
}
