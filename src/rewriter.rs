//! The library's entry point: a [`Rewriter`] built from [`Rules`].

use std::io::{Read, Write};

use crate::error::Result;
use crate::job::{self, Format, Options, Summary};
use crate::pipeline::OutputCompression;
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
    pub fn run(self, input: impl Read + Send + 'static, mut output: impl Write) -> Result<Summary> {
        let src = crate::input::from_reader(Box::new(input), None)?;
        job::rewrite(src, &mut output, &self.rules, &self.options, self.observers)
    }
}
