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

/// `inspect` names the pg_dump archive it read (issue 25): its format, the
/// archive version its header records (`PGDMP` then major, minor, revision
/// bytes: `WriteHead` in pg_backup_archiver.c), the compression, and the
/// archive's own size on disk beside the size of the SQL text inside.
#[test]
fn inspect_names_the_archive_container_version_compression_and_size() {
    // (fixture, format, compression; fixtures/archive/README.md says how
    // each was made)
    let cases = [
        ("archive/before.dump", "custom", "gzip"),
        ("archive/before-v116.dump", "custom", "gzip"),
        ("archive/before-dir", "directory", "gzip"),
        ("archive/before.tar", "tar", "none"),
    ];
    for (rel, kind, compression) in cases {
        let path = fixture(rel);
        let (head, size) = if path.is_dir() {
            let size: u64 = std::fs::read_dir(&path)
                .expect("read_dir")
                .map(|e| e.expect("entry").metadata().expect("metadata").len())
                .sum();
            (std::fs::read(path.join("toc.dat")).expect("toc.dat"), size)
        } else {
            let bytes = std::fs::read(&path).expect("fixture");
            let size = bytes.len() as u64;
            // A tar archive's toc.dat member is its first, after one
            // 512-byte header block (pg_backup_tar.c).
            let at = if kind == "tar" { 512 } else { 0 };
            (bytes[at..].to_vec(), size)
        };
        assert_eq!(&head[..5], b"PGDMP", "{rel}");
        let version = format!("{}.{}-{}", head[5], head[6], head[7]);

        let text = String::from_utf8(ok(dumpsed().arg("inspect").arg(&path))).expect("utf8");
        assert!(!text.contains("plain dump"), "{rel}:\n{text}");
        let expect_format = format!("format:      pg_dump {kind} archive, archive version {version}\n");
        assert!(text.starts_with(&expect_format), "{rel}: want {expect_format:?} in:\n{text}");
        assert!(text.contains(&format!("\ncompression: {compression}\n")), "{rel}:\n{text}");
        assert!(
            text.contains(&format!("\nsize:        {size} bytes (the archive; ")),
            "{rel}: archive size {size} not reported:\n{text}"
        );

        let v: serde_json::Value =
            serde_json::from_slice(&ok(dumpsed().args(["inspect", "--json"]).arg(&path))).expect("json");
        assert_eq!(v["format"], format!("pg_dump {kind} archive"), "{rel}");
        assert_eq!(v["archive_version"], version, "{rel}");
        assert_eq!(v["compression"], compression, "{rel}");
        assert_eq!(v["bytes"], size, "{rel}");
        // The SQL text's size is the same whatever the container.
        let text_bytes = v["text_bytes"].as_u64().expect("text_bytes");
        assert!(
            text.contains(&format!("bytes (the archive; {text_bytes} bytes of SQL text in it)\n")),
            "{rel}:\n{text}"
        );
        assert!(text_bytes > 0, "{rel}");
    }
}

/// `inspect … | head -1`: the report's reader gone before it is written
/// (a pipe whose read end is closed, so every run meets it, not only the
/// ones where `head` wins the race) ends quietly with the status of a
/// filter ended by SIGPIPE, as a plain rewrite to stdout does, not with a
/// `failed printing to stdout` panic. For a plain dump and an archive, as
/// text and JSON, and for `rewrite --dry-run`, which prints the same report.
#[test]
fn inspect_into_a_closed_pipe_ends_quietly() {
    for input in ["pg/before.sql", "archive/before.dump"] {
        for (cmd, json) in [("inspect", false), ("inspect", true), ("rewrite --dry-run", false)] {
            let (reader, writer) = std::io::pipe().expect("pipe");
            drop(reader);
            let mut c = dumpsed();
            c.args(cmd.split(' ')).args(PLAIN);
            if json {
                c.arg("--json");
            }
            let res = run(c.arg(fixture(input)).stdout(writer));
            let err = String::from_utf8_lossy(&res.stderr);
            assert_eq!(res.status.code(), Some(141), "{cmd} {input} (json {json}): {err}");
            assert!(err.is_empty(), "{cmd} {input} (json {json}): a closed pipe is not an error to report: {err}");
        }
    }
    // And through a real `head -1`, whose status the shell sees as the
    // pipeline's (pipefail): 0, or 141 when head closed the pipe first.
    let script = format!(
        "set -o pipefail; {} inspect --rules fixtures/plain-sql-rename.toml {} | head -1 >/dev/null",
        env!("CARGO_BIN_EXE_dumpsed"),
        fixture("pg/before.sql").display()
    );
    let res = run(std::process::Command::new("bash").arg("-c").arg(script));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(matches!(res.status.code(), Some(0 | 141)), "{:?}: {err}", res.status);
    assert!(!err.contains("panicked"), "{err}");
}
