//! Bad input: every failure names the line and byte offset, exits with the
//! documented status, and leaves no output file behind. The input is never
//! modified.

mod common;

use common::*;

struct Failure {
    code: i32,
    stderr: String,
}

/// Runs `dumpsed rewrite --rules fixtures/plain-sql-rename.toml INPUT -o OUT` and expects it
/// to fail without leaving OUT (or any temporary file) behind.
fn fails(input: &[u8], extra: &[&str]) -> Failure {
    let dir = scratch();
    let inp = dir.path().join("in.sql");
    std::fs::write(&inp, input).expect("write input");
    let out = dir.path().join("out.sql");
    let res = run(dumpsed()
        .args(["rewrite", "--rules", "fixtures/plain-sql-rename.toml"])
        .args(extra)
        .arg(&inp)
        .arg("-o")
        .arg(&out));
    assert!(!res.status.success(), "expected failure, got success");
    assert!(!out.exists(), "output file left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary files left behind: {leftovers:?}"
    );
    assert_eq!(
        std::fs::read(&inp).expect("input"),
        input,
        "input was modified"
    );
    Failure {
        code: res.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&res.stderr).into_owned(),
    }
}

fn pg_fixture() -> Vec<u8> {
    std::fs::read(fixture("pg/before.sql")).expect("fixture")
}

/// The fixture cut just after the first occurrence of `marker`.
fn truncated_after(dump: &[u8], marker: &str) -> Vec<u8> {
    let at = dump
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("marker in fixture");
    dump[..at + marker.len()].to_vec()
}

fn assert_position(f: &Failure, line: usize) {
    let want = format!("line {line}, byte ");
    assert!(
        f.stderr.contains(&want),
        "expected {want:?} in: {}",
        f.stderr
    );
}

#[test]
fn empty_input() {
    let f = fails(b"", &[]);
    assert_eq!(f.code, 3);
    assert!(f.stderr.contains("empty"), "{}", f.stderr);
}

#[test]
fn not_a_dump() {
    let f = fails(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", &[]);
    assert_eq!(f.code, 3);
    assert!(
        f.stderr.contains("does not look like an SQL dump"),
        "{}",
        f.stderr
    );
}

/// Archives are read now (tests/archive.rs); one cut inside its header is
/// refused with the offset.
#[test]
fn truncated_custom_format_archive_is_refused() {
    let f = fails(b"PGDMP\x01\x0f\x00\x04\x08\x01\x01", &[]);
    assert_eq!(f.code, 3);
    assert!(f.stderr.contains("archive byte") && f.stderr.contains("truncated"), "{}", f.stderr);
}

#[test]
fn sqlite_database_file_is_refused_with_advice() {
    let f = fails(b"SQLite format 3\0\x10\x00\x01\x01", &[]);
    assert!(f.stderr.contains(".dump"), "{}", f.stderr);
}

#[test]
fn truncated_inside_copy_block() {
    let dump = truncated_after(&pg_fixture(), "1\tCAPA-2026-001\t1\t1\tReplace");
    let line = dump.iter().filter(|&&b| b == b'\n').count() + 1;
    let f = fails(&dump, &[]);
    assert_eq!(f.code, 3);
    assert!(f.stderr.contains("COPY data not ended"), "{}", f.stderr);
    assert_position(&f, line);
}

#[test]
fn truncated_inside_untouched_copy_block() {
    let dump = truncated_after(
        &pg_fixture(),
        "COPY public.auth_user (id, username) FROM stdin;\n1\t",
    );
    let f = fails(&dump, &[]);
    assert!(f.stderr.contains("COPY data not ended"), "{}", f.stderr);
}

#[test]
fn truncated_inside_string_literal() {
    let dump = truncated_after(
        &pg_fixture(),
        "COMMENT ON TABLE public.incident_safety_correctivepreventiveaction IS 'CAPA rec",
    );
    let line = dump.iter().filter(|&&b| b == b'\n').count() + 1;
    let f = fails(&dump, &[]);
    assert!(
        f.stderr.contains("string literal not closed"),
        "{}",
        f.stderr
    );
    assert_position(&f, line);
}

#[test]
fn truncated_inside_dollar_quote() {
    let dump = truncated_after(&pg_fixture(), "$$\nBEGIN");
    let f = fails(&dump, &[]);
    assert!(
        f.stderr.contains("dollar-quoted string not closed"),
        "{}",
        f.stderr
    );
}

#[test]
fn truncated_inside_block_comment() {
    let mut dump = pg_fixture();
    dump.extend_from_slice(b"\n/* a comment that never ends\n");
    let f = fails(&dump, &[]);
    assert!(f.stderr.contains("comment not closed"), "{}", f.stderr);
}

#[test]
fn truncated_statement() {
    let mut dump = pg_fixture();
    dump.extend_from_slice(
        b"\nALTER TABLE public.incident_safety_correctivepreventiveaction OWNER",
    );
    let f = fails(&dump, &[]);
    assert!(f.stderr.contains("statement not ended"), "{}", f.stderr);
}

#[test]
fn truncated_inside_insert_tuple() {
    let dump = std::fs::read(fixture("pg/before-column-inserts.sql")).expect("fixture");
    let dump = truncated_after(&dump, "\t(1, 'CAPA-2026-001', 1, 1, 'Replace");
    let f = fails(&dump, &[]);
    assert!(
        f.stderr.contains("string literal not closed"),
        "{}",
        f.stderr
    );
}

#[test]
fn copy_row_with_wrong_field_count() {
    let dump = pg_fixture();
    let s = String::from_utf8(dump).expect("utf8 fixture");
    let bad = s.replacen("1\tCAPA-2026-001\t1\t1\t", "1\tCAPA-2026-001\t1\t", 1);
    let line = s[..s.find("1\tCAPA-2026-001").expect("row")]
        .matches('\n')
        .count()
        + 1;
    let f = fails(bad.as_bytes(), &[]);
    assert!(
        f.stderr
            .contains("has 10 fields, its header lists 11 columns"),
        "{}",
        f.stderr
    );
    assert_position(&f, line);
}

/// Issue 28 item 6: the rows of tables no rule targets are framed too. In
/// each untargeted COPY block of the fixture: a tab lost, a tab added, two
/// rows joined, the `\.` line lost. Each would make the restore fail; each
/// is refused, naming the row's line.
#[test]
fn untargeted_copy_rows_with_wrong_field_counts() {
    let s = String::from_utf8(pg_fixture()).expect("utf8 fixture");
    let lines: Vec<&str> = s.split_inclusive('\n').collect();
    let mut checked = 0;
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i];
        i += 1;
        if !head.starts_with("COPY ") || head.contains("correctivepreventiveaction ") {
            continue;
        }
        let first = i; // the block's first row (1-based line first + 1)
        if lines[first] == "\\.\n" {
            continue;
        }
        let with_row = |row: String| -> Vec<u8> {
            let mut v: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            v[first] = row;
            v.concat().into_bytes()
        };
        let row = lines[first];
        let tab = row.find('\t').expect("a row with two columns or more");
        let cases = [
            ("tab lost", with_row(format!("{}{}", &row[..tab], &row[tab + 1..]))),
            ("tab added", with_row(format!("{}\t{}", &row[..tab], &row[tab..]))),
            ("rows joined", with_row(row.trim_end_matches('\n').to_string())),
        ];
        for (what, bad) in cases {
            let f = fails(&bad, &[]);
            assert_eq!(f.code, 3, "{head}{what}: {}", f.stderr);
            assert!(f.stderr.contains("fields, its header lists"), "{head}{what}: {}", f.stderr);
            assert_position(&f, first + 1);
            checked += 1;
        }
        // The end marker lost: the next statements are read as rows.
        let end = (first..lines.len()).find(|&k| lines[k] == "\\.\n").expect("end of block");
        let mut v = lines.clone();
        v.remove(end);
        let f = fails(v.concat().as_bytes(), &[]);
        assert_eq!(f.code, 3, "{head}\\. lost: {}", f.stderr);
        // The statements after the block are misframed rows, unless the
        // block was the last one: then the input ends inside COPY data.
        assert!(
            f.stderr.contains("fields, its header lists") || f.stderr.contains("COPY data not ended"),
            "{head}\\. lost: {}",
            f.stderr
        );
        checked += 1;
    }
    assert!(checked >= 16, "only {checked} cases");
}

