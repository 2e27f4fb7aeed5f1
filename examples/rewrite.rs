//! The guide's migration (CAPA → Safety Action Plan) on a dump, as a
//! program: `cargo run --example rewrite -- before.sql after.sql`.
use dumpsed::{Rewriter, Rules};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(from), Some(to)) = (args.next(), args.next()) else { return Err("usage: rewrite BEFORE AFTER".into()) };
    let (input, output) = (std::fs::File::open(from)?, std::fs::File::create(to)?);
    let summary = Rewriter::new(Rules::preset("capa-to-sap")?).run(input, output)?;
    eprintln!("{} reference numbers rewritten", summary.rewrites[0].rewritten);
    Ok(())
}
