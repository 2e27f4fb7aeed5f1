//! Deciding: which rule applies to which byte range. The plan compiled
//! from the rules, statement heads, the reader that asks the resolvers,
//! and the resolvers themselves: PostgreSQL's grammar (`pg`) and SQLite's
//! own renames (`sqlite`); and what Django's migrate does beyond the
//! schema (`django`).
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod django;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod dump;
pub(crate) mod pg;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod plan;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod reader;
pub(crate) mod sqlite;
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod statement;
