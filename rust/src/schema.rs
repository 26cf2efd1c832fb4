//! Schemas: Tantivy's own schema JSON (the `schema` array of meta.json, as
//! tantivy-cli and tantivy-py write it), and tguard's older short form
//! (`{"fields":[{"name":..,"type":..,"stored":..}]}`), both checked before
//! anything is written.
//!
//! The default schema is written in the short form and goes through the
//! same parser, so "default" and "the same JSON given explicitly" always
//! produce equal Tantivy schemas (open_or_create compares them).

use serde_json::{Map, Value};
use tantivy::schema::{
    DateOptions, Field, FieldEntry, FieldType, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, STORED, STRING, TEXT,
};
use tantivy::tokenizer::TokenizerManager;

use crate::error::{BResult, BridgeError};

/// The upsert key: every schema must have it as an indexed `string` field.
pub(crate) const ID_FIELD: &str = "id";

// One literal for both the Rust constant and its NUL-terminated C copy.
macro_rules! default_schema_json {
    () => {
        concat!(
            r#"{"fields":["#,
            r#"{"name":"id","type":"string","stored":true,"indexed":true,"fast":false},"#,
            r#"{"name":"path","type":"text","stored":true,"indexed":true,"fast":false},"#,
            r#"{"name":"title","type":"text","stored":true,"indexed":true,"fast":false},"#,
            r#"{"name":"body","type":"text","stored":true,"indexed":true,"fast":false},"#,
            r#"{"name":"modified","type":"date","stored":true,"indexed":true,"fast":true}"#,
            r#"]}"#
        )
    };
}

/// Default schema. `path` is tokenized text, so `path:sync` finds files
/// with a folder or name word "sync"; `body` is stored for snippets;
/// `modified` is a date (seconds precision).
pub(crate) const DEFAULT_SCHEMA_JSON: &str = default_schema_json!();

/// NUL-terminated copy for `tg_default_schema_json`.
pub(crate) const DEFAULT_SCHEMA_JSON_C: &str = concat!(default_schema_json!(), "\0");

struct FieldSpec {
    name: String,
    kind: String,
    stored: bool,
    indexed: bool,
    fast: bool,
}

/// Parses a schema description; empty or whitespace-only means the default.
pub fn parse_schema(json: &str) -> BResult<Schema> {
    let json = if json.trim().is_empty() {
        DEFAULT_SCHEMA_JSON
    } else {
        json
    };
    let root: Value = serde_json::from_str(json)
        .map_err(|e| BridgeError::invalid(format!("schema: invalid JSON: {e}")))?;
    match root {
        Value::Array(fields) => return parse_tantivy(fields),
        Value::Object(mut o) if o.contains_key("schema") => {
            // A whole meta.json, or {"schema": [...]}.
            return match o.remove("schema") {
                Some(Value::Array(fields)) => parse_tantivy(fields),
                _ => Err(BridgeError::invalid(
                    "schema: \"schema\" must be an array of field entries",
                )),
            };
        }
        _ => {}
    }
    let obj = root.as_object().ok_or_else(|| {
        BridgeError::invalid(
            "schema: expected Tantivy's schema JSON (an array of field entries) or {\"fields\": [...]}",
        )
    })?;
    if let Some(k) = obj.keys().find(|k| k.as_str() != "fields") {
        return Err(BridgeError::invalid(format!("schema: unknown key {k:?}")));
    }
    let fields = obj
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| BridgeError::invalid("schema: \"fields\" must be an array"))?;
    if fields.is_empty() {
        return Err(BridgeError::invalid("schema: \"fields\" is empty"));
    }

    let mut builder = Schema::builder();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in fields.iter().enumerate() {
        let spec = field_spec(i, raw)?;
        // Tantivy's builder panics on duplicates; report them instead.
        if !seen.insert(spec.name.clone()) {
            return Err(BridgeError::invalid(format!(
                "schema: duplicate field {:?}",
                spec.name
            )));
        }
        add_field(&mut builder, &spec)?;
    }
    let schema = builder.build();
    id_field(&schema)?;
    Ok(schema)
}

