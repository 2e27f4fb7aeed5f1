//! `dumpsed rewrite`: the main job.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};

use dumpsed::job::{self, Format, Options, Summary};
use dumpsed::output::Output;
use dumpsed::{input, Error, Rules};

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

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Auto,
    Postgres,
    Sqlite,
}

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

    /// A built-in rule set: capa-to-sap.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

    /// Rename table OLD (optionally SCHEMA.OLD) to NEW. Repeatable.
    #[arg(long = "rename-table", value_name = "OLD=NEW")]
    pub rename_table: Vec<String>,

    /// Rewrite values of TABLE.COLUMN starting with FROM. Repeatable.
    #[arg(long = "rewrite", value_name = "TABLE.COLUMN:FROM=TO")]
    pub rewrite: Vec<String>,

    /// Rename a Django model as `manage.py migrate` does with RenameModel:
    /// its table, its many-to-many tables and their columns, the foreign
    /// keys' names, and the content type. Repeatable.
    #[arg(long = "django-model", value_name = "APP.OldModel=NewModel")]
    pub django_model: Vec<String>,

    /// Tables of the (single) --django-model whose model sets Meta.db_table.
    #[arg(long = "db-table", value_name = "OLD_TABLE=NEW_TABLE")]
    pub db_table: Option<String>,

    /// Add the django_migrations row of APP.MIGRATION, so that `migrate`
    /// after the restore has nothing left to do. Repeatable.
    #[arg(long = "mark-applied", value_name = "APP.MIGRATION")]
    pub mark_applied: Vec<String>,

    /// The `applied` time of --mark-applied rows (default: now, UTC).
    #[arg(long = "applied-at", value_name = "TIMESTAMP")]
    pub applied_at: Option<String>,

    /// Rename the model's permissions in place (as Django 6.0 does), so
    /// users and groups keep their grants; by default new permissions are
    /// added, as Django 5.2 does.
    #[arg(long = "rename-permissions")]
    pub rename_permissions: bool,

    /// Read rules from a TOML file (see the README); combined with the
    /// rules given as options.
    #[arg(long = "rules", value_name = "FILE.toml")]
    pub rules: Option<PathBuf>,

    /// Column order of TABLE, for INSERTs without a column list in a dump
    /// that has no CREATE TABLE for it (--data-only). Repeatable.
    #[arg(long = "columns", value_name = "TABLE=COL1,COL2,...")]
    pub columns: Vec<String>,

    /// Dump format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,

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

    /// Apply the rules backwards (new → old names, TO → FROM values): the
    /// rollback of an earlier rewrite.
    #[arg(long)]
    pub reverse: bool,

    /// Rewrite even when a check fails (e.g. the new table name already
    /// exists in the dump). Stated in the summary.
    #[arg(long)]
    pub force: bool,

    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

fn rules_of(args: &Args) -> Result<Rules, Error> {
    let mut rules = match &args.preset {
        Some(p) => Rules::preset(p)?,
        None => Rules::new(),
    };
    if let Some(path) = &args.rules {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        rules.extend(Rules::from_toml(&text)?)?;
    }
    if args.db_table.is_some() && args.django_model.len() != 1 {
        return Err(Error::Rule("--db-table goes with exactly one --django-model".into()));
    }
    for m in &args.django_model {
        rules.add_django_model(m, args.db_table.as_deref())?;
    }
    for r in &args.rename_table {
        rules.parse_rename(r)?;
    }
    for w in &args.rewrite {
        rules.parse_rewrite(w)?;
    }
    for m in &args.mark_applied {
        rules.add_mark_applied(m)?;
    }
    if let Some(at) = &args.applied_at {
        rules.set_applied_at(at)?;
    }
    if args.rename_permissions {
        rules.set_rename_permissions(true);
    }
    if args.reverse && !rules.mark_applied().is_empty() {
        return Err(Error::Rule("--mark-applied cannot be reversed; leave it out with --reverse".into()));
    }
    if rules.is_empty() {
        return Err(Error::Rule("no rules given: use --preset, --rename-table or --rewrite".into()));
    }
    Ok(if args.reverse { rules.reversed() } else { rules })
}

fn columns_of(args: &Args) -> Result<HashMap<Vec<u8>, Vec<Vec<u8>>>, Error> {
    let mut map = HashMap::new();
    for spec in &args.columns {
        let (t, cols) =
            spec.split_once('=').ok_or_else(|| Error::Rule(format!("{spec:?}: expected TABLE=COL1,COL2,...")))?;
        let cols: Vec<Vec<u8>> = cols.split(',').map(|c| c.trim().as_bytes().to_vec()).collect();
        if t.is_empty() || cols.iter().any(Vec::is_empty) {
            return Err(Error::Rule(format!("{spec:?}: expected TABLE=COL1,COL2,...")));
        }
        let table = t.rsplit('.').next().unwrap_or(t);
        map.insert(table.as_bytes().to_vec(), cols);
    }
    Ok(map)
}

fn gzip_level(args: &Args) -> Result<Option<u32>, Error> {
    match args.compress.as_deref() {
        None => Ok(args.output.as_ref().filter(|p| p.extension().is_some_and(|e| e == "gz")).map(|_| 6)),
        Some("none") => Ok(None),
        Some("gzip") => Ok(Some(6)),
        Some(s) => match s.strip_prefix("gzip:").and_then(|l| l.parse::<u32>().ok()) {
            Some(l) if (1..=9).contains(&l) => Ok(Some(l)),
            _ => Err(Error::Rule(format!("--compress {s:?}: expected none, gzip or gzip:LEVEL with LEVEL 1-9"))),
        },
    }
}

/// Runs `dumpsed rewrite`.
pub fn run(args: Args) -> Result<ExitCode, Error> {
    let rules = rules_of(&args)?;
    let options = Options {
        format: match args.format {
            FormatArg::Auto => Format::Auto,
            FormatArg::Postgres => Format::Postgres,
            FormatArg::Sqlite => Format::Sqlite,
        },
        threads: args.threads.unwrap_or(0),
        chunk_size: args.chunk_size.max(1) << 10,
        max_record: args.max_record_size.max(1) << 20,
        gzip: gzip_level(&args)?,
        columns: columns_of(&args)?,
        force: args.force,
    };
    let mut output = Output::open(args.output.as_deref(), args.input.as_deref())?;
    let src = input::open(args.input.as_deref())?;
    let bar = progress_bar(&args, src.size);
    let consumed = src.consumed.clone();
    let summary = job::rewrite(src, output.writer(), &rules, &options, |_| {
        if let Some(b) = &bar {
            b.set_position(consumed.load(std::sync::atomic::Ordering::Relaxed));
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // On error `output` is dropped here, which removes the temporary file.
    let summary = summary?;
    output.commit()?;
    if !args.quiet {
        print_summary(&summary);
        if args.force {
            eprintln!("  --force: checks that failed were overridden");
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
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
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
        eprintln!("  rewrote {} ({}): {} values", w.column, w.change, w.rewritten);
        if w.irreversible > 0 {
            eprintln!(
                "  warning: {} value(s) of {} would not come back with --reverse, e.g.:",
                w.irreversible, w.column
            );
            for (a, b) in &w.examples {
                eprintln!("    {a:?} → {b:?}");
            }
        }
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
