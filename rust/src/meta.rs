//! Reading meta.json the way the fence needs it: its exact bytes, its
//! opstamp, and the fence token and grant of its payload; and finding the
//! temporary copy a failed publish left behind when meta.json is gone.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{BridgeError, TG_ERR_CORRUPT_INDEX, TG_ERR_IO};

pub(crate) const META_FILE: &str = "meta.json";

/// Temporary files are named `.<target>.tguard-<32 hex digits>.tmp`, with
/// random digits: a pid would not do, two containers can both be pid 1.
const TMP_MARK: &str = ".tguard-";
const TMP_SUFFIX: &str = ".tmp";

/// A fresh temporary name for a file that will be renamed to `target`
/// (hidden: one leading dot, also for targets that have one already).
pub(crate) fn temp_name(target: &str) -> String {
    format!(
        ".{}{TMP_MARK}{}{TMP_SUFFIX}",
        target.trim_start_matches('.'),
        uuid::Uuid::new_v4().simple()
    )
}

/// Whether `name` is one of our temporary copies of meta.json.
pub(crate) fn is_temp_meta(name: &str) -> bool {
    name.len() > META_FILE.len() + TMP_MARK.len() + TMP_SUFFIX.len() + 1
        && name.starts_with('.')
        && name[1..].starts_with(META_FILE)
        && name[1 + META_FILE.len()..].starts_with(TMP_MARK)
        && name.ends_with(TMP_SUFFIX)
}

/// meta.json's bytes; `None` when there is none.
pub(crate) fn read_meta(dir: &Path) -> io::Result<Option<Vec<u8>>> {
    match std::fs::read(dir.join(META_FILE)) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The numeric `"token"` of a committed payload, if it is a JSON object with one.
pub(crate) fn payload_token(payload: Option<&str>) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(payload?).ok()?;
    let t = v.as_object()?.get("token")?;
    t.as_u64()
        .or_else(|| t.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

/// The `"grant"` string of a payload (a nonce per lease grant), if any.
pub(crate) fn payload_grant(payload: Option<&str>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(payload?).ok()?;
    Some(v.as_object()?.get("grant")?.as_str()?.to_string())
}

/// What the fence reads from one meta.json.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MetaSummary {
    /// False when the bytes are not a JSON object (then nothing else is known).
    pub(crate) parsed: bool,
    pub(crate) opstamp: Option<u64>,
    pub(crate) token: Option<u64>,
    pub(crate) grant: Option<String>,
}

impl MetaSummary {
    pub(crate) fn of(meta: &[u8]) -> MetaSummary {
        let Ok(serde_json::Value::Object(v)) = serde_json::from_slice::<serde_json::Value>(meta)
        else {
            return MetaSummary::default();
        };
        let payload = v.get("payload").and_then(|p| p.as_str());
        MetaSummary {
            parsed: true,
            opstamp: v.get("opstamp").and_then(|o| o.as_u64()),
            token: payload_token(payload),
            grant: payload_grant(payload),
        }
    }
}

impl fmt::Display for MetaSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.parsed {
            return f.write_str("unparsable");
        }
        match self.opstamp {
            Some(o) => write!(f, "opstamp {o}")?,
            None => f.write_str("no opstamp")?,
        }
        match self.token {
            Some(t) => write!(f, ", fence token {t}"),
            None => f.write_str(", no fence token"),
        }
    }
}

/// Whether `bytes` is a meta.json Tantivy can load: checked by Tantivy
/// itself, opening an index in memory whose meta.json these bytes are.
fn is_complete_meta(bytes: &[u8]) -> bool {
    use tantivy::directory::RamDirectory;
    use tantivy::Directory;
    let dir = RamDirectory::create();
    dir.atomic_write(Path::new(META_FILE), bytes).is_ok() && tantivy::Index::open(dir).is_ok()
}

