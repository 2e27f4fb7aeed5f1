//! `dumpsed inspect`: what a rewrite would change, without writing.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use dumpsed::internals::job::{self, Options, Summary};
use dumpsed::internals::lexer::Dialect;
use dumpsed::Error;

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
    let options = Options {
        format: args.rules.format(),
        threads: args.threads.unwrap_or(0),
        columns: args.rules.columns()?,
        force: true,
        report: true,
        allow_missing: args.rules.allow_missing,
        ..Options::default()
    };
    if let Some(archive) = super::rewrite::open_archive(args.input.as_deref())? {
        let mut edit = dumpsed::internals::archive::plain::PlainEdit::new(&rules, &options).map_err(Error::Rule)?;
        return super::rewrite::dry_run_archive(archive, &mut edit, args.json);
    }
    let src = super::rewrite::plain_input_at(args.input.as_deref(), true)?;
    let summary = job::rewrite(src, &mut std::io::sink(), &rules, &options, ())?;
    print_report(&summary, args.json);
    Ok(ExitCode::SUCCESS)
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL plain dump",
        Dialect::Sqlite => "SQLite dump",
    }
}

/// Prints a report to stdout, as text or JSON.
pub fn print_report(s: &Summary, as_json: bool) {
    let encoding = s.encoding.clone().unwrap_or_else(|| match s.dialect {
        Dialect::Sqlite => "UTF-8 (SQLite dumps are UTF-8)".into(),
        Dialect::Postgres => "not declared".into(),
    });
    if as_json {
        let v = json!({
            "format": dialect_name(s.dialect),
            "encoding": encoding,
            "compression": s.compression.to_string(),
            "versions": s.versions,
            "triggers": s.triggers.iter().map(|(t, n, e)| json!({"table": t, "trigger": n, "events": e})).collect::<Vec<_>>(),
            "warnings": s.trigger_warnings,
            "bytes": s.bytes_in,
            "tables": s.tables.iter().map(|(t, r, b)| json!({"table": t, "rows": r, "bytes": b})).collect::<Vec<_>>(),
            "renames": s.renames.iter().map(|(o, n, c)| json!({"old": o, "new": n, "references": c})).collect::<Vec<_>>(),
            "renamed_in": s.renamed_in.iter().map(|(k, c)| json!({"statement": k, "count": c})).collect::<Vec<_>>(),
            "rewrites": s.rewrites.iter().map(|w| json!({
                "column": w.column, "change": w.change, "values": w.rewritten,
                "examples": w.examples, "irreversible": w.irreversible,
                "irreversible_examples": w.irreversible_examples,
            })).collect::<Vec<_>>(),
            "left_alone": s.left_alone.iter().map(|(k, c)| json!({"where": k, "count": c})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    println!("format:      {}", dialect_name(s.dialect));
    println!("encoding:    {encoding}");
    println!("compression: {}", s.compression);
    println!("size:        {} bytes", s.bytes_in);
    if let Some(v) = &s.versions {
        println!("dumped by:   {v}");
    }
    println!("\ntables (rows, bytes of data):");
    for (t, rows, bytes) in &s.tables {
        println!("  {t:<60} {rows:>10} {bytes:>14}");
    }
    if !s.triggers.is_empty() {
        println!("\ntriggers (table, trigger, events):");
        for (t, n, e) in &s.triggers {
            println!("  {t:<40} {n:<30} {e}");
        }
    }
    for w in &s.trigger_warnings {
        println!("\nwarning: {w}");
    }
    println!("\nrenames:");
    for (old, new, n) in &s.renames {
        println!("  {old} → {new}: {n} references");
    }
    for (kind, n) in &s.renamed_in {
        println!("    in {kind}: {n}");
    }
    println!("\nvalue rewrites:");
    for w in &s.rewrites {
        println!("  {} ({}): {} values", w.column, w.change, w.rewritten);
        for (a, b) in &w.examples {
            println!("    {a} → {b}");
        }
        if w.irreversible > 0 {
            println!(
                "  warning: {} value(s) would not come back with --reverse, e.g.:",
                w.irreversible
            );
            for (a, b, back) in &w.irreversible_examples {
                if a == b {
                    println!("    {a:?} (kept) → --reverse would give {back:?}");
                } else {
                    println!("    {a:?} → {b:?} → --reverse would give {back:?}");
                }
            }
        }
    }
    println!("\nleft alone (mention an old name or a FROM text; no rule rewrites them):");
    if s.left_alone.is_empty() {
        println!("  nothing");
    }
    for (what, n) in &s.left_alone {
        println!("  {what}: {n}");
    }
}