#[test]
fn insert_row_with_wrong_value_count() {
    let s = String::from_utf8(std::fs::read(fixture("pg/before-inserts.sql")).expect("fixture"))
        .expect("utf8");
    let bad = s.replacen(
        "VALUES (1, 'CAPA-2026-001', 1, 1,",
        "VALUES (1, 'CAPA-2026-001', 1,",
        1,
    );
    let f = fails(bad.as_bytes(), &[]);
    assert!(
        f.stderr.contains("has 10 values, expected 11"),
        "{}",
        f.stderr
    );
}

#[test]
fn malformed_escape_in_targeted_copy_field() {
    let s = String::from_utf8(pg_fixture()).expect("utf8");
    let bad = s.replacen("1\tCAPA-2026-001\t", "1\tCAPA-2026-001\\\t", 1);
    // `\<tab>` escapes the tab: the row now has one field less.
    let f = fails(bad.as_bytes(), &[]);
    assert!(f.stderr.contains("fields"), "{}", f.stderr);
}

#[test]
fn data_only_insert_dump_needs_columns() {
    let s = String::from_utf8(std::fs::read(fixture("pg/before-inserts.sql")).expect("fixture"))
        .expect("utf8");
    // Drop the CREATE TABLE of the targeted table, as a --data-only dump has none.
    let start = s
        .find("CREATE TABLE public.incident_safety_correctivepreventiveaction (")
        .expect("create");
    let end = start + s[start..].find(");\n").expect("end") + 3;
    let data_only = format!("{}{}", &s[..start], &s[end..]);
    let f = fails(data_only.as_bytes(), &[]);
    assert!(
        f.stderr
            .contains("--columns incident_safety_correctivepreventiveaction="),
        "{}",
        f.stderr
    );

    // With the columns given, it goes through and rewrites.
    let dir = scratch();
    let inp = dir.path().join("in.sql");
    std::fs::write(&inp, &data_only).expect("write");
    let out = ok(dumpsed().args([
        "rewrite",
        "--quiet",
        "--preset",
        "capa-to-sap",
        "--columns",
        "incident_safety_correctivepreventiveaction=id,reference_number,incident_id,root_cause_analysis_id,description,notes,tags,attachment,meta,due_date,status",
    ]).arg(&inp));
    let out = String::from_utf8(out).expect("utf8");
    assert!(out.contains("VALUES (1, 'SAP-2026-001',"), "not rewritten");
}

#[test]
fn output_path_equal_to_input_is_refused() {
    let dir = scratch();
    let inp = dir.path().join("in.sql");
    let original = pg_fixture();
    std::fs::write(&inp, &original).expect("write");
    let res = run(dumpsed()
        .args(["rewrite", "--rules", "fixtures/plain-sql-rename.toml"])
        .arg(&inp)
        .arg("-o")
        .arg(dir.path().join(".").join("in.sql")));
    assert_eq!(res.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&res.stderr).contains("it is the input file"));
    assert_eq!(std::fs::read(&inp).expect("read"), original);
}

#[test]
fn unwritable_output_directory() {
    let res = run(dumpsed()
        .args(["rewrite", "--rules", "fixtures/plain-sql-rename.toml"])
        .arg(fixture("pg/before.sql"))
        .args(["-o", "/nonexistent-dir/out.sql"]));
    assert_eq!(res.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&res.stderr).contains("/nonexistent-dir"));
}

#[test]
fn wrong_explicit_format_is_refused() {
    let f = fails(&pg_fixture(), &["--format", "sqlite"]);
    assert!(f.stderr.contains("looks like a PostgreSQL"), "{}", f.stderr);
    let sqlite = std::fs::read(fixture("sqlite/before.sql")).expect("fixture");
    let f = fails(&sqlite, &["--format", "postgres"]);
    assert!(f.stderr.contains("looks like an SQLite"), "{}", f.stderr);
}

