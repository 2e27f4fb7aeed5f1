//! `dumpsed rewrite`: the main job.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use dumpsed::{Archive, ArchiveSummary, CsvChangeLog, Dialect, Error, Output, OutputCompression, Progress};
use dumpsed::{Rewriter, Source, Summary};

use super::report::{print_archive_report, print_report};
use super::rule_args::RuleArgs;

const AFTER_HELP: &str = "\
EXAMPLES:
  # The seed migration (table rename + CAPA- → SAP- reference numbers):
  dumpsed rewrite --preset capa-to-sap before.sql -o after.sql

  # Straight from pg_dump into a new database:
  pg_dump -d prod | dumpsed rewrite --preset capa-to-sap | psql -d restored

  # Any other rename, gzip in and out:
  dumpsed rewrite backup.sql.gz -o renamed.sql.gz \\
      --rename-table public.app_widget=app_gadget \\
      --rewrite app_gadget.code:WID-=GAD-

RULES:
  --rename-table renames a whole table name wherever PostgreSQL or SQLite
  would on ALTER TABLE ... RENAME TO (definitions, foreign keys, indexes,
  views, triggers, grants, COPY/INSERT headers, pg_dump's header comments),
  and never inside strings, comments, function bodies or longer names.
  --rewrite TABLE.COLUMN:FROM=TO changes values of that column that start
  with FROM, replacing every FROM in them by TO (like Python's
  startswith + replace); NULLs and other values are left alone. TABLE may
  be named by its old or new name.

OUTPUT:
  A file is written to a temporary file beside it and renamed into place
  only when the whole dump was rewritten; on any error no file is left.
  A directory-format archive is built in a hidden .dumpsed-stage-*.tmp
  directory beside -o: SIGINT/SIGTERM remove it, and what a killed run
  left is removed by the next directory rewrite in the same place.
  With stdout, bytes already written cannot be taken back: prefer -o FILE.

EXIT STATUS:
  0 done, 2 bad arguments or rules, 3 input not a dump or malformed,
  4 read/write failure, 5 output path refused.";

/// Rewrite a dump: rename tables, rewrite column values.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Dump to read (plain SQL, gzip/zstd/LZ4-compressed, or a pg_dump
    /// archive); `-` or nothing for stdin.
    pub input: Option<PathBuf>,

    /// Where to write; `-` or nothing for stdout. A name ending in .gz,
    /// .zst or .lz4 is compressed so.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Print what would change (as `dumpsed inspect` does) and write nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Rewrite a dump that lacks its closing marker (pg_dump's "dump
    /// complete" comment or `\unrestrict`, `.dump`'s COMMIT;), e.g. a
    /// hand-made one; by default such a dump is refused as truncated.
    #[arg(long = "allow-truncated")]
    pub allow_truncated: bool,

    /// With --dry-run: the report as JSON.
    #[arg(long, requires = "dry_run")]
    pub json: bool,

    /// Also write every rewritten value to FILE.csv (table, column, line,
    /// byte offset, old value, new value).
    #[arg(long = "log-changes", value_name = "FILE.csv")]
    pub log_changes: Option<PathBuf>,

    /// Compress the output: `gzip[:LEVEL]` (1-9, default 6),
    /// `zstd[:LEVEL]` (1-19, default 3), `lz4` or `none`. Implied by an
    /// output name ending in .gz, .zst or .lz4.
    #[arg(long, value_name = "ALG[:LEVEL]")]
    pub compress: Option<String>,

    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Largest single statement or COPY row accepted, in MiB (1 to
    /// 1048576, i.e. 1 TiB).
    #[arg(long, value_name = "MiB", default_value_t = 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_RECORD_MIB))]
    pub max_record_size: usize,

    /// Chunk size in KiB (tuning; output does not depend on it).
    #[arg(long, value_name = "KiB", default_value_t = 2048, hide = true)]
    pub chunk_size: usize,

    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// Do not fsync the output before renaming it into place (pg_dump's
    /// option of that name): faster, for scratch outputs; a crash can then
    /// leave a partly written file at OUTPUT.
    #[arg(long = "no-sync")]
    pub no_sync: bool,

    /// Read the input with read(2) instead of mapping it into memory
    /// (mmap). A plain, uncompressed input file is mapped by default, which
    /// saves copying it out of the page cache; the output is the same.
    #[arg(long = "no-mmap")]
    pub no_mmap: bool,
}

/// The largest `--max-record-size`: 1 TiB, far beyond any real row, and
/// small enough that the limit in bytes (and the reader's advice of four
/// times it) fits in 64 bits.
const MAX_RECORD_MIB: u64 = 1 << 20;

/// The output's compression: `--compress`, else the `-o` name's suffix
/// (`.gz`, `.zst`, `.lz4`), else none.
fn output_compression(args: &Args) -> Result<Option<OutputCompression>, Error> {
    let spec = match args.compress.as_deref() {
        Some(s) => s.to_string(),
        None => {
            let ext = args.output.as_ref().and_then(|p| p.extension()).and_then(|e| e.to_str());
            match ext {
                Some("gz") => "gzip".into(),
                Some("zst") => "zstd".into(),
                Some("lz4") => "lz4".into(),
                _ => return Ok(None),
            }
        }
    };
    let (alg, given) = match spec.split_once(':') {
        Some((a, l)) => (a, Some(l)),
        None => (spec.as_str(), None),
    };
    let bad = || {
        Error::Rule(format!(
            "--compress {spec:?}: expected none, gzip[:LEVEL] (1-9), zstd[:LEVEL] (1-19) or lz4"
        ))
    };
    let level = |range: std::ops::RangeInclusive<i64>, default: i64| -> Result<i64, Error> {
        match given {
            None => Ok(default),
            Some(l) => l.parse::<i64>().ok().filter(|l| range.contains(l)).ok_or_else(bad),
        }
    };
    Ok(match alg {
        "none" if given.is_none() => None,
        "gzip" => Some(OutputCompression::Gzip(level(1..=9, 6)? as u32)),
        // zstd's own default level, as pg_dump -Z zstd uses it.
        "zstd" => Some(OutputCompression::Zstd(level(1..=19, 3)? as i32)),
        "lz4" if given.is_none() => Some(OutputCompression::Lz4),
        _ => return Err(bad()),
    })
}

/// Runs `dumpsed rewrite`.
pub fn run(args: Args) -> Result<ExitCode, Error> {
    let rules = args.rules.rules()?;
    let compress = output_compression(&args)?;
    let mut rewriter = Rewriter::new(rules)
        .format(args.rules.format())
        .threads(args.threads.unwrap_or(0))
        .chunk_size(args.chunk_size.max(1) << 10)
        .max_record_size(args.max_record_size)
        .columns(args.rules.columns()?)
        .force(args.rules.force)
        .report(args.dry_run)
        .allow_missing(args.rules.allow_missing)
        .allow_truncated(args.allow_truncated);
    if let Some(c) = compress {
        rewriter = rewriter.compress(c);
    }
    let src = match Source::open(args.input.as_deref(), !args.no_mmap)? {
        Source::Archive(archive) => return run_archive(&args, rewriter, archive),
        Source::Plain(src) => src,
    };
    if args.dry_run {
        print_report(&rewriter.run_dump(src, std::io::sink())?, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut output = Output::open(args.output.as_deref(), args.input.as_deref())?;
    if args.no_sync {
        output = output.no_sync();
    }
    let mut log = match &args.log_changes {
        Some(p) => Some(open_change_log(&args, p)?),
        None => None,
    };
    let bar = progress_bar(&args, src.size());
    let consumed = src.bytes_read();
    let tick = Progress(|_| {
        if let Some(b) = &bar {
            b.set_position(consumed.load(std::sync::atomic::Ordering::Relaxed));
        }
    });
    let mut rewriter = rewriter.observe(tick);
    if let Some(l) = log.as_mut() {
        rewriter = rewriter.log_changes(l.writer());
    }
    let summary = rewriter.run_dump(src, output.direct()?);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // On error `output` and `log` are dropped here, which removes their
    // temporary files.
    let summary = summary?;
    output.commit()?;
    if let Some(l) = log {
        l.commit()?;
    }
    if !args.quiet {
        print_summary(&summary);
        if args.rules.force {
            eprintln!("  --force: failed checks were overridden");
            for p in &summary.problems {
                eprintln!("    {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--log-changes` file, opened (a file, not stdout), its CSV header
/// written.
fn open_change_log(args: &Args, p: &Path) -> Result<Output, Error> {
    let mut l = Output::open(Some(p), args.input.as_deref())?;
    if l.is_stdout() {
        return Err(Error::Rule("--log-changes needs a file name".into()));
    }
    l.writer()
        .write_all(CsvChangeLog::<std::io::Sink>::HEADER)
        .map_err(|e| Error::io("writing the change log", e))?;
    Ok(l)
}

/// `dumpsed rewrite` of a pg_dump archive: the output has the input's
/// format and compression.
fn run_archive(args: &Args, rewriter: Rewriter<'_>, input: Archive) -> Result<ExitCode, Error> {
    if args.compress.is_some() {
        return Err(Error::Rule(
            "--compress does not apply to pg_dump archives: the output keeps the archive's compression".into(),
        ));
    }
    if args.dry_run {
        print_archive_report(&rewriter.report_archive(input)?, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Written once the archive is in place (on error `log` is dropped,
    // which removes its temporary file).
    let mut log = match &args.log_changes {
        Some(p) => Some(open_change_log(args, p)?),
        None => None,
    };
    let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
    if input.format() == "directory" && output.is_none() {
        return Err(Error::Rule(
            "a directory-format archive is written to a directory: give -o DIR".into(),
        ));
    }
    let summary = rewriter.run_archive(input, args.output.as_deref(), log.as_mut().map(|l| l.writer()))?;
    if let Some(l) = log {
        l.commit()?;
    }
    print_archive_summary(args, &summary);
    Ok(ExitCode::SUCCESS)
}

fn print_archive_summary(args: &Args, s: &ArchiveSummary) {
    if !args.quiet {
        eprintln!(
            "dumpsed: pg_dump {} archive, version {}, compression {}: {} TOC entries, {} data blocks ({} rewritten, the rest copied)",
            s.format, s.version, s.compression, s.entries, s.blocks, s.blocks_edited
        );
        for r in &s.renames {
            eprintln!("  renamed table {} → {}: {} references", r.old, r.new, r.references);
        }
        for w in &s.rewrites {
            eprintln!("  rewrote {}: {} values", w.rule, w.rewritten);
            if w.irreversible > 0 {
                eprintln!("  warning: {} value(s) of {} would not come back with --reverse", w.irreversible, w.rule);
            }
        }
        for a in &s.added {
            eprintln!("  {a}");
        }
        for w in &s.warnings {
            eprintln!("  warning: {w}");
        }
        eprintln!("  {} bytes in, {} bytes out", s.bytes_in, s.bytes_out);
    }
}

fn progress_bar(args: &Args, size: Option<u64>) -> Option<ProgressBar> {
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match size {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn print_summary(s: &Summary) {
    let dialect = match s.dialect {
        Dialect::Postgres => "PostgreSQL plain dump",
        Dialect::Sqlite => "SQLite dump",
    };
    eprintln!("dumpsed: {dialect} (compression: {})", s.compression);
    for r in &s.renames {
        eprintln!("  renamed table {} → {}: {} references", r.old, r.new, r.references);
        if r.references == 0 {
            eprintln!("  warning: table {} does not appear in this dump; nothing was renamed", r.old);
        }
    }
    for w in &s.rewrites {
        eprintln!(
            "  rewrote {} ({}): {} values",
            w.column, w.change, w.rewritten
        );
        if w.irreversible > 0 {
            eprintln!(
                "  warning: {} value(s) of {} would not come back with --reverse, e.g.:",
                w.irreversible, w.column
            );
            for e in &w.irreversible_examples {
                let (a, b, back) = (&e.input, &e.output, &e.reversed);
                if a == b {
                    eprintln!("    {a} (kept) → --reverse would give {back}");
                } else {
                    eprintln!("    {a} → {b} → --reverse would give {back}");
                }
            }
        }
    }
    for w in s.trigger_warnings.iter().chain(&s.warnings) {
        eprintln!("  warning: {w}");
    }
    if s.allow_truncated {
        eprintln!("  note: --allow-truncated: the dump was not checked for its closing marker");
    }
    if !s.forced.is_empty() {
        let at: Vec<String> = s.forced.iter().map(|b| format!("byte {b}")).collect();
        eprintln!(
            "  warning: --force passed through unchanged statements that PostgreSQL's parser rejects \
             and that mention renamed names, at: {}",
            at.join(", ")
        );
    }
    if s.check_incomplete {
        eprintln!(
            "  note: over 20000 values that --reverse could not restore; a collision among the \
             others would be found but not named"
        );
    }
    let secs = s.elapsed.as_secs_f64();
    let mib = s.bytes_in as f64 / (1 << 20) as f64;
    eprintln!(
        "  {} bytes in, {} bytes out, {:.2} s ({:.0} MiB/s, {} threads)",
        s.bytes_in,
        s.bytes_out,
        secs,
        if secs > 0.0 { mib / secs } else { 0.0 },
        s.threads
    );
}
