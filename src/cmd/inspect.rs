//! `dumpsed inspect`: what a rewrite would change, without writing.

use std::path::PathBuf;
use std::process::ExitCode;

use dumpsed::{Error, Rewriter, Source};

use super::report::{print_archive_report, print_report};
use super::rule_args::RuleArgs;

const AFTER_HELP: &str = "\
Reads the whole dump (nothing is written) and reports: format, encoding,
compression; each table's rows and bytes; for the rules, how many values
each would rewrite with examples, the kinds of statement where each table
name would change, values a later --reverse could not restore, and every
place that mentions an old name or a FROM text but that no rule rewrites
(free text, comments, function bodies, longer names such as old_pkey).

EXAMPLE:
  dumpsed inspect --preset capa-to-sap backup.sql.gz
  dumpsed inspect --preset capa-to-sap --json backup.sql | jq .rewrites";

/// Report what the rules would change in a dump; write nothing.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Dump to read (plain SQL, or gzip'd, or a pg_dump archive); `-` for stdin.
    pub input: Option<PathBuf>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,

    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Runs `dumpsed inspect`.
pub fn run(args: Args) -> Result<ExitCode, Error> {
    // No rules: just look at the dump.
    let rules = args.rules.rules_or_none()?;
    let rewriter = Rewriter::new(rules)
        .format(args.rules.format())
        .threads(args.threads.unwrap_or(0))
        .columns(args.rules.columns()?)
        .force(true)
        .report(true)
        .allow_missing(args.rules.allow_missing);
    match Source::open(args.input.as_deref(), true)? {
        Source::Archive(archive) => print_archive_report(&rewriter.report_archive(archive)?, args.json)?,
        Source::Plain(dump) => print_report(&rewriter.run_dump(dump, std::io::sink())?, args.json)?,
    }
    Ok(ExitCode::SUCCESS)
}
