//! Issue 9: renames follow what a name refers to. fixtures/pg-refs/ holds
//! a schema with every kind of reference spelling-based renaming got wrong
//! (a column named like its table, a view alias named like it, a table
//! named like a keyword, regclass literals and data, row types, the same
//! table name in two schemas, partitions, inheritance, rules, policies,
//! statistics, CTEs), dumped by the real pg_dump before and after the live
//! `ALTER TABLE … RENAME` / `RENAME COLUMN` of fixtures/pg-refs/live.sql.
//! Each test rewrites the "before" dump, restores it with the real psql,
//! dumps it again and compares with the live result.

mod common;

use common::*;

fn round_trip(before: &str, after: &str, dump_opts: &[&str]) {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules"])
        .arg(fixture("pg-refs/rules.toml"))
        .arg(fixture(before))
        .arg("-o")
        .arg(&out));
    let db = PgDb::new("refs");
    db.restore(&out);
    let got = without_restrict_keys(&db.dump(dump_opts));
    let want = without_restrict_keys(&std::fs::read(fixture(after)).expect("fixture"));
    assert!(
        got == want,
        "{before}: restored dump differs from {after}: {}",
        first_difference(&got, &want)
    );
}

#[test]
fn references_copy_dump_restores_to_the_live_rename() {
    round_trip("pg-refs/before.sql", "pg-refs/after-live.sql", &[]);
}

#[test]
fn references_column_inserts_dump_restores_to_the_live_rename() {
    round_trip(
        "pg-refs/before-inserts.sql",
        "pg-refs/after-live-inserts.sql",
        &["--column-inserts"],
    );
}

