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
/// result with the real psql (an archive — `.dump`, `.tar`, `-dir` —
/// through `pg_restore -f -` of the version that wrote it; pg 18's `SET
/// transaction_timeout`, which the pg 15 server refuses, left out) and
/// compares pg_dump's output with `dir/after`.
fn live_round_trip(dir: &str, before: &str, after: &str, dump_opts: &[&str], rules: &[&str]) {
    let got = rewritten_and_restored(dir, before, dump_opts, rules);
    let want = without_restrict_keys(&std::fs::read(fixture(&format!("{dir}/{after}"))).expect("fixture"));
    assert!(
        got == want,
        "{dir}/{before}: restored dump differs from {after}: {}",
        first_difference(&got, &want)
    );
}

/// `live_round_trip`'s steps up to pg_dump's output of the restored result.
fn rewritten_and_restored(dir: &str, before: &str, dump_opts: &[&str], rules: &[&str]) -> String {
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
    let archive = before.ends_with(".dump") || before.ends_with(".tar") || before.ends_with("-dir");
    let script = if archive {
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
    without_restrict_keys(&db.dump(dump_opts))
}

/// The fixture forms of fixtures/pg-partitions (regen.sh), with the
/// pg_dump options whose output each is compared in: every plain form and
/// every archive form of pg_dump 15 and 18 (the custom archives gzip'd,
/// pg_dump's default).
const PARTITION_FORMS: &[(&str, &str)] = &[
    ("before.sql", ""),
    ("before-inserts.sql", "--inserts"),
    ("before-column-inserts.sql", "--column-inserts"),
    ("before.dump", ""),
    ("before-inserts.dump", "--inserts"),
    ("before-column-inserts.dump", "--column-inserts"),
    ("before-dir", ""),
    ("before.tar", ""),
    ("before-v18.sql", ""),
    ("before-v18-inserts.sql", "--inserts"),
    ("before-v18-column-inserts.sql", "--column-inserts"),
    ("before-v18.dump", ""),
    ("before-v18-dir", ""),
    ("before-v18.tar", ""),
];

/// `dump` with each table's rows sorted (the lines of a COPY block, a run
/// of INSERT lines): a live `UPDATE` writes new row versions at the end of
/// the heap, so pg_dump of the live result lists the updated rows last,
/// while a rewritten dump keeps them in place; nothing else is reordered.
fn rows_sorted(dump: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut rows: Vec<&str> = Vec::new();
    let mut in_copy = false;
    for line in dump.lines() {
        let row = if in_copy { line != "\\." } else { line.starts_with("INSERT INTO ") };
        if row {
            rows.push(line);
            continue;
        }
        rows.sort_unstable();
        out.append(&mut rows);
        if in_copy {
            in_copy = false;
        } else if line.starts_with("COPY ") && line.ends_with(" FROM stdin;") {
            in_copy = true;
        }
        out.push(line);
    }
    rows.sort_unstable();
    out.append(&mut rows);
    out.join("\n")
}

/// Issue 24: column renames of partitioned (LIST, RANGE, expression key,
/// two levels, a table attached later) and inheritance parents, each rule
/// naming the parent only, as the DBA types the live `ALTER TABLE parent
/// RENAME COLUMN`: the partitions' and children's columns, the partition
/// keys, indexes, constraints, views, triggers, comments and foreign keys
/// follow, in every form pg_dump 15 and 18 write (fixtures/pg-partitions).
///
/// The schema (fixtures/pg-partitions/schema.sql) has a sub-partitioned
/// parent, a partition key expression, DEFAULT partitions, a partition in
/// another schema, a child inheriting from two parents (a column renamed
/// in each), and indexes, views, triggers, comments and a foreign key on
/// the children naming the renamed columns.
#[test]
fn column_renames_of_partitioned_and_inheritance_parents_match_the_live_alter() {
    let d = "pg-partitions";
    for &(before, opts) in PARTITION_FORMS {
        let (after, dump_opts): (&str, &[&str]) = match opts {
            "--inserts" => ("after-live-inserts.sql", &["--inserts"]),
            "--column-inserts" => ("after-live-column-inserts.sql", &["--column-inserts"]),
            _ => ("after-live.sql", &[]),
        };
        live_round_trip(d, before, after, dump_opts, &[]);
    }
}

/// Value rules naming a partitioned parent (two levels, DEFAULT partition,
/// a partition in another schema) or an inheritance parent (grandchild,
/// multiple inheritance) rewrite the rows pg_dump writes under each
/// partition's and child's own `COPY` / `INSERT`, as the live `UPDATE
/// parent` does, in every plain and archive form of pg_dump 15 and 18.
#[test]
fn value_rules_on_partitioned_and_inheritance_parents_match_the_live_update() {
    let d = "pg-partitions";
    let rules = [
        "--rewrite", "sales.note:n-=N-",
        "--rewrite", "tagged.note:x=X",
        "--rewrite", "item.label:x-=y-",
    ];
    let live = PgDb::new("refs_values_live");
    live.restore(&fixture(&format!("{d}/before.sql")));
    live.query(
        "UPDATE sales SET note = 'N-' || substr(note, 3) WHERE note LIKE 'n-%'; \
         UPDATE tagged SET note = 'X' || substr(note, 2) WHERE note LIKE 'x%'; \
         UPDATE item SET label = 'y-' || substr(label, 3) WHERE label LIKE 'x-%'",
    );
    // The rows the live UPDATEs changed are in the partitions and children
    // only (a partitioned parent holds no rows; item's own is one of five).
    let changed = live.query(
        "SELECT DISTINCT tableoid::regclass::text FROM \
         (SELECT tableoid FROM sales WHERE note LIKE 'N-%' UNION ALL \
          SELECT tableoid FROM tagged WHERE note LIKE 'X%' UNION ALL \
          SELECT tableoid FROM item WHERE label LIKE 'y-%') t",
    );
    let mut changed: Vec<&str> = changed.lines().collect();
    changed.sort_unstable();
    assert_eq!(
        changed,
        [
            "item", "item_child", "item_grandchild", "item_multi", "other.item_other", "other.tagged_c",
            "sales_2025", "sales_2026_north", "sales_2026_south", "sales_old", "tagged_ab",
        ]
    );
    for &(before, opts) in PARTITION_FORMS {
        let dump_opts: &[&str] = if opts.is_empty() { &[] } else { &[opts] };
        let want = rows_sorted(&without_restrict_keys(&live.dump(dump_opts)));
        let got = rows_sorted(&rewritten_and_restored(d, before, dump_opts, &rules));
        assert!(got == want, "{d}/{before}: restored dump differs from the live UPDATE's: {}", first_difference(&got, &want));
    }
}

/// A rule on a parent needs the `ATTACH PARTITION` edge before the
/// partition's `CREATE TABLE` and rows go by. Past the read-ahead limit
/// (here 1 MiB of pre-data, `--max-record-size 1`, before the ATTACHes),
/// or with an ATTACH moved after the rows, the run stops with the rule to
/// add (a column rename's, a value rule's), the line, a non-zero exit and
/// no output file; it does not abort, and never writes partly rewritten
/// rows.
#[test]
fn a_parent_rule_whose_attach_is_not_read_ahead_is_refused_with_the_rule_to_add() {
    let dir = scratch();
    let text = std::fs::read_to_string(fixture("pg-partitions/before.sql")).expect("fixture");
    let first_attach = text.find("ALTER TABLE ONLY public.tagged ATTACH PARTITION").expect("an ATTACH");
    // 1.5 MiB of small statements (each far below the record limit).
    let padding: String = (0..1500)
        .map(|i| format!("COMMENT ON TABLE public.fiscal IS 'padding {i} {}';\n", "x".repeat(1000)))
        .collect();
    let long = dir.path().join("long-predata.sql");
    std::fs::write(&long, format!("{}{padding}{}", &text[..first_attach], &text[first_attach..])).expect("write");
    let attach = text
        .lines()
        .find(|l| l.contains("ATTACH PARTITION public.sales_2025 "))
        .expect("the fixture attaches sales_2025");
    let moved = dir.path().join("moved-attach.sql");
    std::fs::write(&moved, format!("{}\n{attach}\n", text.replacen(attach, "", 1))).expect("write");
    let cases: [(&std::path::Path, &[&str], &str, &str); 4] = [
        (&long, &["--rename-column", "tagged.code=tag"], "--rename-column other.tagged_c.code=tag", "1 MiB read ahead"),
        (&long, &["--rewrite", "tagged.note:x=X"], "--rewrite other.tagged_c.note:x=X", "1 MiB read ahead"),
        (&moved, &["--rename-column", "sales.year=fiscal_year"], "--rename-column public.sales_2025.year=fiscal_year", "after table data"),
        (&moved, &["--rewrite", "sales.note:n-=N-"], "--rewrite public.sales_2025.note:n-=N-", "after table data"),
    ];
    for (input, rules, rule, why) in cases {
        let out = dir.path().join("out.sql");
        let o = run(dumpsed()
            .args(["rewrite", "--quiet", "--max-record-size", "1"])
            .args(rules)
            .arg(input)
            .arg("-o")
            .arg(&out));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code().is_some_and(|c| c != 0), "{rules:?}: not a clean failure: {:?} {err}", o.status);
        assert!(err.contains(rule) && err.contains(why) && err.contains("line "), "{rules:?}: {err}");
        assert!(!out.exists(), "{rules:?}: no output file after an error");
    }
    // The same pre-data within the default read-ahead (64 MiB) passes.
    let out = dir.path().join("out.sql");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rewrite", "tagged.note:x=X"])
        .arg(&long)
        .arg("-o")
        .arg(&out));
    let db = PgDb::new("refs_long_predata");
    db.restore(&out);
    assert_eq!(db.query("SELECT string_agg(note, ',' ORDER BY id) FROM tagged").trim(), "X,y,X3,X4");
}

