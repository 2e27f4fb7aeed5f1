//! dumpsed rewrites database dumps offline: it renames tables and columns
//! everywhere a live `ALTER TABLE … RENAME` would (deciding by the
//! databases' own parsers what a name refers to), and rewrites values of
//! chosen columns, in pg_dump plain output (COPY or INSERT forms), pg_dump
//! archives and sqlite3 `.dump` output, streaming, in parallel, byte-exact
//! where nothing changes.
//!
//! The front door is [`Rewriter`], built from [`Rules`]:
//!
//! ```no_run
//! use dumpsed::{Rewriter, Rules};
//! let rules = Rules::preset("capa-to-sap")?;
//! let input = std::fs::File::open("before.sql")?;
//! let summary = Rewriter::new(rules).run(input, std::io::stdout())?;
//! eprintln!("{} values rewritten", summary.rewrites[0].rewritten);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/rewrite.rs` does the guide's migration. Everything else is
//! internal: the modules below are hidden from the documentation and may
//! change; the command-line tool, benches, fuzz targets and tests reach
//! them through [`internals`] (also hidden).
//!
//! How a byte travels: `input` opens and decompresses; `detect` picks the
//! dialect; `reader` frames chunks with the `lexer` and `statement` heads
//! and decides per range (`pg_resolve`, `sqlite_schema`, `pg_tag`);
//! `rewrite` applies the decisions with the `copy_text`, `postgres` and
//! `sqlite` codecs; `pipeline` runs it all in parallel and writes in order
//! to `output`; `archive` wraps the same for pg_dump archives.
#![deny(missing_docs)]

#[doc(hidden)]
pub mod archive;
#[doc(hidden)]
pub mod checks;
#[doc(hidden)]
pub mod copy_text;
#[doc(hidden)]
pub mod detect;
#[doc(hidden)]
pub mod django;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod ident;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
pub mod job;
#[doc(hidden)]
pub mod lexer;
#[doc(hidden)]
pub mod output;
mod pg_keywords;
#[doc(hidden)]
pub mod pg_resolve;
#[doc(hidden)]
pub mod pg_tag;
#[doc(hidden)]
pub mod pipeline;
#[doc(hidden)]
pub mod plan;
#[doc(hidden)]
pub mod postgres;
#[doc(hidden)]
pub mod reader;
#[doc(hidden)]
pub mod rewrite;
#[doc(hidden)]
pub mod rules;
#[doc(hidden)]
pub mod sqlite;
#[doc(hidden)]
pub mod sqlite_schema;
#[doc(hidden)]
pub mod statement;

mod rewriter;

pub use error::{Error, Result};
pub use input::Compression;
pub use job::{Format, RewriteSummary, Summary};
pub use lexer::Dialect;
pub use rewriter::Rewriter;
pub use rules::Rules;

/// The internals, for dumpsed's own command-line tool, benches, fuzz
/// targets and tests: no stability promised.
#[doc(hidden)]
pub mod internals {
    pub use crate::{
        archive, checks, copy_text, detect, django, error, ident, input, job, lexer, output,
        pg_resolve, pg_tag, pipeline, plan, postgres, reader, rewrite, rules, sqlite,
        sqlite_schema, statement,
    };
}