/// Parses Tantivy's schema JSON: one FieldEntry per element, as in the
/// `schema` array of meta.json. Checked here rather than left to Tantivy,
/// whose builder panics on a duplicate name and whose writer fails only at
/// the first document on an unknown tokenizer.
fn parse_tantivy(fields: Vec<Value>) -> BResult<Schema> {
    if fields.is_empty() {
        return Err(BridgeError::invalid("schema: no fields"));
    }
    let tokenizers = TokenizerManager::default();
    let mut builder = Schema::builder();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in fields.into_iter().enumerate() {
        let label = raw
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("fields[{i}]"), |n| format!("field {n:?}"));
        let entry: FieldEntry = serde_json::from_value(raw)
            .map_err(|e| BridgeError::invalid(format!("schema: {label}: {e}")))?;
        let name = entry.name().to_string();
        if !tantivy::schema::is_valid_field_name(&name) {
            return Err(BridgeError::invalid(format!(
                "schema: field {name:?}: invalid name"
            )));
        }
        if !seen.insert(name.clone()) {
            return Err(BridgeError::invalid(format!(
                "schema: duplicate field {name:?}"
            )));
        }
        let tokenizer = match entry.field_type() {
            FieldType::Str(o) => o.get_indexing_options().map(|i| i.tokenizer().to_string()),
            FieldType::JsonObject(o) => o
                .get_text_indexing_options()
                .map(|i| i.tokenizer().to_string()),
            _ => None,
        };
        if let Some(t) = tokenizer {
            if tokenizers.get(&t).is_none() {
                return Err(BridgeError::invalid(format!(
                    "schema: field {name:?}: unknown tokenizer {t:?} (want default, raw, en_stem or whitespace)"
                )));
            }
        }
        builder.add_field(entry);
    }
    let schema = builder.build();
    id_field(&schema)?;
    Ok(schema)
}

/// The schema in Tantivy's JSON (the `schema` array of meta.json),
/// indented: what `tguard schema` prints and `--schema` accepts.
pub(crate) fn to_tantivy_json(schema: &Schema) -> BResult<String> {
    serde_json::to_string_pretty(schema)
        .map_err(|e| BridgeError::new(crate::error::TG_ERR_INTERNAL, format!("schema: {e}")))
}

fn field_spec(i: usize, raw: &Value) -> BResult<FieldSpec> {
    let obj: &Map<String, Value> = raw
        .as_object()
        .ok_or_else(|| BridgeError::invalid(format!("schema: fields[{i}] is not an object")))?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| BridgeError::invalid(format!("schema: fields[{i}] has no string \"name\"")))?
        .to_string();
    if !tantivy::schema::is_valid_field_name(&name) {
        return Err(BridgeError::invalid(format!(
            "schema: field {name:?}: invalid name"
        )));
    }
    let bad = |msg: String| BridgeError::invalid(format!("schema: field {name:?}: {msg}"));
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "name" | "type" | "stored" | "indexed" | "fast"
        ) {
            return Err(bad(format!("unknown key {key:?}")));
        }
    }
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("missing string \"type\"".into()))?
        .to_string();
    let flag = |key: &str, default: bool| -> BResult<bool> {
        match obj.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("{key:?} must be true or false"))),
        }
    };
    Ok(FieldSpec {
        stored: flag("stored", false)?,
        indexed: flag("indexed", true)?,
        fast: flag("fast", false)?,
        name,
        kind,
    })
}

