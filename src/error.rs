//! Errors, each carrying enough context for a DBA to find the problem:
//! the line and byte offset in the (decompressed) input where it was seen.

use std::io;
use std::path::PathBuf;

use crate::frame::lexer::Dialect;

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
    /// would break a UNIQUE constraint or a `varchar(N)`); nothing is
    /// written to a file output.
    #[error("{0}")]
    Check(String),
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

/// A kind of rule, as the library's [`Rules`](crate::Rules) names it
/// (the command line names its flag instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleKind {
    /// A table rename ([`Rules::parse_rename`](crate::Rules::parse_rename)).
    RenameTable,
    /// A column rename ([`Rules::parse_column_rename`](crate::Rules::parse_column_rename)).
    RenameColumn,
    /// A value rewrite ([`Rules::parse_rewrite`](crate::Rules::parse_rewrite)).
    Rewrite,
    /// A Django model rename ([`Rules::add_django_model`](crate::Rules::add_django_model)).
    DjangoModel,
    /// The tables of a Django model with `Meta.db_table`, given with its
    /// model rename.
    DbTable,
    /// A Django field rename ([`Rules::parse_django_field`](crate::Rules::parse_django_field)).
    DjangoField,
    /// A Django table rename ([`Rules::parse_django_table`](crate::Rules::parse_django_table)).
    DjangoTable,
    /// A migration marked applied ([`Rules::add_mark_applied`](crate::Rules::add_mark_applied)).
    MarkApplied,
    /// The time marked migrations were applied ([`Rules::set_applied_at`](crate::Rules::set_applied_at)).
    AppliedAt,
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RuleKind::RenameTable => "table rename",
            RuleKind::RenameColumn => "column rename",
            RuleKind::Rewrite => "value rewrite",
            RuleKind::DjangoModel => "Django model rename",
            RuleKind::DbTable => "db_table",
            RuleKind::DjangoField => "Django field rename",
            RuleKind::DjangoTable => "Django table rename",
            RuleKind::MarkApplied => "migration marked applied",
            RuleKind::AppliedAt => "applied-at time",
        })
    }
}

/// A rule whose table or column the dump does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Missing {
    /// The kind of rule.
    pub rule: RuleKind,
    /// The rule as it names what it changes (`public.a`, `t.old`, `app.Model`).
    pub name: String,
    /// The table the dump lacks, or the table that lacks the column.
    pub table: String,
    /// The column the table lacks (`None`: the table is missing).
    pub column: Option<String>,
    /// The closest names the dump has ("did you mean"), at most three.
    pub near: Vec<String>,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: ", self.rule, self.name)?;
        match (&self.column, self.rule) {
            (Some(c), _) => write!(f, "table {} has no column {c}", self.table)?,
            (None, RuleKind::RenameTable) => f.write_str("the dump has no such table")?,
            (None, RuleKind::DjangoModel) => write!(f, "its table {} is not in this dump", self.table)?,
            (None, _) => write!(f, "the dump has no table {}", self.table)?,
        }
        if !self.near.is_empty() {
            write!(f, " (did you mean {}?)", self.near.join(", "))?;
        }
        Ok(())
    }
}

/// [`Error::Missing`]'s message: one line per rule.
fn missing_lines(v: &[Missing]) -> String {
    v.iter().map(Missing::to_string).collect::<Vec<_>>().join("\n")
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
            Error::Check(m) => Error::Check(at(m)),
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

/// How many bytes of a value's start and end a message shows.
const EXCERPT_HEAD: usize = 60;
const EXCERPT_TAIL: usize = 20;

/// A dump value as a message quotes it: `{:?}` of its (lossy UTF-8) text
/// when it is short, else its first 60 and last 20 bytes — each cut back
/// to a character boundary — and its length, so that a 400 MiB value makes
/// a one-line message, not 400 MiB of stderr. Messages and reports show
/// values as [`Sample`]s; this is their text, kept for the tests below.
#[cfg(test)]
pub fn excerpt(value: &[u8]) -> String {
    Sample::of(value).to_string()
}

/// What is kept of a dump value for a message or a report: the value when
/// it is short, else only its start, end and length (60 and 20 bytes).
/// Examples, irreversible values and collisions are kept as
/// samples, so that a huge value costs a hundred bytes there, not its size
/// (issue 28, item 11: a 100 MiB value was copied whole five times).
///
/// One allocation, 24 bytes beside it: the collision check keeps up to
/// 20 000 of them (checks.rs), most of them short values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The whole value, or its first bytes then its last bytes (each cut
    /// on a character boundary).
    bytes: Box<[u8]>,
    /// Where the last bytes start in `bytes` (`bytes.len()` when whole).
    head: usize,
    /// The value's length in bytes.
    len: usize,
}

