//! `dumpsed completions SHELL` and `dumpsed man`: shell completions and a
//! man page generated from the same clap definitions as the parser, so they
//! cannot drift from the options.

use std::process::ExitCode;

use clap::CommandFactory;

use dumpsed::Error;

/// Print shell completions (bash, zsh, fish, elvish, powershell).
#[derive(Debug, clap::Args)]
#[command(after_help = "INSTALL:\n  dumpsed completions bash > ~/.local/share/bash-completion/completions/dumpsed\n  dumpsed completions zsh > ~/.zfunc/_dumpsed\n  dumpsed completions fish > ~/.config/fish/completions/dumpsed.fish")]
pub struct CompletionArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// Print the man page (roff) of dumpsed and its subcommands.
#[derive(Debug, clap::Args)]
#[command(after_help = "INSTALL:\n  dumpsed man > ~/.local/share/man/man1/dumpsed.1   (then: man dumpsed)")]
pub struct ManArgs {}

/// Runs `dumpsed completions`.
pub fn completions(args: CompletionArgs) -> Result<ExitCode, Error> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "dumpsed", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// Runs `dumpsed man`: the main page, then one section per subcommand.
pub fn man(_args: ManArgs) -> Result<ExitCode, Error> {
    let cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .map_err(|e| Error::io("rendering the man page", e))?;
    for sub in cmd.get_subcommands() {
        // `dumpsed-rewrite(1)` etc.: a leaked name lives as long as the page.
        let name: &'static str = Box::leak(format!("dumpsed-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone().name(name))
            .render(&mut out)
            .map_err(|e| Error::io("rendering the man page", e))?;
    }
    use std::io::Write;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| Error::io("writing the man page", e))?;
    Ok(ExitCode::SUCCESS)
}
