//! Turning a JSON-lines buffer into documents, one verdict per line.
//!
//! A bad line never stops the batch: it is counted with its 1-based line
//! number and a one-line message, and the other lines are still indexed.

use serde::Serialize;
use serde_json::{Map, Value};
use tantivy::schema::Schema;
use tantivy::TantivyDocument;

use crate::error::one_line;
use crate::schema::ID_FIELD;

/// At most this many line errors are listed; all of them are counted in `bad`.
pub const TG_MAX_LISTED_ERRORS: usize = 100;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct LineError {
    pub(crate) line: u64,
    pub(crate) message: String,
}

/// The JSON returned by `tg_writer_add_json_lines`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct AddReport {
    pub(crate) added: u64,
    pub(crate) bad: u64,
    pub(crate) errors: Vec<LineError>,
}

impl AddReport {
    pub(crate) fn record_bad(&mut self, line: u64, message: String) {
        self.bad += 1;
        if self.errors.len() < TG_MAX_LISTED_ERRORS {
            self.errors.push(LineError {
                line,
                message: one_line(&message),
            });
        }
    }
}

/// A parsed line: the upsert key and the document.
pub struct ParsedLine {
    pub id: String,
    pub doc: TantivyDocument,
}

/// Splits on '\n' (tolerating "\r\n"), yielding (1-based line number, bytes).
pub fn lines(buf: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    buf.split(|b| *b == b'\n').enumerate().map(|(i, l)| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        (i as u64 + 1, l)
    })
}

/// Parses one line. `Ok(None)` for a blank line.
pub fn parse_line(schema: &Schema, raw: &[u8]) -> Result<Option<ParsedLine>, String> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    // Parse ourselves (not TantivyDocument::parse_json) to keep serde's
    // precise message and to read the id before Tantivy converts it.
    let obj: Map<String, Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => return Err("not a JSON object".to_string()),
        Err(e) => return Err(format!("invalid JSON: {e}")),
    };
    let id = match obj.get(ID_FIELD) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(format!("{ID_FIELD:?} is empty")),
        Some(_) => return Err(format!("{ID_FIELD:?} must be a string")),
        None => return Err(format!("missing {ID_FIELD:?}")),
    };
    let doc = TantivyDocument::from_json_object(schema, obj).map_err(|e| e.to_string())?;
    Ok(Some(ParsedLine { id, doc }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema;

    #[test]
    fn verdicts_per_line() {
        let s = parse_schema("").unwrap();
        let buf = b"{\"id\":\"a\",\"title\":\"x\"}\r\n\n  \n{bad\n{\"title\":\"no id\"}\n{\"id\":7}\n[1]\n{\"id\":\"b\",\"modified\":\"not a date\"}\n\xff\xfe\n{\"id\":\"c\"}";
        let got: Vec<(u64, Result<Option<String>, String>)> = lines(buf)
            .map(|(n, l)| (n, parse_line(&s, l).map(|o| o.map(|p| p.id))))
            .collect();
        assert_eq!(got[0], (1, Ok(Some("a".into()))));
        assert_eq!(got[1], (2, Ok(None)));
        assert_eq!(got[2], (3, Ok(None)));
        assert!(got[3].1.as_ref().unwrap_err().starts_with("invalid JSON"));
        assert_eq!(got[4].1, Err("missing \"id\"".into()));
        assert_eq!(got[5].1, Err("\"id\" must be a string".into()));
        assert_eq!(got[6].1, Err("not a JSON object".into()));
        assert!(
            got[7].1.as_ref().unwrap_err().contains("modified"),
            "{:?}",
            got[7]
        );
        assert_eq!(got[8], (9, Err("invalid UTF-8 at byte 0".into())));
        assert_eq!(got[9], (10, Ok(Some("c".into()))));
    }

    #[test]
    fn errors_are_capped_but_counted() {
        let mut r = AddReport::default();
        for i in 0..150 {
            r.record_bad(i, "x\ny".into());
        }
        assert_eq!(r.bad, 150);
        assert_eq!(r.errors.len(), TG_MAX_LISTED_ERRORS);
        assert_eq!(r.errors[0].message, "x y");
    }
}
