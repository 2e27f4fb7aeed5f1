//! SQLite: schema text renamed by SQLite itself.
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod schema;
