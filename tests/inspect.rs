//! `inspect`, `rewrite --dry-run` and `--log-changes`: what will change is
//! visible before anything is written, and every change is accounted for.

mod common;

use common::*;

const PLAIN: &[&str] = &["--rules", "fixtures/plain-sql-rename.toml"];

#[test]
fn inspect_reports_tables_changes_and_what_is_left_alone() {
    let out = String::from_utf8(ok(dumpsed()
        .arg("inspect")
        .args(PLAIN)
        .arg(fixture("pg/before.sql"))))
    .expect("utf8");
    assert!(out.contains("format:      PostgreSQL plain dump"), "{out}");
    assert!(out.contains("encoding:    UTF8"), "{out}");
    let capa_rows = out
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("incident_safety_correctivepreventiveaction ")
        })
        .expect("table line");
    assert_eq!(
        capa_rows.split_whitespace().nth(1),
        Some("11"),
        "{capa_rows}"
    );
    assert!(out.contains("(CAPA- → SAP-): 7 values"), "{out}");
    assert!(out.contains("CAPA-2026-001 → SAP-2026-001"), "{out}");
    assert!(
        out.contains("\"SAP-2026-050\" (kept) → --reverse would give \"CAPA-2026-050\""),
        "irreversible value not listed with what --reverse makes of it: {out}"
    );
    for left in [
        "function body ($…$) in CREATE FUNCTION",
        "name incident_safety_correctivepreventiveaction_pkey in ALTER TABLE",
        "data in incident_safety_correctivepreventiveaction.notes",
    ] {
        assert!(out.contains(left), "missing {left:?} in:\n{out}");
    }
    assert!(
        out.contains("in CREATE VIEW") || out.contains("in CREATE TABLE"),
        "{out}"
    );
}

#[test]
fn json_report_and_dry_run_agree_and_write_nothing() {
    let dir = scratch();
    let target = dir.path().join("never.sql");
    let dry = ok(dumpsed()
        .args(["rewrite", "--dry-run", "--json"])
        .args(PLAIN)
        .arg(fixture("sqlite/before.sql"))
        .arg("-o")
        .arg(&target));
    assert!(!target.exists(), "--dry-run wrote the output");
    let inspect = ok(dumpsed()
        .args(["inspect", "--json"])
        .args(PLAIN)
        .arg(fixture("sqlite/before.sql")));
    let v: serde_json::Value = serde_json::from_slice(&dry).expect("json");
    let w: serde_json::Value = serde_json::from_slice(&inspect).expect("json");
    assert_eq!(v, w);
    assert_eq!(v["format"], "SQLite dump");
    assert_eq!(v["rewrites"][0]["values"], 7);
    assert_eq!(v["renames"][0]["new"], "incident_safety_safetyactionplan");
}

#[test]
fn log_changes_lists_every_rewritten_value_where_it_is() {
    let dir = scratch();
    let (out, log) = (dir.path().join("out.sql"), dir.path().join("changes.csv"));
    ok(dumpsed()
        .args(["rewrite", "--quiet"])
        .args(PLAIN)
        .arg(fixture("pg/before.sql"))
        .arg("-o")
        .arg(&out)
        .arg("--log-changes")
        .arg(&log));
    let input =
        String::from_utf8(std::fs::read(fixture("pg/before.sql")).expect("fixture")).expect("utf8");
    let lines: Vec<&str> = input.lines().collect();
    let csv = std::fs::read_to_string(&log).expect("log");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 7, "{csv}");
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(
            &f[..2],
            [
                "incident_safety_correctivepreventiveaction",
                "reference_number"
            ]
        );
        let line: usize = f[2].parse().expect("line");
        let offset: usize = f[3].parse().expect("offset");
        assert!(
            lines[line - 1].contains(&format!("\t{}\t", f[4].replace('\\', "\\\\"))),
            "{row}"
        );
        assert!(
            input[offset..].starts_with(lines[line - 1]),
            "{row}: offset is not the row start"
        );
        assert!(f[5].starts_with("SAP-"));
    }
}

/// `--format auto` tells every fixture's dialect from its first statements.
#[test]
fn format_auto_picks_right_on_every_fixture() {
    for (rel, want) in [
        ("pg/before.sql", "PostgreSQL plain dump"),
        ("pg/before-inserts.sql", "PostgreSQL plain dump"),
        ("pg/before-column-inserts.sql", "PostgreSQL plain dump"),
        ("django/pg/before.sql", "PostgreSQL plain dump"),
        ("sqlite/before.sql", "SQLite dump"),
        ("django/sqlite/before.sql", "SQLite dump"),
    ] {
        let out = String::from_utf8(ok(dumpsed().arg("inspect").args(PLAIN).arg(fixture(rel))))
            .expect("utf8");
        assert!(
            out.starts_with(&format!("format:      {want}\n")),
            "{rel}: {out}"
        );
    }
}

/// `inspect DUMP` with no rules just looks: format, versions, tables,
/// triggers. With rules that rewrite a table with UPDATE triggers, inspect
/// and the rewrite summary warn that the offline rewrite does not run them.
#[test]
fn inspect_without_rules_and_update_trigger_warnings() {
    let out = String::from_utf8(ok(dumpsed()
        .args(["inspect"])
        .arg(fixture("pg/before.sql"))))
    .expect("utf8");
    assert!(out.contains("format:      PostgreSQL plain dump"), "{out}");
    assert!(out.contains("dumped by:   server 15."), "{out}");
    assert!(out.contains("incident_safety_correctivepreventiveaction_validate INSERT UPDATE"), "{out}");
    assert!(!out.contains("warning:"), "{out}");
    let out = String::from_utf8(ok(dumpsed()
        .args(["inspect", "--preset", "capa-to-sap"])
        .arg(fixture("pg/before.sql"))))
    .expect("utf8");
    assert!(out.contains("has UPDATE trigger(s) incident_safety_correctivepreventiveaction_validate"), "{out}");
    let dir = scratch();
    let o = run(dumpsed()
        .args(["rewrite", "--preset", "capa-to-sap"])
        .arg(fixture("pg/before.sql"))
        .arg("-o")
        .arg(dir.path().join("out.sql")));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("this offline rewrite does not"));
    let json: serde_json::Value = serde_json::from_slice(&ok(dumpsed()
        .args(["inspect", "--json"])
        .arg(fixture("sqlite/before.sql"))))
    .expect("json");
    assert_eq!(json["format"], "SQLite dump");
    assert!(json["tables"].as_array().is_some_and(|t| !t.is_empty()), "{json}");
}

/// `--log-changes` on a multi-row INSERT dump (`--rows-per-insert=3`): each
/// change names the line of its own tuple, which holds the old value.
#[test]
fn log_changes_name_each_tuples_own_line() {
    let dir = scratch();
    let log = dir.path().join("changes.csv");
    let input = fixture("pg/before-column-inserts.sql");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml", "--log-changes"])
        .arg(&log)
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("out.sql")));
    let text = std::fs::read_to_string(&input).expect("fixture");
    let lines: Vec<&str> = text.lines().collect();
    let csv = std::fs::read_to_string(&log).expect("log");
    let mut seen = std::collections::HashSet::new();
    for row in csv.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (line, old) = (f[2].parse::<usize>().expect("line"), f[4].trim_matches('"'));
        // The log holds the value; the dump, its SQL literal.
        let literal = old.replace('\'', "''");
        assert!(lines[line - 1].contains(&literal), "line {line} lacks {old}: {}", lines[line - 1]);
        seen.insert(line);
    }
    assert!(seen.len() > 2, "changes on distinct lines expected: {csv}");
}
