//! `dumpsed::internals::sqlite_schema` against the real sqlite3 CLI.
//!
//! For each case of `fixtures/sqlite-alter/cases.sql`: build the database
//! with `sqlite3`, `.dump` it (before), run the live `ALTER TABLE`s with
//! `sqlite3`, `.dump` again (after). Then feed the before dump's schema
//! statements, in dump order, through `Shadow::renamed` and require exactly
//! the after dump's statements. The ALTER text given to the CLI is written
//! here, independently of `SqliteRenames::alter_statements`.
//!
//! Needs `sqlite3` on PATH (tests/run.sh installs it); fails without it.

use std::ffi::CString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use dumpsed::internals::sqlite_schema::{ColumnRename, Shadow, SqliteRenames};

struct Case {
    name: String,
    renames: SqliteRenames,
    /// How the CLI is told: the ALTER statements, written by this test.
    alters: Vec<u8>,
    expect_error: Option<String>,
    known_limitation: Option<String>,
    sql: Vec<u8>,
    /// Generated case: the schema may not build (then skipped), and a live
    /// ALTER failure only requires dumpsed to fail too.
    generated: bool,
}

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// Splits directive arguments: bare words, or "quoted" with "" for ".
fn words(line: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if line[i].is_ascii_whitespace() {
            i += 1;
        } else if line[i] == b'"' {
            let mut w = Vec::new();
            i += 1;
            loop {
                assert!(i < line.len(), "unterminated quote in {}", show(line));
                if line[i] == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        w.push(b'"');
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    w.push(line[i]);
                    i += 1;
                }
            }
            out.push(w);
        } else {
            let s = i;
            while i < line.len() && !line[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(line[s..i].to_vec());
        }
    }
    out
}

fn quote(name: &[u8]) -> Vec<u8> {
    let mut v = vec![b'"'];
    for &b in name {
        if b == b'"' {
            v.push(b'"');
        }
        v.push(b);
    }
    v.push(b'"');
    v
}

fn parse_cases(text: &[u8]) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut col_alters: Vec<u8> = Vec::new();
    let mut tab_alters: Vec<u8> = Vec::new();
    let finish = |cases: &mut Vec<Case>, col: &mut Vec<u8>, tab: &mut Vec<u8>| {
        if let Some(c) = cases.last_mut() {
            c.alters = [std::mem::take(col), std::mem::take(tab)].concat();
        }
    };
    for line in text.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"-- case: ") {
            finish(&mut cases, &mut col_alters, &mut tab_alters);
            let name = rest.split(|&b| b == b' ').next().unwrap_or(rest);
            cases.push(Case {
                name: String::from_utf8_lossy(name).into_owned(),
                renames: SqliteRenames::default(),
                alters: Vec::new(),
                expect_error: None,
                known_limitation: None,
                sql: Vec::new(),
                generated: false,
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            continue;
        };
        if let Some(rest) = line.strip_prefix(b"-- rename-table: ") {
            let w = words(rest);
            assert_eq!(w.len(), 2, "{}: rename-table takes 2 names", case.name);
            tab_alters.extend_from_slice(b"ALTER TABLE ");
            tab_alters.extend(quote(&w[0]));
            tab_alters.extend_from_slice(b" RENAME TO ");
            tab_alters.extend(quote(&w[1]));
            tab_alters.extend_from_slice(b";\n");
            case.renames.tables.push((w[0].clone(), w[1].clone()));
        } else if let Some(rest) = line.strip_prefix(b"-- rename-column: ") {
            let w = words(rest);
            assert!(
                w.len() == 3 || (w.len() == 4 && w[3] == b"quoted"),
                "{}: bad rename-column",
                case.name
            );
            let quoted = w.len() == 4;
            col_alters.extend_from_slice(b"ALTER TABLE ");
            col_alters.extend(quote(&w[0]));
            col_alters.extend_from_slice(b" RENAME COLUMN ");
            col_alters.extend(quote(&w[1]));
            col_alters.extend_from_slice(b" TO ");
            // Bare when the case says so and the name allows it (the cases
            // only use bare names that are plain identifiers).
            let bare_ok = w[2].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                && cli_takes_bare_column_name(&w[2]);
            if quoted || !bare_ok {
                col_alters.extend(quote(&w[2]));
            } else {
                col_alters.extend_from_slice(&w[2]);
            }
            col_alters.extend_from_slice(b";\n");
            case.renames.columns.push(ColumnRename {
                table: w[0].clone(),
                old: w[1].clone(),
                new: w[2].clone(),
                quoted,
            });
        } else if let Some(rest) = line.strip_prefix(b"-- expect-error: ") {
            case.expect_error = Some(String::from_utf8_lossy(rest).into_owned());
        } else if let Some(rest) = line.strip_prefix(b"-- known-limitation: ") {
            case.known_limitation = Some(String::from_utf8_lossy(rest).into_owned());
        } else if !line.starts_with(b"--") {
            case.sql.extend_from_slice(line);
            case.sql.push(b'\n');
        }
    }
    finish(&mut cases, &mut col_alters, &mut tab_alters);
    cases
}

