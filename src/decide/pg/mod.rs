//! PostgreSQL: the pre-data read ahead, the dump's own grammar version,
//! the resolver built on libpg_query, and pg_dump's object tags.
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod grammar;
pub(crate) mod nodes;
pub(crate) mod predata;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod resolve;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod tag;