/// The read-ahead of the pre-data has a safety net: a dump whose `ATTACH
/// PARTITION` comes only after the partition's rows (hand-edited here: the
/// statement moved to the end) cannot have the partition's `CREATE TABLE`
/// rewritten in one pass, so the run stops before writing and names the
/// rule to add.
#[test]
fn an_attach_after_the_partitions_rows_needs_its_own_column_rule() {
    let dir = scratch();
    let input = dir.path().join("in.sql");
    let text = std::fs::read_to_string(fixture("pg-refs/before.sql")).expect("fixture");
    let attach = text
        .lines()
        .find(|l| l.contains("ATTACH PARTITION public.measure_2026"))
        .expect("the fixture attaches measure_2026");
    let moved = format!("{}\n{attach}\n", text.replacen(attach, "", 1));
    std::fs::write(&input, moved).expect("write");
    let out = dir.path().join("out.sql");
    let o = run(dumpsed()
        .args(["rewrite", "--quiet", "--rename-column", "measure.v=value"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--rename-column public.measure_2026.v=value") && err.contains("line "),
        "{err}"
    );
    assert!(!out.exists(), "no output file after an error");
}

/// `pg_restore` of the given major version (15: the system's; 18: the
/// wheel tests/run.sh installs, `DUMPSED_PG18_BIN`).
fn pg_restore(major: u32) -> std::process::Command {
    if major < 18 {
        return std::process::Command::new("pg_restore");
    }
    let dir = std::env::var_os("DUMPSED_PG18_BIN").expect(
        "this test needs pg_restore 18: run the suite with `bash tests/run.sh`, which installs it \
         (DUMPSED_PG18_BIN is not set)",
    );
    std::process::Command::new(std::path::Path::new(&dir).join("pg_restore"))
}

/// Rewrites `dir/before` under `dir/rules.toml` (or `rules`), restores the
/// result with the real psql (an archive through `pg_restore -f -` of the
/// version that wrote it; pg 18's `SET transaction_timeout`, which the
/// pg 15 server refuses, left out) and compares pg_dump's output with
/// `dir/after`.
fn live_round_trip(dir: &str, before: &str, after: &str, dump_opts: &[&str], rules: &[&str]) {
    let tmp = scratch();
    let out = tmp.path().join(before);
    let mut cmd = dumpsed();
    cmd.args(["rewrite", "--quiet"]);
    if rules.is_empty() {
        cmd.arg("--rules").arg(fixture(&format!("{dir}/rules.toml")));
    } else {
        cmd.args(rules);
    }
    ok(cmd.arg(fixture(&format!("{dir}/{before}"))).arg("-o").arg(&out));
    let script = if before.ends_with(".dump") {
        let major = if before.contains("v18") { 18 } else { 15 };
        ok(pg_restore(major).arg("-f").arg("-").arg(&out))
    } else {
        std::fs::read(&out).expect("output")
    };
    let script: String = String::from_utf8_lossy(&script)
        .lines()
        .filter(|l| *l != "SET transaction_timeout = 0;")
        .map(|l| format!("{l}\n"))
        .collect();
    let sql = tmp.path().join("restore.sql");
    std::fs::write(&sql, script).expect("write");
    let db = PgDb::new("refs_live");
    db.restore(&sql);
    let got = without_restrict_keys(&db.dump(dump_opts));
    let want = without_restrict_keys(&std::fs::read(fixture(&format!("{dir}/{after}"))).expect("fixture"));
    assert!(
        got == want,
        "{dir}/{before}: restored dump differs from {after}: {}",
        first_difference(&got, &want)
    );
}

/// Issue 24: column renames of partitioned (LIST, RANGE, expression key,
/// two levels, a table attached later) and inheritance parents, each rule
/// naming the parent only, as the DBA types the live `ALTER TABLE parent
/// RENAME COLUMN`: the partitions' and children's columns, the partition
/// keys, indexes, constraints, views, triggers, comments and foreign keys
/// follow, in every form pg_dump 15 and 18 write (fixtures/pg-partitions).
#[test]
fn column_renames_of_partitioned_and_inheritance_parents_match_the_live_alter() {
    let d = "pg-partitions";
    live_round_trip(d, "before.sql", "after-live.sql", &[], &[]);
    live_round_trip(d, "before-inserts.sql", "after-live-inserts.sql", &["--inserts"], &[]);
    live_round_trip(d, "before-column-inserts.sql", "after-live-column-inserts.sql", &["--column-inserts"], &[]);
    live_round_trip(d, "before.dump", "after-live.sql", &[], &[]);
    live_round_trip(d, "before-v18.sql", "after-live.sql", &[], &[]);
    live_round_trip(d, "before-v18.dump", "after-live.sql", &[], &[]);
}

/// Issue 26 class 6: rows of a table that inherits columns, in an
/// `--inserts` dump (no column names): `inspect` reads them, and value
/// rules on an inherited column of a child and on the child's own column
/// after the inherited ones edit the right values, as the live
/// `UPDATE ONLY` does.
#[test]
fn inherited_columns_are_known_wherever_rows_are_read() {
    let input = fixture("pg-partitions/before-inserts.sql");
    let o = run(dumpsed().arg("inspect").arg(&input));
    assert!(o.status.success(), "inspect: {}", String::from_utf8_lossy(&o.stderr));
    let live = PgDb::new("refs_inh_live");
    live.restore(&input);
    live.query(
        "UPDATE ONLY item_child SET \
           label = CASE WHEN label LIKE 'ch%' THEN replace(label, 'ch', 'CH') ELSE label END, \
           extra = CASE WHEN extra LIKE 'e%' THEN replace(extra, 'e', 'E') ELSE extra END; \
         UPDATE ONLY item_grandchild SET label = replace(label, 'gr', 'GR') WHERE label LIKE 'gr%'; \
         UPDATE ONLY other.item_other SET note = replace(note, 'n', 'N') WHERE note LIKE 'n%'",
    );
    let want = without_restrict_keys(&live.dump(&["--inserts"]));
    assert!(want.contains("(2, 'CHild', 2, 'E')"), "the live UPDATE changed the child's row");
    // The plain dump, and the archive, whose data blocks are rewritten
    // one table at a time.
    for name in ["before-inserts.sql", "before-inserts.dump"] {
        let tmp = scratch();
        let out = tmp.path().join(name);
        ok(dumpsed()
            .args(["rewrite", "--quiet"])
            .args(["--rewrite", "item_child.label:ch=CH", "--rewrite", "item_child.extra:e=E"])
            .args(["--rewrite", "item_grandchild.label:gr=GR", "--rewrite", "other.item_other.note:n=N"])
            .arg(fixture(&format!("pg-partitions/{name}")))
            .arg("-o")
            .arg(&out));
        let sql = tmp.path().join("restore.sql");
        if name.ends_with(".dump") {
            std::fs::write(&sql, ok(pg_restore(15).arg("-f").arg("-").arg(&out))).expect("write");
        } else {
            std::fs::rename(&out, &sql).expect("rename");
        }
        let got = PgDb::new("refs_inh");
        got.restore(&sql);
        let got = without_restrict_keys(&got.dump(&["--inserts"]));
        assert!(got == want, "{name}: {}", first_difference(&got, &want));
    }
}

/// Issue 26 class 1: a table rename (and a column rename) reaches the
/// qualifiers of every branch of UNION / INTERSECT / EXCEPT (nested), of
/// subqueries in FROM, WHERE, the target list and HAVING, of recursive
/// CTEs, LATERAL, joins with aliases and USING, windows and EXISTS, and
/// leaves those naming another schema's table of the same name or an alias
/// alone (fixtures/pg-scopes: one view per case).
#[test]
fn every_select_scope_renames_like_the_live_alter() {
    live_round_trip("pg-scopes", "before.sql", "after-live.sql", &[], &[]);
    live_round_trip("pg-scopes", "before.dump", "after-live.sql", &[], &[]);
}

/// A rule that matches nothing gives the input back byte for byte.
#[test]
fn a_rule_matching_nothing_changes_no_byte() {
    for f in ["pg-refs/before.sql", "pg-refs/before-inserts.sql"] {
        let out = ok(dumpsed()
            .args(["rewrite", "--quiet", "--allow-missing", "--rename-table", "no_such_table=x"])
            .arg(fixture(f)));
        let input = std::fs::read(fixture(f)).expect("fixture");
        assert!(out == input, "{f}: output differs from input");
    }
}

/// Two tables named `t` in two schemas, with different columns, in an
/// `--inserts` dump (no column lists): a value rule bound to one schema
/// rewrites that table's values only, by that table's own column list.
#[test]
fn value_rules_and_column_lists_are_per_schema() {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rewrite", "other.t.t:t=T", "--rename-table", "public.t=t2"])
        .arg(fixture("pg-refs/before-plain-inserts.sql"))
        .arg("-o")
        .arg(&out));
    let db = PgDb::new("refs_schemas");
    db.restore(&out);
    assert_eq!(db.query("SELECT id, y, t FROM other.t").trim(), "1|other t|T");
    assert_eq!(db.query("SELECT id, x FROM public.t2").trim(), "1|public t");
}

/// `COPY … FROM stdin WITH (FORMAT csv)` (not pg_dump's, but psql runs it):
/// its rows end at a `\.` line like any COPY data and are never lexed as
/// SQL; the head is renamed, the data passes through.
#[test]
fn copy_with_options_frames_its_data_as_data() {
    let dir = scratch();
    let input = dir.path().join("in.sql");
    std::fs::write(
        &input,
        "CREATE TABLE public.t (a integer, b text);\n\
         COPY public.t (a, b) FROM stdin WITH (FORMAT csv);\n\
         1,\"it's; a\n;not SQL\"\n\
         \\.\n",
    )
    .expect("write");
    let out = dir.path().join("out.sql");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--format", "postgres", "--rename-table", "t=u"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    let db = PgDb::new("refs_csv");
    db.restore(&out);
    assert_eq!(db.query("SELECT a, b FROM public.u").trim(), "1|it's; a\n;not SQL");
}

/// A statement that mentions a renamed table and that PostgreSQL's parser
/// rejects stops the run with its line and offset and leaves no output;
/// `--force` passes it through unchanged and lists it.
#[test]
fn a_statement_the_parser_rejects_stops_the_run_unless_forced() {
    let dir = scratch();
    let input = dir.path().join("in.sql");
    let text = "SET standard_conforming_strings = on;\nCREATE TABLE public.t (a integer);\nALTER TABLE public.t ADD COLUMN;\n";
    std::fs::write(&input, text).expect("write");
    let out = dir.path().join("out.sql");
    let o = run(dumpsed()
        .args(["rewrite", "--quiet", "--format", "postgres", "--rename-table", "t=u"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 3") && err.contains("syntax error"), "{err}");
    assert!(!out.exists());
    let o = run(dumpsed()
        .args(["rewrite", "--force", "--format", "postgres", "--rename-table", "t=u"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    let at = text.find("ALTER").unwrap_or_default();
    assert!(err.contains(&format!("byte {at}")), "{err}");
    let got = std::fs::read_to_string(&out).expect("output");
    assert!(got.contains("CREATE TABLE public.u") && got.contains("ALTER TABLE public.t ADD COLUMN;"), "{got}");
}

/// A rule naming a table the dump does not have is a rule error (exit 2)
/// naming the closest tables, and no output file; `--allow-missing` makes
/// it a warning.
#[test]
fn a_rule_for_a_missing_table_is_an_error_unless_allowed() {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    let o = run(dumpsed()
        .args(["rewrite", "--quiet", "--rename-table", "citty=town", "--rewrite", "categroy.name:a=b"])
        .arg(fixture("pg-refs/before.sql"))
        .arg("-o")
        .arg(&out));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("citty") && err.contains("did you mean public.city"), "{err}");
    assert!(err.contains("categroy") && err.contains("public.category"), "{err}");
    assert!(!out.exists());
    let o = run(dumpsed()
        .args(["rewrite", "--allow-missing", "--rename-table", "citty=town"])
        .arg(fixture("pg-refs/before.sql"))
        .arg("-o")
        .arg(&out));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: table citty does not appear"));
}

/// A column rename or value rewrite naming a column its table lacks is
/// refused as a rule for a missing table is (exit 2, the rule named with
/// its flag, nothing at the output path), on plain dumps of both dialects
/// and on every archive form; `--allow-missing` makes it a warning and the
/// output the input (nothing else to change). Before, a column rename of a
/// missing column exited 0 on PostgreSQL, changing nothing, and SQLite
/// refused it as malformed input (exit 3).
#[test]
fn a_rule_for_a_missing_column_is_refused_as_a_missing_table() {
    let capa = "incident_safety_correctivepreventiveaction";
    for (input, table, out_name) in [
        ("pg-refs/before.sql", "city", "out.sql"),
        ("sqlite-refs/before.sql", "city", "out.sql"),
        ("archive/before.dump", capa, "out.dump"),
        ("archive/before.tar", capa, "out.tar"),
        ("archive/before-dir", capa, "out-dir"),
    ] {
        let dir = scratch();
        let out = dir.path().join(out_name);
        let refused = |args: &[String]| {
            let o = run(dumpsed().arg("rewrite").args(args).arg(fixture(input)).arg("-o").arg(&out));
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            assert!(!out.exists(), "{input} {args:?}: output written");
            (o.status.code(), err)
        };
        let (table_code, _) = refused(&["--rename-table".into(), "no_such_table=x".into()]);
        assert_eq!(table_code, Some(2), "{input}");
        for (flag, spec) in [
            ("--rename-column", format!("{table}.nosuch=foo")),
            ("--rewrite", format!("{table}.nosuch:a=b")),
        ] {
            let args = [flag.to_string(), spec.clone()];
            let (code, err) = refused(&args);
            assert_eq!(code, table_code, "{input} {flag}: {err}");
            let named = format!("{flag} {}", spec.split(['=', ':']).next().unwrap_or_default());
            assert!(err.contains(&named) && err.contains(&format!("table {table} has no column nosuch")), "{input}: {err}");
            assert!(err.contains("--allow-missing"), "{input}: {err}");
            let o = run(dumpsed()
                .args(["rewrite", "--allow-missing", flag, &spec])
                .arg(fixture(input))
                .arg("-o")
                .arg(&out));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(o.status.success(), "{input} {flag} allowed: {err}");
            if input.ends_with(".sql") {
                let same = std::fs::read(&out).expect("output") == std::fs::read(fixture(input)).expect("input");
                assert!(same, "{input} {flag}: the output is not the input");
                assert!(err.contains("has no column nosuch"), "{input} {flag}: no warning: {err}");
            }
            let _ = std::fs::remove_dir_all(&out);
            let _ = std::fs::remove_file(&out);
        }
    }
}

/// The same classes on SQLite (fixtures/sqlite-refs, made by the real
/// sqlite3): SQLite's own ALTER TABLE does the renames in dumpsed, so the
/// rewritten dump is byte for byte the live `.dump`, and it restores
/// (`sqlite3 -bail`, foreign keys checked) and re-dumps to it.
#[test]
fn sqlite_references_rewrite_to_the_live_dump() {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules"])
        .arg(fixture("sqlite-refs/rules.toml"))
        .arg(fixture("sqlite-refs/before.sql"))
        .arg("-o")
        .arg(&out));
    let want = std::fs::read(fixture("sqlite-refs/after-live.sql")).expect("fixture");
    let got = std::fs::read(&out).expect("output");
    assert!(
        got == want,
        "{}",
        first_difference(&String::from_utf8_lossy(&got), &String::from_utf8_lossy(&want))
    );
    let again = sqlite_restore_and_dump(&out, dir.path(), "restored");
    assert!(again == want, "{}", first_difference(&String::from_utf8_lossy(&again), &String::from_utf8_lossy(&want)));
}
