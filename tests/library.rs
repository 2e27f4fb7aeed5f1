//! The library's front door: `Rewriter` gives what the command gives.

mod common;

use common::*;
use dumpsed::{Rewriter, Rules};

#[test]
fn rewriter_gives_what_the_command_gives() {
    let want = ok(dumpsed()
        .args(["rewrite", "--quiet", "--preset", "capa-to-sap"])
        .arg(fixture("pg/before.sql")));
    for threads in [1, 2] {
        let mut out = Vec::new();
        let mut log = Vec::new();
        let mut ticks = 0;
        let summary = Rewriter::new(Rules::preset("capa-to-sap").expect("preset"))
            .threads(threads)
            .on_progress(|_| ticks += 1)
            .log_changes(&mut log)
            .run(std::fs::File::open(fixture("pg/before.sql")).expect("open"), &mut out)
            .expect("rewrite");
        assert!(out == want, "threads {threads}: output differs from the command's");
        assert_eq!(summary.rewrites[0].rewritten, 7);
        assert!(ticks > 0);
        assert_eq!(String::from_utf8_lossy(&log).lines().count(), 7, "one CSV line per value");
    }
    // Errors are typed: a rule for a table the dump lacks.
    let mut rules = Rules::new();
    rules.parse_rename("no_such=x").expect("rule");
    let err = Rewriter::new(rules)
        .run(std::fs::File::open(fixture("pg/before.sql")).expect("open"), std::io::sink())
        .expect_err("missing table");
    assert!(matches!(err, dumpsed::Error::Rule(_)), "{err}");
}