/// Quotes a path for a POSIX shell.
#[cfg(not(windows))]
fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// The command that renames `from` over `to`.
#[cfg(not(windows))]
fn move_command(from: &Path, to: &Path) -> String {
    format!("mv {} {}", shell_quote(from), shell_quote(to))
}

/// The command that renames `from` over `to` (cmd.exe; `"` cannot occur in
/// a Windows path).
#[cfg(windows)]
fn move_command(from: &Path, to: &Path) -> String {
    format!("move /Y \"{}\" \"{}\"", from.display(), to.display())
}

/// For a folder whose meta.json is missing: an error saying how to restore
/// it, if a complete temporary copy is there (the newest by opstamp if
/// several). Restoring is left to a person: only they can know that no
/// writer is between its delete and its rename right now.
pub(crate) fn orphaned_temp_meta(dir: &Path) -> Result<Option<BridgeError>, BridgeError> {
    let io_err =
        |e: io::Error| BridgeError::new(TG_ERR_IO, format!("cannot list {}: {e}", dir.display()));
    let mut found: Vec<(u64, PathBuf, MetaSummary)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_temp_meta(name) {
            continue;
        }
        let path = entry.path();
        // An unreadable or partial copy is not a complete commit.
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if !is_complete_meta(&bytes) {
            continue;
        }
        let summary = MetaSummary::of(&bytes);
        found.push((summary.opstamp.unwrap_or(0), path, summary));
    }
    let count = found.len();
    let Some((_, path, summary)) = found
        .into_iter()
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)))
    else {
        return Ok(None);
    };
    let several = if count > 1 {
        format!(" (the newest of {count} complete temporary copies)")
    } else {
        String::new()
    };
    Ok(Some(BridgeError::new(
        TG_ERR_CORRUPT_INDEX,
        format!(
            "{META_FILE} is missing but {} holds a complete commit ({summary}){several}: \
             if no tguard is writing this index, restore it with: {}",
            path.display(),
            move_command(&path, &dir.join(META_FILE)),
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_token_parsing() {
        assert_eq!(payload_token(None), None);
        assert_eq!(payload_token(Some("x")), None);
        assert_eq!(payload_token(Some("{\"token\":\"5\"}")), None);
        assert_eq!(payload_token(Some("{\"token\":5,\"a\":1}")), Some(5));
        assert_eq!(payload_token(Some("{\"token\":7.0}")), Some(7));
    }

    #[test]
    fn payload_grant_parsing() {
        assert_eq!(payload_grant(None), None);
        assert_eq!(payload_grant(Some("{\"grant\":5}")), None);
        assert_eq!(
            payload_grant(Some("{\"v\":2,\"token\":7,\"grant\":\"a1b2\"}")).as_deref(),
            Some("a1b2")
        );
    }

    #[test]
    fn temp_names_are_random_and_recognised() {
        let a = temp_name(META_FILE);
        let b = temp_name(META_FILE);
        assert_ne!(a, b);
        assert!(is_temp_meta(&a), "{a}");
        assert!(
            is_temp_meta(".meta.json.tguard-123-4.tmp"),
            "old pid-based names too"
        );
        assert!(!is_temp_meta(&temp_name(".managed.json")));
        assert!(!is_temp_meta("meta.json"));
        assert!(!is_temp_meta(".meta.json.tguard-.tmp"));
    }

    #[test]
    fn summary_and_display() {
        let m = br#"{"opstamp":4,"payload":"{\"token\":3,\"grant\":\"g\"}"}"#;
        let s = MetaSummary::of(m);
        assert_eq!(s.grant.as_deref(), Some("g"));
        assert_eq!(s.to_string(), "opstamp 4, fence token 3");
        assert_eq!(MetaSummary::of(b"{not").to_string(), "unparsable");
        assert_eq!(
            MetaSummary::of(br#"{"opstamp":0}"#).to_string(),
            "opstamp 0, no fence token"
        );
    }

    #[cfg(not(windows))]
    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
