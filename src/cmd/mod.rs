//! Subcommands, one per file, each with its usage text beside it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use dumpsed::{Error, ErrorKind, Remedy};

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
        _ => format!("{e}{}", hint(e)),
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
        _ => String::new(),
    }
}