#[test]
fn corrupt_gzip_input() {
    let gz = ok(std::process::Command::new("gzip")
        .arg("-c")
        .arg(fixture("pg/before.sql")));
    // Truncated stream: malformed input (exit 3), not a failed read.
    let f = fails(&gz[..gz.len() / 2], &[]);
    assert_eq!(f.code, 3, "{}", f.stderr);
    assert!(f.stderr.contains("truncated gzip input"), "{}", f.stderr);
    // Bad CRC: flip a byte of the trailer.
    let mut bad = gz.clone();
    let n = bad.len();
    bad[n - 6] ^= 0xff;
    let f = fails(&bad, &[]);
    assert_eq!(f.code, 3, "{}", f.stderr);
    assert!(f.stderr.contains("corrupt gzip input"), "{}", f.stderr);
}

#[test]
fn no_rules_is_an_error() {
    let res = run(dumpsed().args(["rewrite"]).arg(fixture("pg/before.sql")));
    assert_eq!(res.status.code(), Some(2));
}

/// Bytes that are not UTF-8 (a LATIN1 dump) pass through unchanged where
/// no rule applies, and a targeted value next to them is still rewritten:
/// the output is the clean dump's output with the same bytes spliced in.
#[test]
fn latin1_and_invalid_utf8_pass_through() {
    let clean = pg_fixture();
    let insert = b"Caf\xe9 \xff\xfe ";
    let splice = |d: &[u8]| {
        let at = d
            .windows(20)
            .position(|w| w == b"Replace falls sensor")
            .expect("text");
        let mut v = d.to_vec();
        v.splice(at..at, insert.iter().copied());
        v
    };
    let dir = scratch();
    let inp = dir.path().join("latin1.sql");
    std::fs::write(&inp, splice(&clean)).expect("write");
    let out = ok(dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--rules",
            "fixtures/plain-sql-rename.toml",
        ])
        .arg(&inp));
    let clean_out = ok(dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--rules",
            "fixtures/plain-sql-rename.toml",
        ])
        .arg(fixture("pg/before.sql")));
    assert!(
        out == splice(&clean_out),
        "non-UTF-8 bytes were not passed through exactly"
    );
    assert!(
        out.windows(13).any(|w| w == b"\tSAP-2026-001"),
        "targeted value not rewritten"
    );
}

#[test]
fn target_table_already_present_is_refused_unless_forced() {
    let s = String::from_utf8(pg_fixture()).expect("utf8");
    let extra = "\nCREATE TABLE public.incident_safety_safetyactionplan (id integer);\n";
    let dump = format!("{s}{extra}");
    let f = fails(dump.as_bytes(), &[]);
    assert!(
        f.stderr
            .contains("already has a table incident_safety_safetyactionplan"),
        "{}",
        f.stderr
    );
    assert_position(&f, s.matches('\n').count() + 2);
    let dir = scratch();
    let inp = dir.path().join("in.sql");
    std::fs::write(&inp, &dump).expect("write");
    let res = run(dumpsed()
        .args([
            "rewrite",
            "--rules",
            "fixtures/plain-sql-rename.toml",
            "--force",
        ])
        .arg(&inp));
    assert!(res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("--force"));
}

#[test]
fn nul_byte_is_refused_with_its_position() {
    let mut dump = pg_fixture();
    let at = dump
        .windows(10)
        .position(|w| w == b"Line one\\r")
        .expect("text");
    dump[at] = 0;
    let line = dump[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let f = fails(&dump, &[]);
    assert!(f.stderr.contains("NUL byte"), "{}", f.stderr);
    assert_position(&f, line);
}

/// A dump edited on Windows (CRLF everywhere) is handled: the output is the
/// LF output with CRLF line ends, and it restores the same (COPY accepts
/// CRLF data, psql CRLF statements).
#[test]
fn crlf_dump_is_handled_consistently() {
    for rel in [
        "pg/before.sql",
        "pg/before-inserts.sql",
        "sqlite/before.sql",
    ] {
        let lf = std::fs::read(fixture(rel)).expect("fixture");
        let crlf: Vec<u8> = lf
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect();
        let dir = scratch();
        let (a, b) = (dir.path().join("lf.sql"), dir.path().join("crlf.sql"));
        std::fs::write(&a, &lf).expect("write");
        std::fs::write(&b, &crlf).expect("write");
        let out_lf = ok(dumpsed()
            .args([
                "rewrite",
                "--quiet",
                "--rules",
                "fixtures/plain-sql-rename.toml",
            ])
            .arg(&a));
        let out_crlf = ok(dumpsed()
            .args([
                "rewrite",
                "--quiet",
                "--rules",
                "fixtures/plain-sql-rename.toml",
            ])
            .arg(&b));
        let back: Vec<u8> = String::from_utf8(out_crlf)
            .expect("utf8")
            .replace("\r\n", "\n")
            .into_bytes();
        assert!(
            back == out_lf,
            "{rel}: CRLF output differs from LF output beyond line ends"
        );
    }
}

/// A single 512 MiB field passes through in bounded time; above
/// --max-record-size the error names the cap and how to raise it.
#[test]
fn huge_field_passes_and_cap_is_explained() {
    let text = String::from_utf8(pg_fixture()).expect("utf8");
    let marker = "Replace falls sensor";
    let at = text.find(marker).expect("text");
    let dir = scratch();
    let inp = dir.path().join("huge.sql");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&inp).expect("create"));
        f.write_all(text[..at].as_bytes()).expect("w");
        let block = vec![b'x'; 1 << 20];
        for _ in 0..512 {
            f.write_all(&block).expect("w");
        }
        f.write_all(text[at..].as_bytes()).expect("w");
    }
    let out = dir.path().join("out.sql");
    let res = run(dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--rules",
            "fixtures/plain-sql-rename.toml",
        ])
        .arg(&inp)
        .arg("-o")
        .arg(&out));
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_eq!(
        std::fs::metadata(&out).expect("out").len(),
        std::fs::metadata(&inp).expect("in").len() - 378
    );
    std::fs::remove_file(&out).expect("rm");
    let res = run(dumpsed()
        .args([
            "rewrite",
            "--rules",
            "fixtures/plain-sql-rename.toml",
            "--max-record-size",
            "256",
        ])
        .arg(&inp)
        .arg("-o")
        .arg(&out));
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(3), "{err}");
    assert!(
        err.contains("larger than 256 MiB") && err.contains("--max-record-size"),
        "{err}"
    );
    assert!(!out.exists());
}