/// Values up to this long are kept whole.
const SAMPLE_WHOLE: usize = EXCERPT_HEAD + EXCERPT_TAIL + 20;

impl Sample {
    /// The sample of `value`.
    pub fn of(value: &[u8]) -> Sample {
        let mut b = SampleBuilder::default();
        b.push(value);
        b.finish()
    }

    /// The value when it was kept whole.
    pub fn whole(&self) -> Option<&[u8]> {
        (self.bytes.len() == self.len).then_some(&self.bytes[..])
    }

    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for the empty value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value's text when it was kept whole (lossy UTF-8, unquoted, as
    /// reports list short values), else its excerpt.
    pub fn text(&self) -> String {
        match self.whole() {
            Some(v) => String::from_utf8_lossy(v).into_owned(),
            None => self.to_string(),
        }
    }
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.whole() {
            Some(v) => write!(f, "{:?}", String::from_utf8_lossy(v)),
            None => write!(
                f,
                "{:?}…{:?} ({} bytes)",
                String::from_utf8_lossy(&self.bytes[..self.head]),
                String::from_utf8_lossy(&self.bytes[self.head..]),
                self.len
            ),
        }
    }
}

/// Builds the [`Sample`] of a value given in pieces (a rewritten value is
/// its unchanged runs and the replacement text), never holding more than
/// a hundred bytes of it.
#[derive(Debug, Default)]
pub struct SampleBuilder {
    head: Vec<u8>,
    /// The last `EXCERPT_TAIL` bytes seen (once past the head).
    tail: std::collections::VecDeque<u8>,
    len: usize,
}

impl SampleBuilder {
    /// Appends the next bytes of the value.
    pub fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        let room = SAMPLE_WHOLE.saturating_sub(self.head.len());
        let (into_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(into_head);
        let rest = &rest[rest.len().saturating_sub(EXCERPT_TAIL)..];
        for &b in rest {
            if self.tail.len() == EXCERPT_TAIL {
                self.tail.pop_front();
            }
            self.tail.push_back(b);
        }
    }

    /// The sample of everything pushed.
    pub fn finish(self) -> Sample {
        let SampleBuilder { mut head, tail, len } = self;
        if len <= SAMPLE_WHOLE {
            return Sample { head: len, bytes: head.into_boxed_slice(), len };
        }
        // The value's last EXCERPT_TAIL bytes: the tail, after the head's
        // end when the value is barely longer than the head.
        let mut last: Vec<u8> = tail.into_iter().collect();
        if last.len() < EXCERPT_TAIL {
            let need = EXCERPT_TAIL - last.len();
            let mut from_head = head[head.len() - need..].to_vec();
            from_head.extend_from_slice(&last);
            last = from_head;
        }
        // A UTF-8 continuation byte is 0b10xx_xxxx: move the cuts off them so
        // no character is split (at most 3 steps; other bytes show lossily).
        let cont = |b: u8| b & 0xC0 == 0x80;
        let mut h = EXCERPT_HEAD;
        while h > EXCERPT_HEAD - 3 && cont(head[h]) {
            h -= 1;
        }
        head.truncate(h);
        let mut t = 0;
        while t < 3 && cont(last[t]) {
            t += 1;
        }
        head.extend_from_slice(&last[t..]);
        Sample { bytes: head.into_boxed_slice(), head: h, len }
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::excerpt;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(excerpt(b"SAP-1"), "\"SAP-1\"");
    }

    #[test]
    fn long_values_show_start_end_and_length_without_splitting_chars() {
        // 'é' is two bytes: a cut at an odd byte would split one.
        let v = format!("x{}", "é".repeat(1000));
        let e = excerpt(v.as_bytes());
        assert!(e.len() < 200, "{e}");
        assert!(e.ends_with(&format!("({} bytes)", v.len())), "{e}");
        assert!(!e.contains('\u{FFFD}'), "a character was split: {e}");
        assert!(e.starts_with("\"xé") && e.contains("é\"…\"é"), "{e}");
    }

    /// A value given in pieces samples as the whole value does, whatever
    /// the cuts and lengths (around the whole/excerpt threshold too).
    #[test]
    fn a_sample_built_in_pieces_is_the_sample_of_the_whole() {
        for n in [0usize, 1, 59, 60, 61, 99, 100, 101, 102, 119, 120, 121, 300] {
            let v: Vec<u8> = "aé€🙂".bytes().cycle().take(n).collect();
            let whole = super::Sample::of(&v);
            for step in [1usize, 7, 64, 1000] {
                let mut b = super::SampleBuilder::default();
                for piece in v.chunks(step) {
                    b.push(piece);
                }
                assert_eq!(b.finish(), whole, "n={n} step={step}");
            }
            assert_eq!(whole.len(), n);
            assert_eq!(whole.whole().is_some(), n <= 100, "n={n}");
        }
    }
}
