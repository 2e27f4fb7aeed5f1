//! Errors, each carrying enough context for a DBA to find the problem:
//! the line and byte offset in the (decompressed) input where it was seen.

use std::io;
use std::path::PathBuf;

use crate::frame::lexer::Dialect;
use crate::observe::problem::{Missing, Problem, RuleKind};

/// Where in the input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number in the decompressed input.
    pub line: u64,
    /// 0-based byte offset in the decompressed input.
    pub offset: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, byte {}", self.line, self.offset)
    }
}

/// Everything that can go wrong while rewriting a dump. [`Error::kind`]
/// sorts them for a caller that decides by kind (the command line's exit
/// status); new variants may come, so a `match` needs a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not what the reader expects at this position.
    #[error("{pos}: {msg}")]
    Syntax {
        /// Where in the input (line and byte offset).
        pos: Position,
        /// What was expected or found.
        msg: String,
        /// What the caller can switch on to get past it, if anything (see
        /// [`Error::remedy`]).
        remedy: Option<Remedy>,
    },
    /// The input is recognisably something dumpsed does not read.
    #[error("{0}")]
    Unsupported(String),
    /// The dialect asked for does not fit the input (both are given), or
    /// none was asked for and the first statements do not tell (neither).
    #[error("{}", format_mismatch(*.asked, *.found))]
    Format {
        /// The dialect asked for, if one was.
        asked: Option<Dialect>,
        /// The dialect the input looks like, if it tells.
        found: Option<Dialect>,
    },
    /// The rules given on the command line or in a file are wrong.
    #[error("invalid rule: {0}")]
    Rule(String),
    /// A rule as given does not parse (`rule` says which kind, `spec` is
    /// the text given for it).
    #[error("invalid rule: {rule} {spec:?}: {why}")]
    InvalidRule {
        /// The kind of rule.
        rule: RuleKind,
        /// The text given for it.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
    /// A rule does not fit the input at this position (rows whose columns
    /// a value rule needs and the dump does not give).
    #[error("invalid rule: {pos}: {msg}")]
    RuleAt {
        /// Where in the input (line and byte offset).
        pos: Position,
        /// What does not fit.
        msg: String,
        /// What the caller can give to get past it, if anything.
        remedy: Option<Remedy>,
    },
    /// Rules whose table or column the dump does not have (pg_dump's
    /// `--strict-names` refuses such a pattern the same way); nothing is
    /// written to a file output. [`Remedy::AllowMissing`] makes them
    /// warnings.
    #[error("invalid rule: {}", missing_lines(.0))]
    Missing(Vec<Missing>),
    /// Reading, writing or renaming a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (and on which path).
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A check before letting the output out failed (a rewritten value
    /// would break a UNIQUE constraint or a `varchar(N)`): the problems
    /// found ([`Problem::Collision`], [`Problem::TooLong`]); nothing is
    /// written to a file output.
    #[error("{}", check_lines(.0))]
    Check(Vec<Problem>),
    /// A pg_dump archive is malformed or not supported; the message names
    /// the TOC entry and byte offset.
    #[error("{0}")]
    Archive(String),
    /// An error seen at a place of a larger input (a TOC entry, an archive
    /// byte) whose own position is inside that place: its kind and remedy
    /// are the inner error's (see [`Error::within`]).
    #[error("{place}: {source}")]
    At {
        /// Where (an archive byte, a TOC entry).
        place: String,
        /// The error there.
        source: Box<Error>,
    },
    /// The output was refused before anything was written.
    #[error("refusing to write {path}: {reason}")]
    Output {
        /// The output path given.
        path: PathBuf,
        /// Why it is refused (the input itself, a directory, …).
        reason: String,
    },
}

/// [`Error::Missing`]'s message: one line per rule.
fn missing_lines(v: &[Missing]) -> String {
    v.iter().map(Missing::to_string).collect::<Vec<_>>().join("\n")
}

/// [`Error::Check`]'s message: the problems, one per line.
fn check_lines(v: &[Problem]) -> String {
    format!(
        "stopped by a check, so no output file was written (on stdout the output is already out: \
         discard it):\n  {}\nFix the data or the rules, or force the rewrite",
        v.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n  ")
    )
}

/// What a caller can change to get past an error. Messages do not say it,
/// since each front end has its own spelling (the command line names its
/// flag, a library caller calls the [`Rewriter`](crate::Rewriter) method).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Go on anyway ([`Rewriter::force`](crate::Rewriter::force)): a
    /// failed check is overridden, a statement the parser rejects passes
    /// through unchanged, a new name the dump already has is taken.
    Force,
    /// Accept a dump without its closing marker
    /// ([`Rewriter::allow_truncated`](crate::Rewriter::allow_truncated)).
    AllowTruncated,
    /// A larger limit on one statement or row
    /// ([`Rewriter::max_record_size`](crate::Rewriter::max_record_size)),
    /// for example this many MiB.
    MaxRecordSize {
        /// A limit to try, in MiB (four times the one that was hit).
        suggested_mib: usize,
    },
    /// Let the dialect be detected from the first statements
    /// ([`Format::Auto`](crate::Format::Auto) in
    /// [`Rewriter::format`](crate::Rewriter::format)).
    DetectFormat,
    /// Say which dialect the dump is
    /// ([`Rewriter::format`](crate::Rewriter::format)).
    ChooseFormat,
    /// Take a rule whose table or column the dump lacks as a warning
    /// ([`Rewriter::allow_missing`](crate::Rewriter::allow_missing)).
    AllowMissing,
    /// Give the columns of a table whose rows do not name them and whose
    /// `CREATE TABLE` the dump lacks
    /// ([`Rewriter::columns`](crate::Rewriter::columns)).
    Columns {
        /// The table, as the rows name it.
        table: String,
    },
    /// Add these column renames and value rewrites (`schema.table.old=new`
    /// as [`Rules::parse_column_rename`](crate::Rules::parse_column_rename)
    /// reads it; `schema.table.column:FROM=TO` as
    /// [`Rules::parse_rewrite`](crate::Rules::parse_rewrite) does); either
    /// list may be empty.
    AddRules {
        /// Column renames to add (maybe none).
        renames: Vec<String>,
        /// Value rewrites to add (maybe none).
        rewrites: Vec<String>,
    },
    /// Add a rename of this table, whose new name the dump cannot tell
    /// ([`Rules::parse_rename`](crate::Rules::parse_rename)
    /// reads `old=new`).
    RenameTable {
        /// The table, as the dump names it.
        table: String,
    },
}