/// 100 000 tables: every statement framed, nothing changed, no table left
/// behind.
#[test]
fn hundred_thousand_tables() {
    let mut dump =
        String::from("--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n");
    for i in 0..100_000 {
        dump.push_str(&format!(
            "\n--\n-- Name: t{i}; Type: TABLE; Schema: public; Owner: postgres\n--\n\nCREATE TABLE public.t{i} (\n    id integer\n);\n\nCOPY public.t{i} (id) FROM stdin;\n{i}\n\\.\n\n"
        ));
    }
    dump.push_str("--\n-- PostgreSQL database dump complete\n--\n\n");
    let dir = scratch();
    let inp = dir.path().join("many.sql");
    std::fs::write(&inp, &dump).expect("write");
    let out = ok(dumpsed()
        .args(["rewrite", "--quiet", "--rename-table", "t99999=renamed"])
        .arg(&inp));
    let want = dump
        .replace("t99999 (", "renamed (")
        .replace("Name: t99999;", "Name: renamed;")
        .replace("public.t99999 ", "public.renamed ");
    assert!(out == want.as_bytes(), "only t99999 should change");
}

/// Killed with SIGKILL mid-run: nothing appears at the output path.
#[test]
fn sigkill_leaves_no_output() {
    let text = String::from_utf8(pg_fixture()).expect("utf8");
    let dir = scratch();
    let inp = dir.path().join("big.sql");
    {
        use std::io::Write;
        // The fixture's COPY rows of the CAPA table repeated: ~200 MB.
        let copy = text
            .find("COPY public.incident_safety_correctivepreventiveaction")
            .expect("copy");
        let rows_at = copy + text[copy..].find('\n').expect("nl") + 1;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&inp).expect("create"));
        f.write_all(text[..rows_at].as_bytes()).expect("w");
        let row = "1\tCAPA-2026-001\t1\t1\tsome text\t\\N\t\\N\t\\N\t\\N\t\\N\tOPEN\n".repeat(1000);
        for _ in 0..3500 {
            f.write_all(row.as_bytes()).expect("w");
        }
        f.write_all(text[rows_at..].as_bytes()).expect("w");
    }
    let out = dir.path().join("out.sql");
    let mut child = dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--force",
            "-j",
            "1",
            "--rules",
            "fixtures/plain-sql-rename.toml",
        ])
        .arg(&inp)
        .arg("-o")
        .arg(&out)
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().expect("kill"); // SIGKILL on Unix
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "finished before it could be killed; make the input bigger"
    );
    assert!(!out.exists(), "a file appeared at the output path");
}

/// Virtual tables are rows of sqlite_schema in a `.dump`; renaming one is
/// refused, and renaming a table an FTS5 table indexes leaves the FTS5
/// options alone, as SQLite's own rename does.
#[test]
fn sqlite_virtual_tables() {
    let dir = scratch();
    let db = dir.path().join("vt.db");
    ok(std::process::Command::new("sqlite3").arg(&db).arg(
        "CREATE TABLE docs(id integer primary key, body text); \
         CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id'); \
         INSERT INTO docs(body) VALUES('x');",
    ));
    let dump = ok(std::process::Command::new("sqlite3").arg(&db).arg(".dump"));
    let f = fails(&dump, &["--rename-table", "docs_fts=notes_fts"]);
    assert!(
        f.stderr.contains("docs_fts is a virtual table"),
        "{}",
        f.stderr
    );
    // The live rename of the plain table, for comparison.
    ok(std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("ALTER TABLE docs RENAME TO notes;"));
    let live = ok(std::process::Command::new("sqlite3").arg(&db).arg(".dump"));
    let inp = dir.path().join("in.sql");
    std::fs::write(&inp, &dump).expect("write");
    let out = ok(dumpsed()
        .args(["rewrite", "--quiet", "--rename-table", "docs=notes"])
        .arg(&inp));
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&live)
    );
}

/// `dumpsed … | head` ends quietly with the status of a filter ended by
/// SIGPIPE, like `cat` and `sed` in a pipeline.
#[test]
fn broken_pipe_ends_quietly() {
    let text = String::from_utf8(pg_fixture()).expect("utf8");
    let dir = scratch();
    let inp = dir.path().join("big.sql");
    let copy = text.find("COPY public.auth_user").expect("copy");
    let rows_at = copy + text[copy..].find('\n').expect("nl") + 1;
    let rows: String = (1000..400_000).map(|i| format!("{i}\tuser{i}\n")).collect();
    std::fs::write(
        &inp,
        format!("{}{rows}{}", &text[..rows_at], &text[rows_at..]),
    )
    .expect("write");
    let script = format!(
        "{} rewrite --rules fixtures/plain-sql-rename.toml {} | head -c 100 > /dev/null; echo \"${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_dumpsed"),
        inp.display()
    );
    let out = run(std::process::Command::new("bash").arg("-c").arg(script));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "141");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Found by fuzzing: a bare name right next to a quoted identifier, once
