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
//! How a byte travels, by folder: `source` opens the input once and `io`
//! decompresses it and detects the dialect; `frame` holds the mechanism (buffers, the
//! lexer); `decide` frames chunks with it and decides per range
//! (`decide/pg`: PostgreSQL's grammar; `decide/sqlite`: SQLite's own
//! renames), against the plan compiled from `rules`; `apply` rewrites
//! chunks on workers with the `codec`s and writes them in order;
//! `observe` receives counts, checks and changes; `archive` wraps the same
//! for pg_dump archives; `job` and `rewriter` run it all.
#![deny(missing_docs)]

mod apply;
#[allow(missing_docs)] // internal, reached through `internals`
mod archive;
mod codec;
mod decide;
mod error;
mod frame;
mod io;
mod job;
mod observe;
mod rewriter;
mod rules;
mod source;

pub use archive::plain::RewriteTotal;
pub use archive::run::{Archive, ArchiveSummary};
pub use error::{Error, ErrorKind, Remedy, Result};
pub use io::input::Compression;
pub use job::{Count, Format, Irreversible, MigrationRow, RenameSummary, RewriteSummary, Summary, TableSize, Trigger, ValueExample};
pub use io::output::{set_mmap_advice, Output};
pub use source::{Dump, Source};
pub use frame::lexer::Dialect;
pub use apply::pipeline::OutputCompression;
pub use observe::problem::{Clash, Missing, Problem, RuleKind};
pub use observe::sample::Sample;
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
        pub use crate::frame::chunk_buf::*;
    }
    #[allow(missing_docs)]
    pub mod checks {
        pub use crate::observe::checks::*;
    }
    #[allow(missing_docs)]
    pub mod copy_text {
        pub use crate::codec::copy_text::*;
    }
    #[allow(missing_docs)]
    pub mod detect {
        pub use crate::io::detect::*;
    }
    #[allow(missing_docs)]
    pub mod django {
        pub use crate::decide::django::*;
    }
    #[allow(missing_docs)]
    pub mod error {
        pub use crate::error::*;
    }
    #[allow(missing_docs)]
    pub mod ident {
        pub use crate::codec::ident::*;
    }
    #[allow(missing_docs)]
    pub mod input {
        pub use crate::io::input::*;
    }
    #[allow(missing_docs)]
    pub mod job {
        pub use crate::job::*;
    }
    #[allow(missing_docs)]
    pub mod lexer {
        pub use crate::frame::lexer::*;
    }
    #[allow(missing_docs)]
    pub mod output {
        pub use crate::io::output::*;
    }
    #[allow(missing_docs)]
    pub mod pg_grammar {
        pub use crate::decide::pg::grammar::*;
    }
    #[allow(missing_docs)]
    pub mod pg_resolve {
        pub use crate::decide::pg::resolve::*;
    }
    #[allow(missing_docs)]
    pub mod pg_tag {
        pub use crate::decide::pg::tag::*;
    }
    #[allow(missing_docs)]
    pub mod pipeline {
        pub use crate::apply::pipeline::*;
    }
    #[allow(missing_docs)]
    pub mod plan {
        pub use crate::decide::plan::*;
    }
    #[allow(missing_docs)]
    pub mod postgres {
        pub use crate::codec::postgres::*;
    }
    #[allow(missing_docs)]
    pub mod reader {
        pub use crate::decide::reader::*;
    }
    #[allow(missing_docs)]
    pub mod rewrite {
        pub use crate::apply::rewrite::*;
    }
    #[allow(missing_docs)]
    pub mod rules {
        pub use crate::rules::*;
    }
    #[allow(missing_docs)]
    pub mod sqlite {
        pub use crate::codec::sqlite::*;
    }
    #[allow(missing_docs)]
    pub mod sqlite_schema {
        pub use crate::decide::sqlite::schema::*;
    }
    #[allow(missing_docs)]
    pub mod statement {
        pub use crate::decide::statement::*;
    }
}
