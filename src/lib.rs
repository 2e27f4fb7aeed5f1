//! dumpsed rewrites database dumps offline: it renames tables everywhere a
//! live `ALTER TABLE … RENAME TO` would, and rewrites values of chosen
//! columns, in pg_dump plain output (COPY or INSERT forms) and sqlite3
//! `.dump` output, streaming, in parallel, byte-exact where nothing changes.
//!
//! ```no_run
//! use dumpsed::{input, job, Rules};
//! let rules = Rules::preset("capa-to-sap")?;
//! let src = input::open(Some("before.sql".as_ref()))?;
//! let mut out = std::io::stdout();
//! let summary = job::rewrite(src, &mut out, &rules, &job::Options::default(), |_| {})?;
//! eprintln!("{} values rewritten", summary.rewrites[0].rewritten);
//! # Ok::<(), dumpsed::Error>(())
//! ```
//!
//! How a byte travels: [`input`] opens and decompresses; [`detect`] picks
//! the dialect; [`reader`] frames chunks with the [`lexer`] and
//! [`statement`] heads, deciding per range; [`rewrite`] applies the
//! decisions with [`copy_text`], [`postgres`] and [`sqlite`] codecs;
//! [`pipeline`] runs it all in parallel and writes in order to [`output`].

pub mod archive;
pub mod checks;
pub mod copy_text;
pub mod detect;
pub mod django;
pub mod error;
pub mod ident;
pub mod input;
pub mod job;
pub mod lexer;
pub mod output;
mod pg_keywords;
pub mod pg_resolve;
pub mod pg_tag;
pub mod pipeline;
pub mod plan;
pub mod postgres;
pub mod reader;
pub mod rewrite;
pub mod rules;
pub mod sqlite;
pub mod sqlite_schema;
pub mod statement;

pub use error::{Error, Result};
pub use rules::Rules;