/// Issue 26 class 6: rows of a table that inherits columns, in an
/// `--inserts` dump (no column names): `inspect` reads them, and value
/// rules on an inherited column of a child and on the child's own column
/// after the inherited ones edit the right values, as the live `UPDATE`
/// does: item_child's rules reach its child item_grandchild too (its
/// `extra`), where the grandchild's own rule on `label` is the one that
/// applies (no grandchild label starts with `ch`, so the live recursive
/// UPDATE agrees).
#[test]
fn inherited_columns_are_known_wherever_rows_are_read() {
    let input = fixture("pg-partitions/before-inserts.sql");
    let o = run(dumpsed().arg("inspect").arg(&input));
    assert!(o.status.success(), "inspect: {}", String::from_utf8_lossy(&o.stderr));
    let live = PgDb::new("refs_inh_live");
    live.restore(&input);
    assert_eq!(live.query("SELECT count(*) FROM item_grandchild WHERE label LIKE 'ch%'").trim(), "0");
    live.query(
        "UPDATE item_child SET \
           label = CASE WHEN label LIKE 'ch%' THEN replace(label, 'ch', 'CH') ELSE label END, \
           extra = CASE WHEN extra LIKE 'e%' THEN replace(extra, 'e', 'E') ELSE extra END; \
         UPDATE ONLY item_grandchild SET label = replace(label, 'gr', 'GR') WHERE label LIKE 'gr%'; \
         UPDATE ONLY other.item_other SET note = replace(note, 'n', 'N') WHERE note LIKE 'n%'",
    );
    let want = rows_sorted(&without_restrict_keys(&live.dump(&["--inserts"])));
    assert!(want.contains("(2, 'CHild', 2, 'E')"), "the live UPDATE changed the child's row");
    assert!(want.contains("(3, 'GRand', 3, 'E2', 7)"), "the live UPDATE changed the grandchild's row");
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
        let got = rows_sorted(&without_restrict_keys(&got.dump(&["--inserts"])));
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

/// PostgreSQL 18's temporal keys (`PRIMARY KEY (id, valid_at WITHOUT
/// OVERLAPS)`, `FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES rooms (id,
/// PERIOD valid_at)`) on a real 18 server (the matrix's): columns of both
/// tables renamed live and offline (plain and custom archive by pg_dump 18,
/// restored with its psql / pg_restore) give the same dump. Before the fix
/// the `PERIOD` columns kept their old names and the key did not restore.
#[test]
fn pg18_temporal_foreign_key_columns_renamed_as_live() {
    let Some(bin) = matrix_need("DUMPSED_MATRIX_SERVERS", "18") else { return };
    let Some(client) = matrix_need("DUMPSED_MATRIX_CLIENTS", "18") else { return };
    let server = Server::start(&bin, 55481);
    let schema = "CREATE EXTENSION btree_gist;
        CREATE TABLE public.rooms (id integer, valid_at tstzrange, name text,
            PRIMARY KEY (id, valid_at WITHOUT OVERLAPS));
        CREATE TABLE public.bookings (id integer, room_id integer, valid_at tstzrange,
            FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES public.rooms (id, PERIOD valid_at));
        INSERT INTO public.rooms VALUES (1, '[2025-01-01,2026-01-01)', 'a');
        INSERT INTO public.bookings VALUES (1, 1, '[2025-02-01,2025-03-01)');";
    let renames = [("rooms", "valid_at", "va_renamed"), ("bookings", "valid_at", "vb_renamed"), ("rooms", "id", "id_renamed")];
    for db in ["before", "live"] {
        server.sql(&client, "postgres", &format!("CREATE DATABASE {db}"));
        server.sql(&client, db, schema);
    }
    for (t, c, n) in renames {
        server.sql(&client, "live", &format!("ALTER TABLE public.{t} RENAME COLUMN {c} TO {n}"));
    }
    let pg_dump = |db: &str, opts: &[&str]| {
        without_restrict_keys(&ok(server.at(&mut std::process::Command::new(client.join("pg_dump"))).args(opts).arg(db)))
    };
    let want = pg_dump("live", &[]);
    let dir = scratch();
    let mut rules = vec!["rewrite".to_string(), "--quiet".to_string()];
    for (t, c, n) in renames {
        rules.push("--rename-column".into());
        rules.push(format!("public.{t}.{c}={n}"));
    }
    for (i, (form, file)) in [("-Fp", "d.sql"), ("-Fc", "d.dump")].into_iter().enumerate() {
        let input = dir.path().join(file);
        pg_dump("before", &[form, &format!("--file={}", input.display())]);
        let out = dir.path().join(format!("out-{file}"));
        ok(dumpsed().args(&rules).arg(&input).arg("-o").arg(&out));
        let db = format!("restored{i}");
        server.sql(&client, "postgres", &format!("CREATE DATABASE {db}"));
        let mut restore = if form == "-Fp" {
            let mut c = std::process::Command::new(client.join("psql"));
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f"]).arg(&out);
            c
        } else {
            let mut c = std::process::Command::new(client.join("pg_restore"));
            c.args(["--exit-on-error", "--single-transaction"]).arg(&out);
            c
        };
        ok(server.at(&mut restore).args(["-d", &db]).stdout(std::process::Stdio::null()));
        let got = pg_dump(&db, &[]);
        assert!(got == want, "{form}: {}", first_difference(&got, &want));
    }
}
