//! The pieces of the write path that examples/native_index.rs (the native
//! baseline of `make bench`) runs without the C ABI: the same schema, line
//! parser, upsert delete and thread plan, so the benchmark measures what the
//! bridge adds and nothing else.

pub use crate::error::{BResult, BridgeError};
pub use crate::id_delete::IdQuery;
pub use crate::ingest::{lines, parse_line, ParsedLine};
pub use crate::known_ids::KnownIds;
pub use crate::schema::{id_field, parse_schema};
pub use crate::writer::thread_plan;