/// Whether the sqlite3 CLI accepts `ALTER TABLE … RENAME COLUMN … TO name`
/// with `name` bare (a fallback keyword such as `key` is; `order` is a
/// syntax error).
fn cli_takes_bare_column_name(name: &[u8]) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sql = b"CREATE TABLE p(a);\nALTER TABLE p RENAME COLUMN a TO ".to_vec();
    sql.extend_from_slice(name);
    sql.extend_from_slice(b";\n");
    sqlite3(&dir.path().join("probe.db"), &[], &sql).0
}

/// Runs `sqlite3 -bail db` with `input` on stdin: (success, stdout, stderr).
fn sqlite3(db: &Path, args: &[&str], input: &[u8]) -> (bool, Vec<u8>, String) {
    let mut child = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sqlite3 (apt-get install sqlite3): {e}"));
    if let Some(mut s) = child.stdin.take() {
        s.write_all(input).expect("write to sqlite3");
    }
    let out = child.wait_with_output().expect("sqlite3 output");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `.dump` split into statements with SQLite's own `sqlite3_complete`,
/// each without its final newline.
fn statements(dump: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for line in dump.split_inclusive(|&b| b == b'\n') {
        cur.extend_from_slice(line);
        let c = CString::new(cur.clone()).expect("no NUL in a dump");
        // SAFETY: NUL-terminated string valid for the call.
        if unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) } != 0 {
            let mut s = std::mem::take(&mut cur);
            if s.last() == Some(&b'\n') {
                s.pop();
            }
            out.push(s);
        }
    }
    assert!(
        cur.iter().all(u8::is_ascii_whitespace),
        "dump ends mid-statement: {}",
        show(&cur)
    );
    out
}

/// Schema statements of a `.dump`: CREATEs, and the sqlite_schema row it
/// writes for a virtual table.
fn is_schema(stmt: &[u8]) -> bool {
    stmt.starts_with(b"CREATE ") || stmt.starts_with(b"INSERT INTO sqlite_schema(")
}

/// The name in `INSERT INTO sqlite_sequence VALUES('name',n);`.
fn sequence_row(stmt: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let rest = stmt.strip_prefix(b"INSERT INTO sqlite_sequence VALUES('")?;
    let mut name = Vec::new();
    let mut i = 0;
    loop {
        match rest.get(i)? {
            b'\'' if rest.get(i + 1) == Some(&b'\'') => {
                name.push(b'\'');
                i += 2;
            }
            b'\'' => break,
            &b => {
                name.push(b);
                i += 1;
            }
        }
    }
    Some((name, &rest[i + 1..]))
}

fn fmt_list(v: &[Vec<u8>]) -> String {
    v.iter().map(|s| format!("  {}\n", show(s))).collect()
}

struct Outcome {
    failures: Vec<String>,
}

