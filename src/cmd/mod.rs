//! Subcommands, one per file, each with its usage text beside it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use dumpsed::{Error, ErrorKind, Remedy, RuleKind};

pub mod completions;
pub mod inspect;
pub mod report;
pub mod rewrite;
pub mod rule_args;
pub mod verify;

/// Rewrite database dumps offline: rename tables and rewrite column values
/// in pg_dump plain output and sqlite3 .dump output, without a database.
#[derive(Debug, Parser)]
#[command(name = "dumpsed", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Rewrite(rewrite::Args),
    Inspect(inspect::Args),
    Verify(verify::Args),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions(completions::CompletionArgs),
    /// Print the man page (roff), generated from these definitions.
    Man(completions::ManArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Rewrite(args) => rewrite::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Exit status by kind of error (documented in the README):
/// 2 bad rules or arguments, 3 input that is not a readable dump or is
/// malformed, 4 I/O failure, 5 output refused, 6 a pre-write check failed.
pub fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::Rule => 2,
        ErrorKind::Input => 3,
        ErrorKind::Io => 4,
        ErrorKind::Output => 5,
        ErrorKind::Check => 6,
        // A kind added later: the status of a failure without a kind of its own.
        _ => 1,
    }
}

/// The error as the command says it: the library's message with the
/// command's advice (its flags) added.
pub fn message(e: &Error) -> String {
    match e {
        // Said with the flag that asked, as it always was.
        Error::Format { asked: Some(w), found: Some(d) } => format!(
            "--format asks for {} but the input looks like {}; use --format auto",
            w.dump_name(),
            d.dump_name()
        ),
        // The inner error as the command says it.
        Error::At { place, source } => format!("{place}: {}", message(source)),
        // Each rule said with the flag that gave it.
        Error::InvalidRule { rule, spec, why } => format!("invalid rule: {} {spec:?}: {why}", flag(*rule)),
        Error::Missing(v) => {
            let lines: Vec<String> = v
                .iter()
                .map(|m| {
                    let said = m.to_string();
                    let what = said.strip_prefix(&format!("{} {}: ", m.rule, m.name)).unwrap_or(&said);
                    let db_table = match (m.rule, &m.column) {
                        (RuleKind::DjangoModel, None) => " (use --db-table if the model sets Meta.db_table)",
                        _ => "",
                    };
                    format!("{} {}: {what}{db_table}", flag(m.rule), m.name)
                })
                .collect();
            format!("invalid rule: {}{}", lines.join("\n"), hint(e))
        }
        _ => format!("{e}{}", hint(e)),
    }
}

/// The flag that gives a rule of this kind.
pub fn flag(rule: RuleKind) -> &'static str {
    match rule {
        RuleKind::RenameTable => "--rename-table",
        RuleKind::RenameColumn => "--rename-column",
        RuleKind::Rewrite => "--rewrite",
        RuleKind::DjangoModel => "--django-model",
        RuleKind::DbTable => "--db-table",
        RuleKind::DjangoField => "--django-field",
        RuleKind::DjangoTable => "--django-table",
        RuleKind::MarkApplied => "--mark-applied",
        RuleKind::AppliedAt => "--applied-at",
        // A kind added later: said as the library says it.
        _ => "a rule",
    }
}

/// The command's advice for an error: the library says what went wrong and
/// which [`Remedy`] gets past it, the command names its flag (appended to
/// the message; empty when there is none).
pub fn hint(e: &Error) -> String {
    match (e.kind(), e.remedy()) {
        (ErrorKind::Check, Some(Remedy::Force)) => " (--force)".into(),
        (_, Some(Remedy::Force)) => " (use --force to rewrite anyway)".into(),
        (_, Some(Remedy::AllowTruncated)) => "; --allow-truncated rewrites it anyway".into(),
        (_, Some(Remedy::MaxRecordSize { suggested_mib })) => {
            format!(" (e.g. --max-record-size {suggested_mib})")
        }
        (_, Some(Remedy::DetectFormat)) => "; use --format auto".into(),
        (_, Some(Remedy::ChooseFormat)) => "; say which with --format postgres or --format sqlite".into(),
        (_, Some(Remedy::Columns { table })) => format!("; name them with --columns {table}=col1,col2,…"),
        (_, Some(Remedy::AddRules { renames, rewrites })) => {
            let flags: Vec<String> = renames
                .iter()
                .map(|r| format!("--rename-column {r}"))
                .chain(rewrites.iter().map(|r| format!("--rewrite {r}")))
                .collect();
            format!(": {}", flags.join(" "))
        }
        (_, Some(Remedy::RenameTable { table })) => format!("; as a flag: --rename-table {table}=NEW"),
        (_, Some(Remedy::AllowMissing)) => "\n(no output file was written — on stdout the output is already out: \
             discard it; --allow-missing turns this into a warning)"
            .into(),
        _ => String::new(),
    }
}