fn add_field(builder: &mut tantivy::schema::SchemaBuilder, f: &FieldSpec) -> BResult<()> {
    match f.kind.as_str() {
        "text" | "string" => {
            let mut opts = match (f.kind.as_str(), f.indexed) {
                ("text", true) => TEXT,
                (_, true) => STRING,
                (_, false) => TextOptions::default(),
            };
            if f.stored {
                opts = opts | STORED;
            }
            if f.fast {
                opts = opts.set_fast("raw");
            }
            builder.add_text_field(&f.name, opts);
        }
        "u64" | "i64" | "f64" => {
            let mut opts = NumericOptions::default();
            if f.indexed {
                opts = opts.set_indexed();
            }
            if f.stored {
                opts = opts.set_stored();
            }
            if f.fast {
                opts = opts.set_fast();
            }
            match f.kind.as_str() {
                "u64" => builder.add_u64_field(&f.name, opts),
                "i64" => builder.add_i64_field(&f.name, opts),
                _ => builder.add_f64_field(&f.name, opts),
            };
        }
        "date" => {
            let mut opts = DateOptions::default();
            if f.indexed {
                opts = opts.set_indexed();
            }
            if f.stored {
                opts = opts.set_stored();
            }
            if f.fast {
                opts = opts.set_fast();
            }
            builder.add_date_field(&f.name, opts);
        }
        other => {
            return Err(BridgeError::invalid(format!(
            "schema: field {:?}: unknown type {other:?} (want text, string, u64, i64, f64 or date)",
            f.name
        )))
        }
    }
    Ok(())
}

/// The `id` field, which must be an indexed, untokenized string (the upsert key).
pub fn id_field(schema: &Schema) -> BResult<Field> {
    let field = schema.get_field(ID_FIELD).map_err(|_| {
        BridgeError::invalid(format!(
            "schema: needs a \"string\" field named {ID_FIELD:?} (the upsert key)"
        ))
    })?;
    let ok = match schema.get_field_entry(field).field_type() {
        FieldType::Str(opts) => opts
            .get_indexing_options()
            .map(TextFieldIndexing::tokenizer)
            .is_some_and(|t| t == "raw"),
        _ => false,
    };
    if !ok {
        return Err(BridgeError::invalid(format!(
            "schema: field {ID_FIELD:?} must have type \"string\" and be indexed (it is the upsert key)"
        )));
    }
    Ok(field)
}

/// Fields searched when a query names no field: indexed, tokenized text.
pub(crate) fn default_search_fields(schema: &Schema) -> Vec<Field> {
    schema
        .fields()
        .filter(|(_, entry)| match entry.field_type() {
            FieldType::Str(opts) => opts
                .get_indexing_options()
                .is_some_and(|i| i.tokenizer() != "raw"),
            _ => false,
        })
        .map(|(field, _)| field)
        .collect()
}

