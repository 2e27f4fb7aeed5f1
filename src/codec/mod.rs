//! Codecs: how values and names are written in each dump format (COPY
//! text, PostgreSQL and SQLite literals, identifiers and the keywords that
//! make PostgreSQL quote them), read and written back byte-exactly.
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod copy_text;
pub(crate) mod escaped;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod ident;
pub(crate) mod pg_keywords;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod postgres;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod sqlite;
