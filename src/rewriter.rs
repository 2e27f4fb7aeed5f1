//! The library's entry point: a [`Rewriter`] built from [`Rules`].

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use crate::archive::plain::PlainEdit;
use crate::archive::run::{self, Archive, ArchiveSummary};
use crate::error::{Error, Result};
use crate::job::{self, Format, Options, Summary};
use crate::source::Dump;
use crate::apply::pipeline::OutputCompression;
use crate::observe::{CsvChangeLog, Observer, Observers, Progress};
use crate::rules::Rules;

/// Rewrites dumps under a set of rules.
///
/// ```
/// use dumpsed::{Rewriter, Rules};
/// let mut rules = Rules::new();
/// rules.parse_rename("category=genre")?;          // as --rename-table gives it
/// rules.parse_rewrite("genre.name:other=misc")?;  // as --rewrite gives it
/// let input = std::fs::File::open("fixtures/pg-refs/before.sql")?;
/// let summary = Rewriter::new(rules).threads(2).run(input, std::io::sink())?;
/// assert_eq!(summary.rewrites[0].rewritten, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Rewriter<'p> {
    rules: Rules,
    options: Options,
    observers: Observers<'p>,
}

impl<'p> Rewriter<'p> {
    /// A rewriter applying `rules`, with every check on and all cores.
    pub fn new(rules: Rules) -> Self {
        Rewriter {
            rules,
            options: Options::default(),
            observers: Observers::default(),
        }
    }

    /// Worker threads (0: all cores). The output does not depend on it.
    pub fn threads(mut self, n: usize) -> Self {
        self.options.threads = n;
        self
    }

    /// The dialect, when it should not be detected from the first
    /// statements.
    pub fn format(mut self, format: Format) -> Self {
        self.options.format = format;
        self
    }

    /// Go on when a pre-write check fails (UNIQUE collision, length) or a
    /// statement naming a renamed table cannot be parsed.
    pub fn force(mut self, on: bool) -> Self {
        self.options.force = on;
        self
    }

    /// A rule whose table is not in the dump is a warning, not an error.
    pub fn allow_missing(mut self, on: bool) -> Self {
        self.options.allow_missing = on;
        self
    }

    /// Accept a dump without its closing marker (a hand-made one).
    pub fn allow_truncated(mut self, on: bool) -> Self {
        self.options.allow_truncated = on;
        self
    }

    /// The largest single statement or COPY row accepted, in MiB (default
    /// 1024): a longer one is an error ([`Remedy::MaxRecordSize`]), not an
    /// unbounded buffer.
    ///
    /// [`Remedy::MaxRecordSize`]: crate::Remedy::MaxRecordSize
    pub fn max_record_size(mut self, mib: usize) -> Self {
        self.options.max_record = mib.max(1) << 20;
        self
    }

    /// The size of the chunks the dump is cut into for the workers, in
    /// bytes (tuning: the output does not depend on it).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.options.chunk_size = bytes.max(1);
        self
    }

    /// The columns, in order, of tables whose `CREATE TABLE` is not in the
    /// dump (a data-only dump), by table name as the dump has it: value
    /// rules on such a table need them.
    pub fn columns(mut self, columns: HashMap<Vec<u8>, Vec<Vec<u8>>>) -> Self {
        self.options.columns = columns;
        self
    }

    /// Gather the full report (every table's size, the places that
    /// mention an old name but that no rule rewrites, examples), which
    /// scans all the data: for a dry run.
    pub fn report(mut self, on: bool) -> Self {
        self.options.report = on;
        self
    }

    /// Gzip the output at `level` (1–9), one member per chunk.
    pub fn gzip(self, level: u32) -> Self {
        self.compress(OutputCompression::Gzip(level))
    }

    /// Compress the output (gzip, zstd or LZ4), one member or frame per
    /// chunk, compressed in parallel.
    pub fn compress(mut self, c: OutputCompression) -> Self {
        self.options.compress = Some(c);
        self
    }

    /// Tells `observer` the progress and, if it asks, every rewritten
    /// value (see [`Observer`]). Several observers may be added.
    pub fn observe(mut self, observer: impl Observer + 'p) -> Self {
        self.observers.0.push(Box::new(observer));
        self
    }

    /// Called with the input bytes done so far, after each chunk (an
    /// [`Observer`] of progress only).
    pub fn on_progress(self, f: impl FnMut(u64) + 'p) -> Self {
        self.observe(Progress(f))
    }

    /// Every rewritten value as CSV lines (table, column, line, byte
    /// offset, old, new) to `log`, without a header line (the
    /// [`CsvChangeLog`] observer).
    pub fn log_changes(self, log: impl Write + 'p) -> Self {
        self.observe(CsvChangeLog(log))
    }

    /// Rewrites `input` (plain, or gzip/zstd/LZ4-compressed: detected) into
    /// `output`. On an error, what was already written to `output` is not
    /// a valid dump: write to a temporary file and keep it only on `Ok`.
    /// `input` may borrow (no `'static`): the rewrite's threads end
    /// before this returns.
    pub fn run(self, input: impl Read + Send, output: impl Write) -> Result<Summary> {
        self.run_dump(Dump::from_reader(input)?, output)
    }

    /// Rewrites a plain dump opened as a [`Dump`] (or found by
    /// [`Source::open`](crate::Source::open)) into `output`, as
    /// [`Rewriter::run`] does.
    pub fn run_dump(self, dump: Dump<'_>, mut output: impl Write) -> Result<Summary> {
        job::rewrite(dump.0, &mut output, &self.rules, &self.options, self.observers)
    }

    /// Rewrites a pg_dump archive into an archive of the same format and
    /// compression at `output` (stdout for `None` or `-`; a directory for
    /// a directory-format archive), which appears only when whole; then
    /// writes every rewritten value to `change_log` as CSV lines (as
    /// [`CsvChangeLog`] does, without a header line). The observers are
    /// not told: an archive's entries are rewritten out of order.
    pub fn run_archive(
        self,
        archive: Archive,
        output: Option<&Path>,
        change_log: Option<&mut dyn Write>,
    ) -> Result<ArchiveSummary> {
        let edit = PlainEdit::new(&self.rules, &self.options).map_err(Error::Rule)?;
        run::write(edit, archive, output, change_log)
    }

    /// The whole rewrite of a pg_dump archive, written nowhere: its
    /// summary, with the report ([`ArchiveSummary::report`]) when
    /// [`Rewriter::report`] is on.
    pub fn report_archive(self, archive: Archive) -> Result<ArchiveSummary> {
        let edit = PlainEdit::new(&self.rules, &self.options).map_err(Error::Rule)?;
        run::report(edit, archive)
    }

    /// Whether the archive at `after` is exactly `before` rewritten (as
    /// [`Rewriter::run_archive`] writes it): `None`, or where the first
    /// difference is (byte offset, file, TOC entry).
    pub fn verify_archive(self, before: Archive, after: &Path) -> Result<(Option<String>, ArchiveSummary)> {
        let edit = PlainEdit::new(&self.rules, &self.options).map_err(Error::Rule)?;
        run::compare(edit, before, after)
    }
}
