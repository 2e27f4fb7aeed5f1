//! The `dumpsed` command: parses arguments and hands over to a subcommand.

use std::process::ExitCode;

use clap::Parser;

mod cmd;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    // A mapped input cut during the run ends the process from a signal
    // handler, whose message ends with this advice.
    dumpsed::set_mmap_advice("`dumpsed rewrite --no-mmap`");
    match cmd::run(cli) {
        Ok(code) => code,
        // Quiet, with the status a shell shows for a filter ended by SIGPIPE.
        Err(e) if e.is_broken_pipe() => ExitCode::from(141),
        Err(e) => {
            eprintln!("dumpsed: error: {}", cmd::message(&e));
            ExitCode::from(cmd::exit_code(&e))
        }
    }
}