/// renamed to a quoted name, must not merge with it into one identifier.
#[test]
fn renamed_name_never_merges_with_a_quoted_neighbour() {
    // The fuzzer's statement is one SQLite itself refuses (`sqlite3` says
    // `near ""b"": syntax error`), so no real `.dump` holds it: since SQLite
    // does SQLite's renames, dumpsed refuses it too, with SQLite's message.
    let dir = scratch();
    let inp = dir.path().join("q.sql");
    std::fs::write(&inp, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\nCREATE VIEW v AS SELECT \"a\"t\"b\" FROM t;\nCOMMIT;\n")
        .expect("write");
    let o = run(dumpsed()
        .args(["rewrite", "--quiet", "--rename-table", "t=u"])
        .arg(&inp));
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 4") && err.contains("syntax error"), "{err}");
    // Valid neighbours of a renamed name stay apart.
    std::fs::write(&inp, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\nCREATE VIEW v AS SELECT \"a\" FROM\"t\";\nCOMMIT;\n")
        .expect("write");
    let out = String::from_utf8(ok(dumpsed()
        .args(["rewrite", "--quiet", "--rename-table", "t=u"])
        .arg(&inp)))
    .expect("utf8");
    assert!(out.contains("SELECT \"a\" FROM\"u\";"), "{out}");
}