/// Runs one case; false when a generated case's schema does not build.
fn run_case(case: &Case, outcome: &mut Outcome) -> bool {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("case.db");
    let (ok, _, err) = sqlite3(&db, &[], &case.sql);
    if !ok && case.generated {
        return false;
    }
    assert!(ok, "{}: building the schema failed: {err}", case.name);
    let (ok, before, err) = sqlite3(&db, &[".dump"], b"");
    assert!(ok, "{}: .dump failed: {err}", case.name);
    // Column flags from the CLI, for Shadow::columns.
    let (ok, cols_cli, err) = sqlite3(
        &db,
        &["-separator", "|", "SELECT m.name, p.name, p.hidden IN (2,3) FROM sqlite_schema m, pragma_table_xinfo(m.name) p WHERE m.type='table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.rowid, p.cid"],
        b"",
    );
    assert!(ok, "{}: table_xinfo failed: {err}", case.name);
    let (live_ok, _, live_err) = sqlite3(&db, &[], &case.alters);
    let (ok, after, err) = sqlite3(&db, &[".dump"], b"");
    assert!(ok, "{}: .dump after failed: {err}", case.name);

    let before = statements(&before);
    let after = statements(&after);
    let before_schema: Vec<Vec<u8>> = before.iter().filter(|s| is_schema(s)).cloned().collect();
    let after_schema: Vec<Vec<u8>> = after.iter().filter(|s| is_schema(s)).cloned().collect();

    let mut shadow = Shadow::new().expect("shadow");
    let mut got = Vec::new();
    let mut our_err = None;
    for s in &before_schema {
        match shadow.renamed(s, &case.renames) {
            Ok(Some(new)) => got.push(new),
            Ok(None) => got.push(s.clone()),
            Err(e) => {
                our_err = Some(e);
                break;
            }
        }
    }
    if our_err.is_none() {
        our_err = shadow.finish(&case.renames).err();
    }
    let fail =
        |outcome: &mut Outcome, msg: String| outcome.failures.push(format!("{}: {msg}", case.name));

    if let Some(want) = &case.expect_error {
        if live_ok || !live_err.contains(want.as_str()) {
            fail(
                outcome,
                format!(
                    "the CLI was expected to fail with {want:?}, got ok={live_ok} {live_err:?}"
                ),
            );
        }
        match &our_err {
            Some(e) if e.contains(want.as_str()) => {}
            other => fail(
                outcome,
                format!("dumpsed was expected to fail with {want:?}, got {other:?}"),
            ),
        }
        return true;
    }
    if !live_ok && case.generated {
        if our_err.is_none() {
            fail(outcome, format!("the live ALTER failed ({live_err}) but dumpsed did not\n{}", String::from_utf8_lossy(&case.sql)));
        }
        return true;
    }
    if !live_ok {
        fail(
            outcome,
            format!(
                "the live ALTER failed: {live_err}\n{}",
                String::from_utf8_lossy(&case.alters)
            ),
        );
        return true;
    }
    if let Some(want) = &case.known_limitation {
        match &our_err {
            Some(e) if e.contains(want.as_str()) => {}
            other => fail(outcome, format!("known limitation {want:?} no longer occurs (got {other:?}): update the docs and this case")),
        }
        return true;
    }
    if let Some(e) = our_err {
        fail(
            outcome,
            format!("dumpsed failed where the CLI succeeded: {e}"),
        );
        return true;
    }
    if before_schema == after_schema {
        fail(outcome, "the live rename changed no schema statement: the case cannot tell renaming from copying".into());
    }
    if got != after_schema {
        fail(
            outcome,
            format!(
                "renamed schema differs from the live .dump\n--- before\n{}--- live\n{}--- dumpsed\n{}",
                fmt_list(&before_schema),
                fmt_list(&after_schema),
                fmt_list(&got)
            ),
        );
    }

    // sqlite_sequence rows: the live rename updates them (alter.c); sqlite_stat1
    // rows it leaves alone. Everything that is not schema must match the live
    // dump once sequence rows are mapped (INSERT INTO <table> lines aside,
    // which the rest of dumpsed renames).
    let rest_before: Vec<&Vec<u8>> = before.iter().filter(|s| !is_schema(s)).collect();
    let rest_after: Vec<&Vec<u8>> = after.iter().filter(|s| !is_schema(s)).collect();
    if rest_before.len() != rest_after.len() {
        fail(outcome, "different number of non-schema statements".into());
        return true;
    }
    for (b, a) in rest_before.iter().zip(&rest_after) {
        if let Some((name, tail)) = sequence_row(b) {
            let mapped = match shadow.sequence_name(&name, &case.renames) {
                Ok(Some(n)) => n,
                Ok(None) => name.clone(),
                Err(e) => {
                    fail(outcome, format!("sequence_name: {e}"));
                    continue;
                }
            };
            let mut want = b"INSERT INTO sqlite_sequence VALUES('".to_vec();
            for &c in &mapped {
                if c == b'\'' {
                    want.push(b'\'');
                }
                want.push(c);
            }
            want.push(b'\'');
            want.extend_from_slice(tail);
            if &want != *a {
                fail(
                    outcome,
                    format!(
                        "sqlite_sequence row: dumpsed {} live {}",
                        show(&want),
                        show(a)
                    ),
                );
            }
        } else if b.starts_with(b"INSERT INTO sqlite_stat1") && b != a {
            fail(
                outcome,
                format!(
                    "sqlite_stat1 row changed by the live rename: {} -> {}",
                    show(b),
                    show(a)
                ),
            );
        }
    }

    // `.dump` rows carry values for the non-generated columns only, with no
    // column list (Shadow::columns' doc): check it on every INSERT.
    for stmt in &before {
        let Some(rest) = stmt.strip_prefix(b"INSERT INTO ") else {
            continue;
        };
        let Some(open) = rest.windows(7).position(|w| w == b" VALUES") else {
            continue;
        };
        let table = unquote_shell_name(&rest[..open]);
        if table.starts_with(b"sqlite_") {
            continue;
        }
        let Ok(cols) = shadow.columns(&table) else {
            fail(
                outcome,
                format!("columns({}) failed for a dumped table", show(&table)),
            );
            continue;
        };
        let want = cols.iter().filter(|c| !c.1).count();
        let got = count_values(&rest[open + 7..]);
        if got != want {
            fail(
                outcome,
                format!("{}: {got} values, {want} non-generated columns", show(stmt)),
            );
        }
    }

    // Shadow::columns against PRAGMA table_xinfo in the CLI (before renames).
    let mut cli: Vec<(Vec<u8>, Vec<u8>, bool)> = Vec::new();
    for line in cols_cli.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let parts: Vec<&[u8]> = line.splitn(3, |&b| b == b'|').collect();
        if parts.len() == 3 {
            cli.push((parts[0].to_vec(), parts[1].to_vec(), parts[2] == b"1"));
        }
    }
    let mut tables: Vec<Vec<u8>> = cli.iter().map(|c| c.0.clone()).collect();
    tables.dedup();
    for t in tables {
        let want: Vec<(Vec<u8>, bool)> = cli
            .iter()
            .filter(|c| c.0 == t)
            .map(|c| (c.1.clone(), c.2))
            .collect();
        match shadow.columns(&t) {
            Ok(cols) if cols == want => {}
            other => fail(
                outcome,
                format!("columns({}) = {other:?}, CLI says {want:?}", show(&t)),
            ),
        }
    }
    true
}