/// Short one-line description used in schema-mismatch messages.
pub(crate) fn describe(schema: &Schema) -> String {
    let parts: Vec<String> = schema
        .fields()
        .map(|(_, e)| {
            let kind = match e.field_type() {
                FieldType::Str(o) => match o.get_indexing_options() {
                    Some(i) if i.tokenizer() == "raw" => "string",
                    Some(_) => "text",
                    None => "string",
                },
                FieldType::U64(_) => "u64",
                FieldType::I64(_) => "i64",
                FieldType::F64(_) => "f64",
                FieldType::Date(_) => "date",
                _ => "other",
            };
            let mut flags = Vec::new();
            if e.is_indexed() {
                flags.push("indexed");
            }
            if e.is_stored() {
                flags.push("stored");
            }
            if e.is_fast() {
                flags.push("fast");
            }
            format!("{}:{kind}[{}]", e.name(), flags.join(","))
        })
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TG_ERR_INVALID_ARGUMENT;

    fn err(json: &str) -> String {
        let e = parse_schema(json).unwrap_err();
        assert_eq!(e.code, TG_ERR_INVALID_ARGUMENT, "{e}");
        e.message
    }

    #[test]
    fn default_schema_parses_and_matches_c_copy() {
        let s = parse_schema("").unwrap();
        assert_eq!(s, parse_schema(DEFAULT_SCHEMA_JSON).unwrap());
        assert_eq!(
            &DEFAULT_SCHEMA_JSON_C[..DEFAULT_SCHEMA_JSON_C.len() - 1],
            DEFAULT_SCHEMA_JSON
        );
        let names: Vec<_> = s.fields().map(|(_, e)| e.name().to_string()).collect();
        assert_eq!(names, ["id", "path", "title", "body", "modified"]);
        let search: Vec<_> = default_search_fields(&s)
            .into_iter()
            .map(|f| s.get_field_name(f).to_string())
            .collect();
        assert_eq!(search, ["path", "title", "body"]);
        // path is searchable (path:sync) and body stored (snippets).
        assert!(s.get_field_entry(s.get_field("path").unwrap()).is_indexed());
        assert!(s.get_field_entry(s.get_field("body").unwrap()).is_stored());
    }

    #[test]
    fn schema_errors_name_the_field() {
        assert!(err("{").contains("invalid JSON"));
        assert!(err(r#"{"fields":[{"name":"x","type":"blob"}]}"#).contains("\"x\""));
        assert!(
            err(r#"{"fields":[{"name":"id","type":"string"},{"name":"id","type":"text"}]}"#)
                .contains("duplicate field \"id\"")
        );
        assert!(err(r#"{"fields":[{"name":"title","type":"text"}]}"#).contains("\"id\""));
        assert!(err(r#"{"fields":[{"name":"id","type":"text"}]}"#).contains("must have type"));
        assert!(
            err(r#"{"fields":[{"name":"id","type":"string","stord":true}]}"#).contains("stord")
        );
        assert!(
            err(r#"{"fields":[{"name":"id","type":"string","stored":"yes"}]}"#).contains("stored")
        );
        assert!(err(r#"{"fields":[]}"#).contains("empty"));
        assert!(err(r#"{"fields":[{"name":"-x","type":"u64"}]}"#).contains("-x"));
        assert!(err(r#"7"#).contains("expected"));
    }

    #[test]
    fn tantivy_schema_json_round_trips() {
        let s = parse_schema("").unwrap();
        let json = to_tantivy_json(&s).unwrap();
        assert!(json.trim_start().starts_with('['), "{json}");
        assert_eq!(parse_schema(&json).unwrap(), s);
        let meta = format!(r#"{{"index_settings":{{}},"segments":[],"schema":{json}}}"#);
        assert_eq!(parse_schema(&meta).unwrap(), s);
    }

    #[test]
    fn tantivy_schema_errors_name_the_field() {
        let id = r#"{"name":"id","type":"text","options":{"indexing":{"record":"basic","fieldnorms":false,"tokenizer":"raw"},"stored":true}}"#;
        assert!(parse_schema(&format!("[{id}]")).is_ok());
        assert!(err(&format!("[{id},{id}]")).contains("duplicate field \"id\""));
        let t = r#"{"name":"t","type":"text","options":{"indexing":{"record":"position","fieldnorms":true,"tokenizer":"klingon"},"stored":true}}"#;
        assert!(err(&format!("[{id},{t}]")).contains("unknown tokenizer \"klingon\""));
        assert!(err(r#"[{"name":"x","type":"blob","options":{}}]"#).contains("\"x\""));
        assert!(err("[]").contains("no fields"));
        let t = r#"{"name":"t","type":"text","options":{"indexing":{"record":"position","fieldnorms":true,"tokenizer":"en_stem"},"stored":true}}"#;
        assert!(err(&format!("[{t}]")).contains("\"id\""));
    }

    #[test]
    fn custom_schema_with_all_types() {
        let s = parse_schema(
            r#"{"fields":[{"name":"id","type":"string","stored":true},
            {"name":"n","type":"u64","fast":true},{"name":"i","type":"i64"},
            {"name":"f","type":"f64","stored":true},{"name":"d","type":"date"},
            {"name":"t","type":"text","stored":true,"fast":true}]}"#,
        )
        .unwrap();
        assert_eq!(s.fields().count(), 6);
        assert!(
            describe(&s).contains("n:u64[indexed,fast]"),
            "{}",
            describe(&s)
        );
    }
}