/// [`Error::Format`]'s message.
fn format_mismatch(asked: Option<Dialect>, found: Option<Dialect>) -> String {
    match (asked, found) {
        (Some(w), Some(d)) => format!(
            "the format asked for is {} but the input looks like {}",
            w.dump_name(),
            d.dump_name()
        ),
        _ => "cannot tell whether this is a PostgreSQL or an SQLite dump from its first statements".into(),
    }
}

/// What kind of thing went wrong: one value per front-end decision (the
/// command line's exit status is one per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The rules (or options) are wrong, or do not fit the dump.
    Rule,
    /// The input is not a dump dumpsed reads, or is malformed.
    Input,
    /// Reading or writing failed.
    Io,
    /// The output was refused before anything was written.
    Output,
    /// A check before letting the output out failed.
    Check,
}

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Rule(_) | Error::RuleAt { .. } | Error::InvalidRule { .. } | Error::Missing(_) => ErrorKind::Rule,
            Error::Syntax { .. } | Error::Unsupported(_) | Error::Format { .. } | Error::Archive(_) => {
                ErrorKind::Input
            }
            Error::Io { .. } => ErrorKind::Io,
            Error::Output { .. } => ErrorKind::Output,
            Error::Check(_) => ErrorKind::Check,
            Error::At { source, .. } => source.kind(),
        }
    }

    /// What the caller can change to get past this error, if anything.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::Syntax { remedy, .. } | Error::RuleAt { remedy, .. } => remedy.clone(),
            Error::Format { asked: Some(_), found: Some(_) } => Some(Remedy::DetectFormat),
            Error::Format { .. } => Some(Remedy::ChooseFormat),
            Error::Check(_) => Some(Remedy::Force),
            Error::Missing(_) => Some(Remedy::AllowMissing),
            Error::At { source, .. } => source.remedy(),
            _ => None,
        }
    }

    /// Wraps an I/O error with what was being done when it happened. A
    /// read error that is a compressed input's damage ([`InputFault`],
    /// which the decompressing reader hands up inside an `io::Error`) is
    /// malformed input instead, at the decompressed position it names.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        if let Some(f) = source.get_ref().and_then(|e| e.downcast_ref::<InputFault>()) {
            return Error::Syntax {
                pos: f.pos,
                msg: f.msg.clone(),
                remedy: None,
            };
        }
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The same error, seen at `place` (a TOC entry, an archive byte): a
    /// message is prefixed with it, the kind and remedy are kept. Rules
    /// that do not fit the dump are said as they are (they name the rule,
    /// which is the whole dump's or archive's).
    pub fn within(self, place: &str) -> Error {
        let at = |m: String| format!("{place}: {m}");
        match self {
            Error::Unsupported(m) => Error::Unsupported(at(m)),
            Error::Rule(m) => Error::Rule(at(m)),
            Error::Io { context, source } => Error::Io { context: at(context), source },
            Error::Archive(m) => Error::Archive(at(m)),
            e @ (Error::Missing(_) | Error::InvalidRule { .. } | Error::Output { .. }) => e,
            // A position inside the place: said after it.
            e => Error::At { place: place.into(), source: Box::new(e) },
        }
    }

    /// True when the error is a closed pipe on the output (e.g. `| head`),
    /// which a command-line tool should end on quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Damage in the input found below the reader, where only an `io::Error`