/// The table name of a `.dump` INSERT (`quoteChar` in shell.c.in quotes
/// with `"` when needed).
fn unquote_shell_name(s: &[u8]) -> Vec<u8> {
    match s.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) {
        Some(inner) => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < inner.len() {
                out.push(inner[i]);
                i += if inner[i] == b'"' { 2 } else { 1 };
            }
            out
        }
        None => s.to_vec(),
    }
}

/// Number of top-level values in `(v1,v2,…);`, minding '…' strings and
/// nested parentheses (replace(…), char(…)).
fn count_values(s: &[u8]) -> usize {
    let (mut depth, mut n, mut in_str, mut seen) = (0i32, 0usize, false, false);
    for &b in s {
        if in_str {
            if b == b'\'' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'\'' => in_str = true,
            b'(' => {
                depth += 1;
                if depth == 1 {
                    n = 1;
                    continue;
                }
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    seen = true;
                    break;
                }
            }
            b',' if depth == 1 => n += 1,
            _ => {}
        }
    }
    if seen {
        n
    } else {
        0
    }
}

#[test]
fn renames_match_live_sqlite3() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sqlite-alter/cases.sql");
    let text = std::fs::read(&path).expect("read cases.sql");
    let cases = parse_cases(&text);
    assert!(cases.len() >= 30, "only {} cases parsed", cases.len());
    let mut outcome = Outcome {
        failures: Vec::new(),
    };
    for case in &cases {
        assert!(!case.renames.is_empty(), "{}: no renames", case.name);
        run_case(case, &mut outcome);
    }
    assert!(
        outcome.failures.is_empty(),
        "{} failures over {} cases:\n\n{}",
        outcome.failures.len(),
        cases.len(),
        outcome.failures.join("\n\n")
    );
}