/// A dump cut between two statements (here inside the closing comments) is
/// refused as truncated, naming where it ends; `--allow-truncated` takes it.
/// Checked on real pg_dump and sqlite3 output, cut.
#[test]
fn truncated_dumps_are_refused_unless_allowed() {
    let dir = scratch();
    for (fixture_name, marker, expect) in [
        ("pg/before.sql", "-- PostgreSQL database dump complete", "unrestrict"),
        ("sqlite/before.sql", "COMMIT;", "COMMIT;"),
    ] {
        let full = std::fs::read(fixture(fixture_name)).expect("fixture");
        let at = memmem(&full, marker.as_bytes()).expect("marker");
        let cut = &full[..at];
        let inp = dir.path().join("cut.sql");
        std::fs::write(&inp, cut).expect("write");
        let out = dir.path().join(format!("out-{}", fixture_name.replace('/', "-")));
        let o = run(dumpsed()
            .args(["rewrite", "--quiet", "--preset", "capa-to-sap"])
            .arg(&inp)
            .arg("-o")
            .arg(&out));
        assert_eq!(o.status.code(), Some(3), "{fixture_name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(expect) && err.contains(&format!("byte {}", cut.len())), "{fixture_name}: {err}");
        assert!(!out.exists());
        if fixture_name.starts_with("pg") {
            let o = run(dumpsed()
                .args(["rewrite", "--allow-truncated", "--preset", "capa-to-sap"])
                .arg(&inp)
                .arg("-o")
                .arg(&out));
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(String::from_utf8_lossy(&o.stderr).contains("--allow-truncated"));
        }
    }
}

fn memmem(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// SIGINT, SIGTERM or SIGKILL in the middle of `-o OUT`: nothing is left
/// in the output's directory, hidden files included (the output is an
/// unnamed O_TMPFILE until the end).
#[test]
fn signals_mid_run_leave_nothing_in_the_output_directory() {
    use std::io::Write;
    let head = pg_fixture();
    for signal in ["INT", "TERM", "KILL"] {
        let dir = scratch();
        let outdir = dir.path().join("out");
        std::fs::create_dir(&outdir).expect("mkdir");
        let mut child = dumpsed()
            .args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml", "-"])
            .arg("-o")
            .arg(outdir.join("after.sql"))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        // Half a dump, and the pipe kept open: dumpsed is mid-run.
        stdin.write_all(&head[..head.len() / 2]).expect("write");
        stdin.flush().expect("flush");
        std::thread::sleep(std::time::Duration::from_millis(300));
        ok(std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string()));
        let status = child.wait().expect("wait");
        drop(stdin);
        assert!(!status.success(), "SIG{signal}: exited successfully");
        let left: Vec<_> = std::fs::read_dir(&outdir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
    }
}

/// A mapped input cut short by another program during the run: reading a
/// lost page raises SIGBUS, which must end the run with a message and exit
/// 4 (a read failure), not "Bus error" (input.rs, `guard_sigbus`). Deterministic: stdout is
/// a pipe nobody reads until the file is cut, so the writer waits on it and
/// the reader on its permits, a few chunks in; the cut is well past them.
#[test]
fn input_truncated_while_mapped() {
    let (code, stderr, written) = cut_during_the_run(&[]);
    assert_eq!(code, Some(4), "stderr: {stderr}");
    assert!(stderr.contains("the input file shrank while it was being read"), "{stderr}");
    assert!(stderr.contains("--no-mmap"), "{stderr}");
    assert!((written as u64) < 24 << 20, "the output stops at the cut");
}

/// A mapped input cut inside its last page after the workers have read
/// it: the lost bytes read as zeros (no SIGBUS), and the writer, which
/// copies unchanged runs from the mapping, would write them. The run must
/// fail on the file's new size instead (`Mapped::check_unchanged`). A
/// 4 MiB dump is two chunks, both framed and rewritten while the writer
/// waits on the pipe.
#[test]
fn input_cut_inside_its_last_page_while_mapped() {
    let (code, stderr, _) = cut_to(&[], 4 << 20, |n| n - 30);
    assert_eq!(code, Some(4), "stderr: {stderr}");
    assert!(stderr.contains("the input file changed while it was being read"), "{stderr}");
}

/// The same with `--no-mmap`: the input is read, the reader meets its new
/// end inside the COPY block, which is the error (so the flag does turn
/// the mapping off).
#[test]
fn input_truncated_while_read_with_no_mmap() {
    let (code, stderr, _) = cut_during_the_run(&["--no-mmap"]);
    assert_eq!(code, Some(3), "stderr: {stderr}");
    assert!(!stderr.contains("shrank"), "{stderr}");
    assert!(stderr.contains("COPY data not ended"), "{stderr}");
}

/// Runs a rewrite of a 64 MiB dump to a stdout pipe, cuts the input to
/// 24 MiB once the first output byte is out, and returns the exit code,
/// stderr and the number of bytes written.
fn cut_during_the_run(extra: &[&str]) -> (Option<i32>, String, usize) {
    cut_to(extra, 64 << 20, |_| 24 << 20)
}

/// [`cut_during_the_run`] with a dump of about `size` bytes, cut to
/// `new_len(its length)`.
fn cut_to(extra: &[&str], size: usize, new_len: fn(usize) -> usize) -> (Option<i32>, String, usize) {
    use std::io::Read;
    use std::process::Stdio;
    let dir = scratch();
    let inp = dir.path().join("in.sql");
    let mut dump = b"--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.incident_safety_correctivepreventiveaction (id integer, reference_number text);\n\nCOPY public.incident_safety_correctivepreventiveaction (id, reference_number) FROM stdin;\n".to_vec();
    let mut i = 0u64;
    while dump.len() < size {
        dump.extend_from_slice(format!("{i}\tCAPA-2024-{i}\n").as_bytes());
        i += 1;
    }
    dump.extend_from_slice(b"\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n");
    std::fs::write(&inp, &dump).expect("write input");
    let mut child = dumpsed()
        .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml", "-j1"])
        .args(extra)
        .arg(&inp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dumpsed");
    let mut out = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    out.read_exact(&mut first).expect("the run starts writing");
    // Time for the workers to finish what the reader framed (the cut then
    // falls in bytes already checked, the case no SIGBUS shows).
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&inp)
        .and_then(|f| f.set_len(new_len(dump.len()) as u64))
        .expect("truncate the input");
    let mut rest = Vec::new();
    out.read_to_end(&mut rest).expect("read stdout");
    let done = child.wait_with_output().expect("wait");
    (done.status.code(), String::from_utf8_lossy(&done.stderr).into_owned(), rest.len() + 1)
}

// ------------------------------------------------ inputs that can be read once

/// Waits for `child` at most `secs` seconds; kills it and returns `None`
/// when it has not ended by then (a run blocked on its input).
fn wait_within(child: &mut std::process::Child, secs: u64) -> Option<std::process::ExitStatus> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return Some(st);
        }
        if std::time::Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A FIFO, and `/dev/stdin` on a pipe, named as the input: read once (the
/// format is sniffed from the bytes read, not by opening the name twice),
/// so a small dump does not hang, a larger one keeps its first bytes, and
/// an archive is read from a stream; each gives the same output as the
/// same bytes in a file.
#[test]
fn fifo_and_dev_stdin_inputs_give_the_file_output() {
    use std::io::Write;
    let dir = scratch();
    let rules = ["--rules", "fixtures/plain-sql-rename.toml"];
    // A dump smaller than the sniffed head, made by the real sqlite3.
    let db = dir.path().join("small.db");
    ok(std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE app_widget(code text); INSERT INTO app_widget VALUES('CAPA-1');"));
    let small = ok(std::process::Command::new("sqlite3").arg(&db).arg(".dump"));
    assert!(small.len() < 517, "the small dump is {} bytes", small.len());
    let gz = ok(std::process::Command::new("gzip").arg("-c").arg(fixture("pg/before.sql")));
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("small", small, vec!["--rename-table", "app_widget=app_gadget"]),
        ("plain", pg_fixture(), rules.to_vec()),
        ("gzip", gz, rules.to_vec()),
        ("custom", std::fs::read(fixture("archive/before.dump")).expect("fixture"), rules.to_vec()),
        ("tar", std::fs::read(fixture("archive/before.tar")).expect("fixture"), rules.to_vec()),
    ];
    for (name, bytes, args) in &cases {
        let file = dir.path().join(format!("{name}.in"));
        std::fs::write(&file, bytes).expect("write");
        let want = dir.path().join(format!("{name}.want"));
        ok(dumpsed().args(["rewrite", "-q"]).args(args).arg(&file).arg("-o").arg(&want));
        let want = std::fs::read(&want).expect("want");
        assert!(!want.is_empty(), "{name}: empty output");

        // A named FIFO.
        let fifo = dir.path().join(format!("{name}.fifo"));
        ok(std::process::Command::new("mkfifo").arg(&fifo));
        let writer = {
            let (fifo, bytes) = (fifo.clone(), bytes.clone());
            // An early close by the reader is an error here, not a panic.
            std::thread::spawn(move || std::fs::write(&fifo, &bytes).is_ok())
        };
        let got = dir.path().join(format!("{name}.fifo.out"));
        let mut child = dumpsed()
            .args(["rewrite", "-q"])
            .args(args)
            .arg(&fifo)
            .arg("-o")
            .arg(&got)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let status = wait_within(&mut child, 60);
        if status.is_none() {
            // Unblock a writer still waiting for a reader.
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo);
        }
        let _ = writer.join();
        let status = status.unwrap_or_else(|| panic!("{name}: reading a FIFO hung"));
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).expect("stderr");
        assert!(status.success(), "{name} through a FIFO failed: {err}");
        assert!(std::fs::read(&got).expect("out") == want, "{name}: the FIFO's output differs from the file's");

        // `/dev/stdin` on a pipe.
        let got = dir.path().join(format!("{name}.stdin.out"));
        let mut child = dumpsed()
            .args(["rewrite", "-q"])
            .args(args)
            .arg("/dev/stdin")
            .arg("-o")
            .arg(&got)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = {
            let bytes = bytes.clone();
            std::thread::spawn(move || stdin.write_all(&bytes).is_ok())
        };
        let status = wait_within(&mut child, 60).unwrap_or_else(|| panic!("{name}: reading /dev/stdin hung"));
        let _ = writer.join();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).expect("stderr");
        assert!(status.success(), "{name} through /dev/stdin failed: {err}");
        assert!(std::fs::read(&got).expect("out") == want, "{name}: /dev/stdin's output differs from the file's");
    }
    // `inspect` opens its input the same way (cmd/input.rs).
    let fifo = dir.path().join("inspect.fifo");
    ok(std::process::Command::new("mkfifo").arg(&fifo));
    let want = ok(dumpsed().arg("inspect").args(rules).arg(fixture("archive/before.dump")));
    let writer = {
        let fifo = fifo.clone();
        let bytes = std::fs::read(fixture("archive/before.dump")).expect("fixture");
        std::thread::spawn(move || std::fs::write(&fifo, &bytes).is_ok())
    };
    let mut child = dumpsed()
        .arg("inspect")
        .args(rules)
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().expect("stdout"), &mut got).expect("stdout");
    let status = wait_within(&mut child, 60).expect("inspect of a FIFO hung");
    let _ = writer.join();
    assert!(status.success() && got == want, "inspect through a FIFO differs from the file's report");
}

