//! `dumpsed rewrite`: the main job.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use dumpsed::job::{self, Options, Summary};
use dumpsed::output::Output;
use dumpsed::{input, Error};

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
  With stdout, bytes already written cannot be taken back: prefer -o FILE.

EXIT STATUS:
  0 done, 2 bad arguments or rules, 3 input not a dump or malformed,
  4 read/write failure, 5 output path refused.";

/// Rewrite a dump: rename tables, rewrite column values.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Dump to read (plain SQL, or gzip'd); `-` or nothing for stdin.
    pub input: Option<PathBuf>,

    /// Where to write; `-` or nothing for stdout. A name ending in .gz is
    /// gzip-compressed.
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

    /// Compress the output: `gzip` or `gzip:LEVEL` (1-9). Implied by an
    /// output name ending in .gz.
    #[arg(long, value_name = "gzip[:LEVEL]")]
    pub compress: Option<String>,

    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Largest single statement or COPY row accepted, in MiB.
    #[arg(long, value_name = "MiB", default_value_t = 1024)]
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
}

fn gzip_level(args: &Args) -> Result<Option<u32>, Error> {
    match args.compress.as_deref() {
        None => Ok(args
            .output
            .as_ref()
            .filter(|p| p.extension().is_some_and(|e| e == "gz"))
            .map(|_| 6)),
        Some("none") => Ok(None),
        Some("gzip") => Ok(Some(6)),
        Some(s) => match s.strip_prefix("gzip:").and_then(|l| l.parse::<u32>().ok()) {
            Some(l) if (1..=9).contains(&l) => Ok(Some(l)),
            _ => Err(Error::Rule(format!(
                "--compress {s:?}: expected none, gzip or gzip:LEVEL with LEVEL 1-9"
            ))),
        },
    }
}

/// Runs `dumpsed rewrite`.
pub fn run(args: Args) -> Result<ExitCode, Error> {
    let rules = args.rules.rules()?;
    let options = Options {
        format: args.rules.format(),
        threads: args.threads.unwrap_or(0),
        chunk_size: args.chunk_size.max(1) << 10,
        max_record: args.max_record_size.max(1) << 20,
        gzip: gzip_level(&args)?,
        columns: args.rules.columns()?,
        force: args.rules.force,
        report: args.dry_run,
        allow_missing: args.rules.allow_missing,
        allow_truncated: args.allow_truncated,
    };
    if args.dry_run {
        let src = input::open(args.input.as_deref())?;
        let summary = job::rewrite(src, &mut std::io::sink(), &rules, &options, |_| {})?;
        super::inspect::print_report(&summary, args.json);
        return Ok(ExitCode::SUCCESS);
    }
    let mut output = Output::open(args.output.as_deref(), args.input.as_deref())?;
    if args.no_sync {
        output = output.no_sync();
    }
    let mut log = match &args.log_changes {
        Some(p) => {
            let mut l = Output::open(Some(p), args.input.as_deref())?;
            if l.is_stdout() {
                return Err(Error::Rule("--log-changes needs a file name".into()));
            }
            l.writer()
                .write_all(b"table,column,line,byte_offset,old,new\n")
                .map_err(|e| Error::io("writing the change log", e))?;
            Some(l)
        }
        None => None,
    };
    let src = input::open(args.input.as_deref())?;
    let bar = progress_bar(&args, src.size);
    let consumed = src.consumed.clone();
    let summary = job::rewrite_logged(
        src,
        output.writer(),
        &rules,
        &options,
        |_| {
            if let Some(b) = &bar {
                b.set_position(consumed.load(std::sync::atomic::Ordering::Relaxed));
            }
        },
        log.as_mut().map(|l| l.writer()),
    );
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
        dumpsed::lexer::Dialect::Postgres => "PostgreSQL plain dump",
        dumpsed::lexer::Dialect::Sqlite => "SQLite dump",
    };
    eprintln!("dumpsed: {dialect} (compression: {})", s.compression);
    for (old, new, n) in &s.renames {
        eprintln!("  renamed table {old} → {new}: {n} references");
        if *n == 0 {
            eprintln!("  warning: table {old} does not appear in this dump; nothing was renamed");
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
            for (a, b, back) in &w.irreversible_examples {
                if a == b {
                    eprintln!("    {a:?} (kept) → --reverse would give {back:?}");
                } else {
                    eprintln!("    {a:?} → {b:?} → --reverse would give {back:?}");
                }
            }
        }
    }
    for w in &s.trigger_warnings {
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