/// Names that are not UTF-8: SQLite takes them as bytes, so must dumpsed.
#[test]
fn non_utf8_names_match_live_sqlite3() {
    let mut sql =
        b"CREATE TABLE \"t\xff\xfe\"(\"c\xe9\" TEXT, x REFERENCES \"t\xff\xfe\"(\"c\xe9\"));\n"
            .to_vec();
    sql.extend_from_slice(b"CREATE VIEW \"v\xff\" AS SELECT \"c\xe9\" FROM \"t\xff\xfe\";\n");
    let case = Case {
        name: "non-utf8".into(),
        renames: SqliteRenames {
            tables: vec![(b"t\xff\xfe".to_vec(), b"n\xfd".to_vec())],
            columns: vec![ColumnRename {
                table: b"t\xff\xfe".to_vec(),
                old: b"c\xe9".to_vec(),
                new: b"d\xe8".to_vec(),
                quoted: true,
            }],
        },
        alters: b"ALTER TABLE \"t\xff\xfe\" RENAME COLUMN \"c\xe9\" TO \"d\xe8\";\nALTER TABLE \"t\xff\xfe\" RENAME TO \"n\xfd\";\n".to_vec(),
        expect_error: None,
        known_limitation: None,
        sql,
        generated: false,
    };
    let mut outcome = Outcome {
        failures: Vec::new(),
    };
    run_case(&case, &mut outcome);
    assert!(
        outcome.failures.is_empty(),
        "{}",
        outcome.failures.join("\n\n")
    );
}

/// A small deterministic generator (xorshift64*), so that a failure names
/// its seed and can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, v: &'a [&'a [u8]]) -> &'a [u8] {
        v[self.below(v.len())]
    }
}

/// Names that spelling-based renaming gets wrong: shared by tables, columns
/// and aliases, keywords, case variants, quotes, spaces, UTF-8 and non-UTF-8.
const NAMES: &[&[u8]] = &[
    b"a", b"b", b"c", b"t", b"T", b"category", b"Category", b"name", b"id", b"order",
    b"key", b"select", b"x y", b"we\"ird", b"it's", b"n\xc3\xa9", b"\xff\xfe", b"main",
    b"rowid", b"new", b"old", b"tab_1",
];

/// One occurrence of `name`, in a random quoting style valid for it.
fn ident(rng: &mut Rng, name: &[u8]) -> Vec<u8> {
    let plain = name
        .first()
        .is_some_and(|f| f.is_ascii_alphabetic() || *f == b'_')
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    match rng.below(4) {
        // Bare keywords may not parse: the CLI then refuses the schema and
        // the case is skipped.
        0 if plain => name.to_vec(),
        1 if !name.contains(&b']') => [&b"["[..], name, b"]"].concat(),
        2 => {
            let mut v = vec![b'`'];
            for &b in name {
                if b == b'`' {
                    v.push(b'`');
                }
                v.push(b);
            }
            v.push(b'`');
            v
        }
        _ => quote(name),
    }
}

fn pick_unique<'a>(rng: &mut Rng, taken: &[&[u8]]) -> Option<&'a [u8]> {
    for _ in 0..20 {
        let n = rng.pick(NAMES);
        if !taken.iter().any(|t| t.eq_ignore_ascii_case(n)) {
            return Some(n);
        }
    }
    None
}