/// `rewrite - -o F < F`: standard input is the output file, which the
/// rename would replace; refused as the named forms are, F unchanged.
#[test]
fn stdin_redirected_from_the_output_file_is_refused() {
    let dir = scratch();
    let f = dir.path().join("dump.sql");
    std::fs::write(&f, pg_fixture()).expect("write");
    for input in [None, Some("-")] {
        let mut cmd = dumpsed();
        cmd.args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml"]);
        if let Some(i) = input {
            cmd.arg(i);
        }
        let res = run(cmd.arg("-o").arg(&f).stdin(std::fs::File::open(&f).expect("open")));
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(5), "{input:?}: {err}");
        assert!(err.contains("standard input"), "{err}");
        assert_eq!(std::fs::read(&f).expect("read"), pg_fixture(), "the input was replaced");
    }
    // So is --log-changes onto it.
    let res = run(dumpsed()
        .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml", "-", "-o"])
        .arg(dir.path().join("out.sql"))
        .arg("--log-changes")
        .arg(&f)
        .stdin(std::fs::File::open(&f).expect("open")));
    assert_eq!(res.status.code(), Some(5), "{}", String::from_utf8_lossy(&res.stderr));
    assert_eq!(std::fs::read(&f).expect("read"), pg_fixture(), "the input was replaced");
    // A pipe on stdin is no file: writing beside it works.
    ok(dumpsed()
        .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml", "-", "-o"])
        .arg(dir.path().join("out.sql"))
        .stdin(std::fs::File::open(fixture("pg/before.sql")).expect("open")));
}

/// A write that fails while an archive is written (a full disk, a closed
/// pipe) is an output failure: exit 4 naming the output, not exit 3
/// blaming an input byte; a closed stdout pipe ends quietly (141), as it
/// does for a plain dump.
#[test]
fn archive_write_errors_are_output_errors() {
    for name in ["before.dump", "before.tar"] {
        let res = run(dumpsed()
            .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml"])
            .arg(fixture(&format!("archive/{name}")))
            .args(["-o", "/dev/full"]));
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains("writing /dev/full") && !err.contains("archive byte"), "{name}: {err}");
    }
    for input in ["archive/before.dump", "archive/before.tar", "pg/before.sql"] {
        // A pipe whose reader is gone before the first write.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let res = run(dumpsed()
            .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml"])
            .arg(fixture(input))
            .args(["-o", "-"])
            .stdout(writer));
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(141), "{input}: {err}");
        assert!(err.is_empty(), "{input}: a closed pipe is not an error to report: {err}");
    }
}

/// Truncated or corrupt compressed input says which, at which compressed
/// byte, and how far the decompressed text had got, instead of the
/// library's bare text; it is malformed input (exit 3, issue 28 item 13),
/// not a failed read (4). Cut inside the stream, inside the frame header,
/// and just before the end: gzip without its CRC/size trailer, zstd
/// without its content checksum, lz4 without its EndMark (and checksum),
/// which a frame decoder takes for a clean end.
#[test]
fn cut_or_flipped_compressed_input_says_where() {
    // The real tools, with their default checksums (a flipped literal in
    // a frame without one cannot be noticed by any reader).
    let compress = |tool: &str| ok(std::process::Command::new(tool).args(["-c", "-q"]).arg(fixture("pg/before.sql")));
    for (alg, data, tail) in [("gzip", compress("gzip"), 8), ("zstd", compress("zstd"), 4), ("lz4", compress("lz4"), 8)] {
        for cut in [data.len() / 2, 11, data.len() - tail, data.len() - 1] {
            let f = fails(&data[..cut], &[]);
            assert_eq!(f.code, 3, "{alg} cut at {cut}: {}", f.stderr);
            assert!(
                f.stderr.contains(&format!("truncated {alg} input: the compressed data ends at byte {cut}")),
                "{alg} cut at {cut}: {}",
                f.stderr
            );
            // The decompressed position, which is the error's own.
            assert!(f.stderr.contains("dumpsed: error: line "), "{alg} cut at {cut}: {}", f.stderr);
        }
        let cut = data.len() / 2;
        let mut flipped = data.clone();
        flipped[cut] ^= 0x55;
        let f = fails(&flipped, &[]);
        assert_eq!(f.code, 3, "{alg} flipped: {}", f.stderr);
        assert!(f.stderr.contains(&format!("corrupt {alg} input")), "{alg} flipped: {}", f.stderr);
        let at: u64 = f
            .stderr
            .split("at or before compressed byte ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{alg} flipped: no offset: {}", f.stderr));
        assert!(at >= cut as u64 && at <= data.len() as u64, "{alg}: offset {at}, flipped byte {cut}");
    }
}

/// SIGINT, SIGTERM or SIGKILL during a directory-format rewrite: SIGINT
/// and SIGTERM leave nothing beside `-o`; what a SIGKILL leaves (a
/// directory has no O_TMPFILE) is removed by the next directory rewrite
/// into the same place (output.rs, `StagingDir`).
#[test]
fn signals_during_a_directory_rewrite_leave_nothing() {
    let dir = scratch();
    let input = big_directory_archive(dir.path());
    for signal in ["INT", "TERM", "KILL"] {
        let parent = dir.path().join(format!("out-{signal}"));
        std::fs::create_dir(&parent).expect("mkdir");
        let mut child = rewrite_directory(&input, &parent.join("after")).spawn().expect("spawn");
        wait_for_staging(&parent, &mut child);
        ok(std::process::Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()));
        let status = child.wait().expect("wait");
        assert!(!status.success(), "SIG{signal}: finished before it was signalled; make the input bigger");
        if signal != "KILL" {
            assert!(listing(&parent).is_empty(), "SIG{signal} left {:?}", listing(&parent));
            continue;
        }
        // The next run beside it removes what the killed run left.
        let small = parent.join("small");
        ok(dumpsed()
            .args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml"])
            .arg(fixture("archive/before-dir"))
            .arg("-o")
            .arg(&small));
        assert_eq!(listing(&parent), ["small"], "SIGKILL's leftovers were not removed by the next run");
    }
}

