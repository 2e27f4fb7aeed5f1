//! Checks before anything is written: a rewritten value that would break a
//! UNIQUE column or a varchar(N) stops the run (exit 6) and leaves no
//! output file; `--force` goes on and says so.

mod common;

use common::*;

const PLAIN: &[&str] = &["--rules", "fixtures/plain-sql-rename.toml"];

fn edited_fixture(rel: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(std::fs::read(fixture(rel)).expect("fixture")).expect("utf8");
    assert!(text.contains(from), "{from:?} not in {rel}");
    text.replacen(from, to, 1).into_bytes()
}

fn run_on(input: &[u8], extra: &[&str]) -> (std::process::Output, bool) {
    let dir = scratch();
    let (inp, out) = (dir.path().join("in.sql"), dir.path().join("out.sql"));
    std::fs::write(&inp, input).expect("write");
    let res = run(dumpsed()
        .arg("rewrite")
        .args(PLAIN)
        .args(extra)
        .arg(&inp)
        .arg("-o")
        .arg(&out));
    (res, out.exists())
}

/// CAPA-2026-050 would become SAP-2026-050, which the table already has:
/// the live UPDATE would fail on the unique key (pg: ALTER TABLE … UNIQUE
/// after the data; SQLite: UNIQUE in CREATE TABLE).
#[test]
fn unique_collision_is_refused_in_both_dialects() {
    for (rel, from, to) in [
        (
            "pg/before.sql",
            "\n8\tCAPA-2026-003\t",
            "\n8\tCAPA-2026-050\t",
        ),
        (
            "pg/before-column-inserts.sql",
            "(8, 'CAPA-2026-003',",
            "(8, 'CAPA-2026-050',",
        ),
        (
            "sqlite/before.sql",
            "VALUES(8,'CAPA-2026-003'",
            "VALUES(8,'CAPA-2026-050'",
        ),
    ] {
        let input = edited_fixture(rel, from, to);
        let (res, written) = run_on(&input, &[]);
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(6), "{rel}: {err}");
        assert!(!written, "{rel}: output written despite the collision");
        assert!(
            err.contains("is UNIQUE") && err.contains("\"SAP-2026-050\""),
            "{rel}: {err}"
        );
        let (res, written) = run_on(&input, &["--force"]);
        assert!(
            res.status.success() && written,
            "{rel}: --force did not go on"
        );
        assert!(
            String::from_utf8_lossy(&res.stderr).contains("--force: failed checks were overridden")
        );
    }
}

#[test]
fn no_false_alarm_on_the_fixtures() {
    for rel in [
        "pg/before.sql",
        "pg/before-inserts.sql",
        "sqlite/before.sql",
    ] {
        let (res, written) = run_on(&std::fs::read(fixture(rel)).expect("fixture"), &[]);
        assert!(
            res.status.success() && written,
            "{rel}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
}

/// `--reverse` lengthens SAP- to CAPA-: a 20-character SAP reference no
/// longer fits reference_number varchar(20).
#[test]
fn reverse_that_overflows_varchar_is_refused() {
    let input = edited_fixture(
        "pg/after-live.sql",
        "\tSAP-2026-001\t",
        "\tSAP-2026-00000000001\t",
    );
    let (res, written) = run_on(&input, &["--reverse"]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(6), "{err}");
    assert!(!written);
    assert!(
        err.contains("longer than the column allows") && err.contains("CAPA-2026-00000000001"),
        "{err}"
    );
}