fn generate(seed: u64) -> Option<Case> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut tables: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    for _ in 0..2 + rng.below(3) {
        let taken: Vec<&[u8]> = tables.iter().map(|t| t.0).collect();
        let name = pick_unique(&mut rng, &taken)?;
        let mut cols: Vec<&[u8]> = Vec::new();
        for _ in 0..1 + rng.below(4) {
            if let Some(c) = pick_unique(&mut rng, &cols) {
                cols.push(c);
            }
        }
        tables.push((name, cols));
    }
    let mut sql = Vec::new();
    for (i, (name, cols)) in tables.iter().enumerate() {
        sql.extend_from_slice(b"CREATE TABLE ");
        if rng.chance(15) && !name.contains(&b'\'') {
            sql.extend([&b"'"[..], name, b"'"].concat());
        } else {
            sql.extend(ident(&mut rng, name));
        }
        sql.push(b'(');
        for (k, c) in cols.iter().enumerate() {
            if k > 0 {
                sql.extend_from_slice(b", ");
            }
            sql.extend(ident(&mut rng, c));
            if k == 0 && rng.chance(40) {
                sql.extend_from_slice(b" INTEGER PRIMARY KEY");
            }
            if rng.chance(25) {
                // Any table, also one created later (forward FK).
                let (pt, pcols) = &tables[rng.below(tables.len())];
                sql.extend_from_slice(b" REFERENCES ");
                sql.extend(ident(&mut rng, pt));
                if rng.chance(70) {
                    let pc = pcols[rng.below(pcols.len())];
                    sql.push(b'(');
                    sql.extend(ident(&mut rng, pc));
                    sql.push(b')');
                }
            }
        }
        if rng.chance(20) {
            // A double-quoted string (no such column): RENAME COLUMN turns
            // it into '…' in every object (renameFixQuotes).
            sql.extend_from_slice(b", dq DEFAULT \"dq text\"");
        }
        if rng.chance(25) {
            let c = cols[rng.below(cols.len())];
            sql.extend_from_slice(b", gen AS (");
            sql.extend(ident(&mut rng, c));
            sql.extend_from_slice(if rng.chance(50) { &b") STORED"[..] } else { &b")"[..] });
        }
        if rng.chance(30) {
            let c = cols[rng.below(cols.len())];
            sql.extend_from_slice(b", CHECK (");
            sql.extend(ident(&mut rng, c));
            sql.extend_from_slice(b" IS NOT NULL OR ");
            sql.extend(ident(&mut rng, c));
            sql.extend_from_slice(b" IS NULL)");
        }
        sql.extend_from_slice(b");\n");
        if rng.chance(30) {
            sql.extend_from_slice(b"INSERT INTO ");
            sql.extend(quote(name));
            sql.extend_from_slice(b" DEFAULT VALUES;\n");
        }
        let _ = i;
    }
    for i in 0..rng.below(3) {
        let (t, cols) = &tables[rng.below(tables.len())];
        let c = cols[rng.below(cols.len())];
        sql.extend(format!("CREATE INDEX i{i} ON ").into_bytes());
        sql.extend(ident(&mut rng, t));
        sql.push(b'(');
        sql.extend(ident(&mut rng, c));
        sql.push(b')');
        if rng.chance(30) {
            sql.extend_from_slice(b" WHERE ");
            sql.extend(ident(&mut rng, c));
            sql.extend_from_slice(b" > 0");
        }
        sql.extend_from_slice(b";\n");
    }
    for i in 0..rng.below(3) {
        let (t, cols) = &tables[rng.below(tables.len())];
        sql.extend(format!("CREATE VIEW v{i} AS SELECT ").into_bytes());
        for (k, c) in cols.iter().enumerate() {
            if k > 0 {
                sql.extend_from_slice(b", ");
            }
            if rng.chance(50) {
                sql.extend(ident(&mut rng, t));
                sql.push(b'.');
            }
            sql.extend(ident(&mut rng, c));
            if rng.chance(50) {
                // Aliases drawn from the same names as tables and columns.
                sql.extend_from_slice(b" AS ");
                let alias = rng.pick(NAMES);
                sql.extend(ident(&mut rng, alias));
            }
        }
        sql.extend_from_slice(b" FROM ");
        sql.extend(ident(&mut rng, t));
        if rng.chance(30) {
            let (u, ucols) = &tables[rng.below(tables.len())];
            if u != t {
                sql.extend_from_slice(b" JOIN ");
                sql.extend(ident(&mut rng, u));
                sql.extend_from_slice(b" ON ");
                sql.extend(ident(&mut rng, u));
                sql.push(b'.');
                let uc = ucols[rng.below(ucols.len())];
                sql.extend(ident(&mut rng, uc));
                sql.extend_from_slice(b" = ");
                sql.extend(ident(&mut rng, t));
                sql.push(b'.');
                sql.extend(ident(&mut rng, cols[0]));
            }
        }
        if rng.chance(30) {
            sql.extend_from_slice(b" WHERE ");
            sql.extend(ident(&mut rng, cols[0]));
            // A string literal spelled like a name: never renamed.
            sql.extend_from_slice(b" <> '");
            sql.extend(t.iter().filter(|&&b| b != b'\''));
            sql.push(b'\'');
        }
        sql.extend_from_slice(b";\n");
    }
    if rng.chance(50) {
        let (t, cols) = &tables[rng.below(tables.len())];
        let (u, ucols) = &tables[rng.below(tables.len())];
        let c = cols[rng.below(cols.len())];
        let d = ucols[rng.below(ucols.len())];
        sql.extend_from_slice(b"CREATE TRIGGER tr0 AFTER UPDATE OF ");
        sql.extend(ident(&mut rng, c));
        sql.extend_from_slice(b" ON ");
        sql.extend(ident(&mut rng, t));
        sql.extend_from_slice(b" BEGIN\n  UPDATE ");
        sql.extend(ident(&mut rng, u));
        sql.extend_from_slice(b" SET ");
        sql.extend(ident(&mut rng, d));
        sql.extend_from_slice(b" = new.");
        sql.extend(ident(&mut rng, c));
        sql.extend_from_slice(b" WHERE ");
        sql.extend(ident(&mut rng, d));
        sql.extend_from_slice(b" = old.");
        sql.extend(ident(&mut rng, c));
        sql.extend_from_slice(b";\nEND;\n");
    }

    let mut renames = SqliteRenames::default();
    let mut alters = Vec::new();
    for _ in 0..rng.below(3) {
        let (t, cols) = &tables[rng.below(tables.len())];
        let old = cols[rng.below(cols.len())];
        let Some(new) = pick_unique(&mut rng, cols) else { continue };
        let quoted = rng.chance(50);
        if renames.columns.iter().any(|c| c.table == *t && (c.old.eq_ignore_ascii_case(old) || c.new.eq_ignore_ascii_case(new))) {
            continue;
        }
        alters.extend_from_slice(b"ALTER TABLE ");
        alters.extend(quote(t));
        alters.extend_from_slice(b" RENAME COLUMN ");
        alters.extend(quote(old));
        alters.extend_from_slice(b" TO ");
        // A reserved keyword (`order`) cannot be spelled bare: quoted, as
        // a person (and dumpsed) must write it.
        let plain = new.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            && cli_takes_bare_column_name(new);
        if quoted || !plain {
            alters.extend(quote(new));
        } else {
            alters.extend_from_slice(new);
        }
        alters.extend_from_slice(b";\n");
        renames.columns.push(ColumnRename { table: t.to_vec(), old: old.to_vec(), new: new.to_vec(), quoted });
    }
    let (t, _) = &tables[rng.below(tables.len())];
    let taken: Vec<&[u8]> = tables.iter().map(|t| t.0).collect();
    let new = pick_unique(&mut rng, &taken)?;
    alters.extend_from_slice(b"ALTER TABLE ");
    alters.extend(quote(t));
    alters.extend_from_slice(b" RENAME TO ");
    alters.extend(quote(new));
    alters.extend_from_slice(b";\n");
    renames.tables.push((t.to_vec(), new.to_vec()));
    Some(Case {
        name: format!("generated seed {seed}"),
        renames,
        alters,
        expect_error: None,
        known_limitation: None,
        sql,
        generated: true,
    })
}

/// Random schemas over awkward names, renamed live and by dumpsed.
/// `DUMPSED_SQLITE_SEEDS=N` runs more (default 150).
#[test]
fn generated_schemas_match_live_sqlite3() {
    let n: u64 = std::env::var("DUMPSED_SQLITE_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    let mut outcome = Outcome { failures: Vec::new() };
    let (mut built, mut changed) = (0, 0);
    for seed in 0..n {
        let Some(case) = generate(seed) else { continue };
        let before = outcome.failures.len();
        if run_case(&case, &mut outcome) {
            built += 1;
            changed += 1;
        }
        for f in &mut outcome.failures[before..] {
            f.push_str(&format!("\n--- schema\n{}--- alters\n{}", show(&case.sql).replace("\\n", "\n"), show(&case.alters).replace("\\n", "\n")));
        }
    }
    eprintln!("{built} of {n} generated schemas built");
    let _ = changed;
    assert!(built * 2 >= n as usize, "only {built} of {n} generated schemas built");
    assert!(
        outcome.failures.is_empty(),
        "{} failures over {built} generated cases:\n\n{}",
        outcome.failures.len(),
        outcome.failures.join("\n\n")
    );
}