/// pg_dump's uncompressed directory archive (fixtures/archive/before-dir-z0)
/// with the CAPA table's rows repeated (unique ids and references): ~150 MB
/// of rows to rewrite, at `dir/in`.
fn big_directory_archive(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("mkdir");
    for e in std::fs::read_dir(fixture("archive/before-dir-z0")).expect("fixture") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), input.join(e.file_name())).expect("copy");
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(input.join("3410.dat")).expect("create"));
    for i in 1..=3_000_000u32 {
        writeln!(f, "{i}\tCAPA-{i}\t2\t\\N\tsome text that makes the row longer\t\\N\t{{}}\t\\N\t\\N\t\\N\tOPEN")
            .expect("write");
    }
    f.write_all(b"\\.\n\n").expect("write");
    input
}

fn rewrite_directory(input: &std::path::Path, out: &std::path::Path) -> std::process::Command {
    let mut c = dumpsed();
    c.args(["rewrite", "--quiet", "--force", "-j", "1", "--rules", "fixtures/plain-sql-rename.toml"])
        .arg(input)
        .arg("-o")
        .arg(out);
    c
}

/// The names in `d`, sorted.
fn listing(d: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Waits until `child` has made its temporary directory in `parent`.
fn wait_for_staging(parent: &std::path::Path, child: &mut std::process::Child) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while listing(parent).iter().all(|n| !n.starts_with(".dumpsed-")) {
        assert!(std::time::Instant::now() < until, "no temporary directory appeared");
        assert!(child.try_wait().expect("try_wait").is_none(), "ended before its temporary directory was seen");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// The cleanup of abandoned staging directories leaves a live run's
/// alone: a directory rewrite started beside a running one does not
/// remove the running one's, which still finishes, and both outputs are
/// whole.
#[test]
fn a_directory_rewrite_beside_a_running_one_leaves_it_alone() {
    let dir = scratch();
    let input = big_directory_archive(dir.path());
    let parent = dir.path().join("out");
    std::fs::create_dir(&parent).expect("mkdir");
    let mut child = rewrite_directory(&input, &parent.join("big"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for_staging(&parent, &mut child);
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml"])
        .arg(fixture("archive/before-dir"))
        .arg("-o")
        .arg(parent.join("small")));
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "the running rewrite failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(listing(&parent), ["big", "small"]);
    let (a, b) = (listing(&input), listing(&parent.join("big")));
    assert_eq!(a, b, "the big output's files");
}

/// Issue 28 item 6, INSERT forms: the rows of tables no rule targets are
/// counted too. In every untargeted INSERT of pg_dump `--inserts`,
/// `--column-inserts` and sqlite3 `.dump`, the first row's first value
/// lost, then doubled; in `--column-inserts`' multi-row statements, two
/// rows joined (the comma between them lost). Each is refused with exit 3,
/// naming the row's line.
#[test]
fn untargeted_insert_rows_with_wrong_value_counts() {
    let mut checked = 0;
    for name in ["pg/before-inserts.sql", "pg/before-column-inserts.sql", "sqlite/before.sql"] {
        let s = String::from_utf8(std::fs::read(fixture(name)).expect("fixture")).expect("utf8");
        let lines: Vec<&str> = s.split_inclusive('\n').collect();
        let with_line = |k: usize, line: String| -> Vec<u8> {
            let mut v: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            v[k] = line;
            v.concat().into_bytes()
        };
        let mut table = String::new();
        for (k, line) in lines.iter().enumerate() {
            if let Some(rest) = line.strip_prefix("INSERT INTO ") {
                table = rest.split([' ', '(']).next().expect("table").to_string();
            }
            if table.ends_with("correctivepreventiveaction") || table.ends_with("sqlite_sequence") {
                continue;
            }
            // The first row of the line: `VALUES (1, …` / `VALUES(1,…` / `\t(1, …`.
            let Some(open) = line.find("VALUES (").map(|i| i + 7).or_else(|| line.find("VALUES(").map(|i| i + 6)).or_else(|| line.starts_with("\t(").then_some(1))
            else {
                continue;
            };
            let body = &line[open + 1..];
            let Some(comma) = body.find(',') else { continue };
            let first = &body[..comma];
            if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let sep = if body[comma + 1..].starts_with(' ') { ", " } else { "," };
            let lost = format!("{}{}", &line[..open + 1], &body[comma + sep.len()..]);
            let added = format!("{}{first}{sep}{}", &line[..open + 1], body);
            for (what, bad) in [("value lost", with_line(k, lost)), ("value added", with_line(k, added))] {
                let f = fails(&bad, &[]);
                assert_eq!(f.code, 3, "{name} line {}: {what}: {}", k + 1, f.stderr);
                assert!(f.stderr.contains(" values, expected "), "{name} line {}: {what}: {}", k + 1, f.stderr);
                assert_position(&f, k + 1);
                checked += 1;
            }
            if line.starts_with("\t(") && line.ends_with("),\n") && lines.get(k + 1).is_some_and(|l| l.starts_with("\t(")) {
                let joined = with_line(k, format!("{})\n", line.trim_end_matches(",\n").trim_end_matches(')')));
                let f = fails(&joined, &[]);
                assert_eq!(f.code, 3, "{name} line {}: rows joined: {}", k + 1, f.stderr);
                assert!(f.stderr.contains("without a comma"), "{name} line {}: rows joined: {}", k + 1, f.stderr);
                assert_position(&f, k + 2);
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} cases");
}
