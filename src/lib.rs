//! dumpsed rewrites database dumps offline: it renames tables and columns
//! everywhere a live `ALTER TABLE … RENAME` would (deciding by the
//! databases' own parsers what a name refers to), and rewrites values of
//! chosen columns, in pg_dump plain output (COPY or INSERT forms), pg_dump
//! archives and sqlite3 `.dump` output, streaming, in parallel, byte-exact
//! where nothing changes.
//!
//! The front door is [`Rewriter`], built from [`Rules`]. Here a table
//! `city` becomes `town`, and in its column `city` a value starting with
//! `Bath` gets `Bath` replaced by `Bath Spa` (on a dump shipped with the
//! crate; `town.city` names the table by its new name, the old one works too):
//!
//! ```
//! use dumpsed::{Rewriter, Rules};
//! let mut rules = Rules::new();
//! rules.add_rename("city", "town")?;
//! rules.add_rewrite("town", "city", b"Bath", b"Bath Spa")?;
//! let input = std::fs::File::open("fixtures/pg-refs/before.sql")?;
//! let mut output = Vec::new();
//! let summary = Rewriter::new(rules).run(input, &mut output)?;
//! assert_eq!(summary.rewrites[0].rewritten, 1);
//! let output = String::from_utf8(output)?;
//! assert!(output.contains("CREATE TABLE public.town ("));
//! assert!(output.contains("3\tBath Spa\t90000\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/rewrite.rs` is the same as a program that writes its output
//! atomically (`cargo run --example rewrite -- fixtures/pg-refs/before.sql
//! /tmp/after.sql city=town 'town.city:Bath=Bath Spa'`). [`Rules::from_toml`]
//! reads a rules file, [`Rules::preset`] the presets. [`Source::open`]
//! opens a file or stdin and says whether it is a plain dump ([`Dump`]) or
//! a pg_dump archive ([`Archive`], rewritten by [`Rewriter::run_archive`]);
//! [`Output`] writes a file that appears only when whole. The `dumpsed`
//! command is built on these alone. Everything else is internal: benches,
//! fuzz targets and tests reach it through `internals`, which exists only
//! with the `internals` feature and promises nothing.
//!
//! How a byte travels: `input` opens and decompresses; `detect` picks the
//! dialect; `reader` frames chunks with the `lexer` and `statement` heads
//! and decides per range (`pg_resolve`, `sqlite_schema`, `pg_tag`);
//! `rewrite` applies the decisions with the `copy_text`, `postgres` and
//! `sqlite` codecs; `pipeline` runs it all in parallel and writes in order
//! to `output`; `archive` wraps the same for pg_dump archives.
#![deny(missing_docs)]

#[allow(missing_docs)] // internal, reached through `internals`
mod archive;
mod byte_mask;
mod chunk_buf;
#[allow(missing_docs)] // internal, reached through `internals`
mod checks;
#[allow(missing_docs)] // internal, reached through `internals`
mod copy_text;
#[allow(missing_docs)] // internal, reached through `internals`
mod detect;
#[allow(missing_docs)] // internal, reached through `internals`
mod django;
mod error;
#[allow(missing_docs)] // internal, reached through `internals`
mod ident;
mod input;
mod job;
mod lexer;
#[allow(missing_docs)] // internal, reached through `internals`
mod output;
#[allow(missing_docs)] // internal, reached through `internals`
mod pg_grammar;
mod pg_keywords;
mod pg_predata;
#[allow(missing_docs)] // internal, reached through `internals`
mod pg_resolve;
#[allow(missing_docs)] // internal, reached through `internals`
mod pg_tag;
#[allow(missing_docs)] // internal, reached through `internals`
mod pipeline;
#[allow(missing_docs)] // internal, reached through `internals`
mod plan;
#[allow(missing_docs)] // internal, reached through `internals`
mod postgres;
#[allow(missing_docs)] // internal, reached through `internals`
mod reader;
pub(crate) mod frame { pub mod dump; }
#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod decide { pub mod dump; }
#[allow(missing_docs)] // internal, reached through `internals`
mod rewrite;
mod rules;
#[allow(missing_docs)] // internal, reached through `internals`
mod sqlite;
#[allow(missing_docs)] // internal, reached through `internals`
mod sqlite_schema;
#[allow(missing_docs)] // internal, reached through `internals`
mod statement;

mod observe;
mod rewriter;
mod source;

pub use archive::plain::RewriteTotal;
pub use archive::run::{Archive, ArchiveSummary};
pub use error::{Error, ErrorKind, Remedy, Result, Sample};
pub use input::Compression;
pub use job::{Count, Format, Irreversible, MigrationRow, RenameSummary, RewriteSummary, Summary, TableSize, Trigger, ValueExample};
pub use output::Output;
pub use source::{Dump, Source};
pub use lexer::Dialect;
pub use pipeline::OutputCompression;
pub use observe::{CsvChangeLog, Observer, Observers, Progress, ValueChange};
pub use rewriter::Rewriter;
pub use rules::Rules;

/// The internals, for dumpsed's benches, fuzz targets and tests (the
/// `internals` feature): no stability promised. Each module here
/// re-exports the public items of the private module of the same name.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    #[allow(missing_docs)]
    pub mod archive {
        pub use crate::archive::*;
    }
    #[allow(missing_docs)]
    pub mod chunk_buf {
        pub use crate::chunk_buf::*;
    }
    #[allow(missing_docs)]
    pub mod checks {
        pub use crate::checks::*;
    }
    #[allow(missing_docs)]
    pub mod copy_text {
        pub use crate::copy_text::*;
    }
    #[allow(missing_docs)]
    pub mod detect {
        pub use crate::detect::*;
    }
    #[allow(missing_docs)]
    pub mod django {
        pub use crate::django::*;
    }
    #[allow(missing_docs)]
    pub mod error {
        pub use crate::error::*;
    }
    #[allow(missing_docs)]
    pub mod ident {
        pub use crate::ident::*;
    }
    #[allow(missing_docs)]
    pub mod input {
        pub use crate::input::*;
    }
    #[allow(missing_docs)]
    pub mod job {
        pub use crate::job::*;
    }
    #[allow(missing_docs)]
    pub mod lexer {
        pub use crate::lexer::*;
    }
    #[allow(missing_docs)]
    pub mod output {
        pub use crate::output::*;
    }
    #[allow(missing_docs)]
    pub mod pg_grammar {
        pub use crate::pg_grammar::*;
    }
    #[allow(missing_docs)]
    pub mod pg_resolve {
        pub use crate::pg_resolve::*;
    }
    #[allow(missing_docs)]
    pub mod pg_tag {
        pub use crate::pg_tag::*;
    }
    #[allow(missing_docs)]
    pub mod pipeline {
        pub use crate::pipeline::*;
    }
    #[allow(missing_docs)]
    pub mod plan {
        pub use crate::plan::*;
    }
    #[allow(missing_docs)]
    pub mod postgres {
        pub use crate::postgres::*;
    }
    #[allow(missing_docs)]
    pub mod reader {
        pub use crate::reader::*;
    }
    #[allow(missing_docs)]
    pub mod rewrite {
        pub use crate::rewrite::*;
    }
    #[allow(missing_docs)]
    pub mod rules {
        pub use crate::rules::*;
    }
    #[allow(missing_docs)]
    pub mod sqlite {
        pub use crate::sqlite::*;
    }
    #[allow(missing_docs)]
    pub mod sqlite_schema {
        pub use crate::sqlite_schema::*;
    }
    #[allow(missing_docs)]
    pub mod statement {
        pub use crate::statement::*;
    }
}
