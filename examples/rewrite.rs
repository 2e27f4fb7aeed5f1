//! A table rename and, optionally, a value rewrite through the library,
//! written atomically:
//!
//! ```sh
//! cargo run --example rewrite -- fixtures/pg-refs/before.sql /tmp/after.sql \
//!     city=town 'town.city:Bath=Bath Spa'
//! ```
//!
//! The rules take the command's spellings (`--rename-table OLD=NEW`,
//! `--rewrite TABLE.COLUMN:FROM=TO`); `Rules::add_rename` and
//! `Rules::add_rewrite` take the parts.
use dumpsed::{Rewriter, Rules};

fn main() {
    if let Err(e) = run() {
        eprintln!("rewrite: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [from, to, rename, rest @ ..] = &args[..] else {
        return Err("usage: rewrite BEFORE AFTER OLD=NEW [TABLE.COLUMN:FROM=TO]...".into());
    };
    let mut rules = Rules::new();
    rules.parse_rename(rename)?;
    for spec in rest {
        rules.parse_rewrite(spec)?;
    }
    // On an error the output is not a valid dump: write beside the target
    // and rename only on success, so AFTER is either whole or absent.
    let partial = format!("{to}.partial");
    let result = Rewriter::new(rules).run(std::fs::File::open(from)?, std::fs::File::create(&partial)?);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::rename(&partial, to)?;
    for r in &summary.rewrites {
        eprintln!("{} ({}): {} values rewritten", r.column, r.change, r.rewritten);
    }
    Ok(())
}