/// can be returned (a truncated or corrupt gzip, zstd or LZ4 stream,
/// input.rs): what [`Error::io`] makes an [`Error::Syntax`] of, so that it
/// exits as malformed input, not as a failed read.
#[derive(Debug)]
pub(crate) struct InputFault {
    /// How far the decompressed text got.
    pub pos: Position,
    /// What is wrong, with the compressed byte offset.
    pub msg: String,
}

impl std::fmt::Display for InputFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.pos, self.msg)
    }
}

impl std::error::Error for InputFault {}

/// An error found inside a chunk, before its absolute position is known.
///
/// Chunks are parsed in parallel, so a worker only knows the offset inside
/// its own chunk; the ordered writer, which has counted the lines of every
/// chunk before it, turns this into an [`Error::Syntax`].
#[derive(Debug, Clone)]
pub struct LocalError {
    /// Byte offset inside the chunk.
    pub at: usize,
    /// What is wrong.
    pub msg: String,
    /// The input is fine but a rule does not fit it (a value rule's column
    /// that the table lacks): a rule error, not malformed input.
    pub rule: bool,
    /// What the caller can change to get past it (kept by
    /// [`Error::Syntax`]).
    pub remedy: Option<Remedy>,
}

impl LocalError {
    /// An input error at `at` (offset in the chunk).
    pub fn new(at: usize, msg: impl Into<String>) -> LocalError {
        LocalError {
            at,
            msg: msg.into(),
            rule: false,
            remedy: None,
        }
    }

    /// The same error, with what gets past it.
    pub fn with_remedy(self, remedy: Remedy) -> LocalError {
        LocalError {
            remedy: Some(remedy),
            ..self
        }
    }

    /// A rule that does not fit the input at `at`.
    pub fn rule(at: usize, msg: impl Into<String>) -> LocalError {
        LocalError {
            rule: true,
            ..LocalError::new(at, msg)
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
