//! Renames against schemas nobody on the team wrote: PostgreSQL's own core
//! regression database (fixtures/pg-regress) and the objects of pg_dump's TAP
//! test (fixtures/pg-tap), both real pg_dump output made by the regen.sh
//! beside them.
//!
//! For each corpus the truth is the server: the fixture is restored into
//! database A, every target of fixtures/CORPUS/rename-targets.txt is renamed
//! live there (`ALTER TABLE s.t RENAME TO t_renamed`) and A is dumped (want);
//! dumpsed rewrites the fixture with one `--rename-table s.t=t_renamed` per
//! target, the result is restored into database B (psql, ON_ERROR_STOP,
//! single transaction) and B is dumped (got). Both dumps come from pg_dump
//! after the rename, so they must be identical; only pg_dump's random
//! `\restrict` key is ignored, and the rows of each COPY block are compared
//! as a sorted set (row order on disk may differ).
//!
//! In CI: one no-op run and one all-targets run per corpus. Each target alone:
//! `scripts/corpus-per-table.sh` (runs the ignored test `per_table`).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;

/// One corpus: its fixture, the roles it needs, its rename targets.
struct Corpus {
    name: &'static str,
    fixture: &'static str,
}

const PG_REGRESS: Corpus = Corpus {
    name: "pg-regress",
    fixture: "pg-regress/regression.sql.gz",
};
const PG_TAP: Corpus = Corpus {
    name: "pg-tap",
    fixture: "pg-tap/dump.sql",
};

/// A table to rename: schema and name as they are in the catalog.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    schema: String,
    table: String,
}

impl Target {
    fn new_name(&self) -> String {
        format!("{}_renamed", self.table)
    }

    /// The `--rename-table` argument: dumpsed takes names literally.
    fn rule(&self) -> String {
        format!("{}.{}={}", self.schema, self.table, self.new_name())
    }

    /// The live statement.
    fn alter(&self) -> String {
        format!(
            "ALTER TABLE {}.{} RENAME TO {};",
            quote_ident(&self.schema),
            quote_ident(&self.table),
            quote_ident(&self.new_name())
        )
    }

    /// As written in rename-targets.txt (for messages and filters).
    fn display(&self) -> String {
        format!(
            "{}.{}",
            display_ident(&self.schema),
            display_ident(&self.table)
        )
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn display_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\"").replace('\n', "\\n"))
    }
}

/// Parses one identifier of a targets line (`name` or `"quoted ""x"" \n"`),
/// returning it and the rest of the line.
fn parse_ident(s: &str) -> (String, &str) {
    if let Some(rest) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' if matches!(chars.peek(), Some((_, '"'))) => {
                    chars.next();
                    out.push('"');
                }
                '"' => return (out, &rest[i + 1..]),
                '\\' if matches!(chars.peek(), Some((_, 'n'))) => {
                    chars.next();
                    out.push('\n');
                }
                c => out.push(c),
            }
        }
        panic!("unterminated quoted identifier in {s:?}");
    }
    let end = s.find('.').unwrap_or(s.len());
    (s[..end].to_string(), &s[end..])
}

fn parse_target(line: &str) -> Target {
    let (schema, rest) = parse_ident(line);
    let rest = rest
        .strip_prefix('.')
        .unwrap_or_else(|| panic!("target {line:?} is not SCHEMA.TABLE"));
    let (table, rest) = parse_ident(rest);
    assert!(rest.is_empty(), "trailing text in target {line:?}");
    Target { schema, table }
}

fn targets(c: &Corpus) -> Vec<Target> {
    let path = fixture(&format!("{}/rename-targets.txt", c.name));
    let text = std::fs::read_to_string(&path).expect("rename-targets.txt");
    let t: Vec<Target> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(parse_target)
        .collect();
    assert!(
        t.len() >= 20,
        "{}: only {} targets",
        path.display(),
        t.len()
    );
    t
}

/// The fixture as plain SQL in `dir` (decompressed if it is gzip'd).
fn plain_fixture(c: &Corpus, dir: &Path) -> PathBuf {
    let src = fixture(c.fixture);
    if !c.fixture.ends_with(".gz") {
        return src;
    }
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&src).expect("open fixture"))
        .read_to_end(&mut text)
        .expect("gunzip fixture");
    let out = dir.join("fixture.sql");
    std::fs::write(&out, text).expect("write fixture");
    out
}

/// A database for a corpus: its roles created first; subscriptions detached
/// before the guard drops it (a database with one cannot be dropped).
struct CorpusDb {
    db: PgDb,
}

impl CorpusDb {
    fn new(c: &Corpus, tag: &str) -> CorpusDb {
        let db = PgDb::new(tag);
        let roles = fixture(&format!("{}/roles.sql", c.name));
        if roles.exists() {
            ok(Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.name, "-f"])
                .arg(&roles)
                .stdout(Stdio::null()));
        }
        CorpusDb { db }
    }

    /// `psql -X -v ON_ERROR_STOP=1 --single-transaction -f FILE`; the error
    /// lines on failure.
    fn restore(&self, dump: &Path) -> Result<(), String> {
        let out = run(Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-d",
            ])
            .arg(&self.db.name)
            .arg("-f")
            .arg(dump)
            .stdout(Stdio::null()));
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| !l.contains("WARNING:") && !l.starts_with("HINT:  Set wal_level"))
            .collect();
        Err(lines.join("\n"))
    }

    /// Runs SQL text through psql in one transaction, stopping at the first
    /// error.
    fn sql(&self, sql: &str) -> Result<(), String> {
        use std::io::Write;
        let mut child = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-d",
            ])
            .arg(&self.db.name)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run psql");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(sql.as_bytes())
            .expect("write to psql");
        let out = child.wait_with_output().expect("psql");
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn dump(&self) -> String {
        normalize(&self.db.dump(&[]))
    }
}

impl Drop for CorpusDb {
    fn drop(&mut self) {
        let subs = Command::new("psql")
            .args(["-X", "-A", "-t", "-d", &self.db.name, "-c"])
            .arg(
                "SELECT quote_ident(subname) FROM pg_subscription WHERE subdbid = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .output();
        if let Ok(o) = subs {
            for s in String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.is_empty())
            {
                let _ = Command::new("psql")
                    .args(["-X", "-q", "-d", &self.db.name])
                    .args(["-c", &format!("ALTER SUBSCRIPTION {s} DISABLE")])
                    .args([
                        "-c",
                        &format!("ALTER SUBSCRIPTION {s} SET (slot_name = NONE)"),
                    ])
                    .args(["-c", &format!("DROP SUBSCRIPTION {s}")])
                    .output();
            }
        }
    }
}

/// A pg_dump output made comparable: no `\restrict` key lines, and the rows
/// of every COPY block sorted (a table's physical row order is not part of
/// the database's meaning; the dumps compared here restore the same rows in
/// possibly different orders only if something went wrong elsewhere, which
/// the statement lines then show).
fn normalize(dump: &[u8]) -> String {
    let text = without_restrict_keys(dump);
    let mut out: Vec<&str> = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in text.lines() {
        match &mut block {
            Some(rows) if line == "\\." => {
                rows.sort_unstable();
                out.append(rows);
                out.push(line);
                block = None;
            }
            Some(rows) => rows.push(line),
            None => {
                out.push(line);
                if line.starts_with("COPY ") && line.ends_with(" FROM stdin;") {
                    block = Some(Vec::new());
                }
            }
        }
    }
    if let Some(mut rows) = block {
        out.append(&mut rows);
    }
    out.join("\n")
}

/// The first difference, with the pg_dump object header (`-- Name: ...`)
/// it falls under.
fn describe_difference(got: &str, want: &str) -> String {
    let g: Vec<&str> = got.lines().collect();
    let w: Vec<&str> = want.lines().collect();
    let i = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    let header = w[..i.min(w.len())]
        .iter()
        .rev()
        .find(|l| l.starts_with("-- Name: ") || l.starts_with("-- Data for Name: "))
        .copied()
        .unwrap_or("(before the first object)");
    let show = |v: &[&str]| {
        v.get(i)
            .map_or_else(|| "<end of dump>".to_string(), |l| truncate(l, 300))
    };
    format!(
        "{} (line {}; got {} lines, want {})\n  got:  {}\n  want: {}",
        header.trim_start_matches("-- "),
        i + 1,
        g.len(),
        w.len(),
        show(&g),
        show(&w)
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// The database the live renames produce, dumped.
fn live_dump(c: &Corpus, fixture: &Path, targets: &[Target]) -> String {
    let a = CorpusDb::new(c, "live");
    a.restore(fixture)
        .unwrap_or_else(|e| panic!("{}: the fixture itself does not restore: {e}", c.name));
    let alters: String = targets.iter().map(|t| t.alter() + "\n").collect();
    a.sql(&alters)
        .unwrap_or_else(|e| panic!("{}: live rename failed: {e}\n{alters}", c.name));
    a.dump()
}

/// dumpsed's rewrite of the fixture, restored and dumped; Err says which
/// step failed and why.
fn offline_dump(
    c: &Corpus,
    fixture: &Path,
    targets: &[Target],
    dir: &Path,
) -> Result<String, String> {
    let out = dir.join("offline.sql");
    let mut cmd = dumpsed();
    cmd.arg("rewrite");
    for t in targets {
        cmd.arg("--rename-table").arg(t.rule());
    }
    cmd.arg(fixture).arg("-o").arg(&out);
    let r = run(&mut cmd);
    if !r.status.success() {
        return Err(format!(
            "dumpsed rewrite failed ({}): {}",
            r.status,
            String::from_utf8_lossy(&r.stderr).trim()
        ));
    }
    let b = CorpusDb::new(c, "offline");
    b.restore(&out)
        .map_err(|e| format!("dumpsed's output does not restore: {}", e.trim()))?;
    Ok(b.dump())
}

/// Live vs offline for a set of targets: None when identical, else the
/// first difference (or the failing step). `unrenamed` is the normalized
/// fixture: the live result must differ from it, or the comparison would
/// prove nothing.
fn compare(
    c: &Corpus,
    fixture: &Path,
    unrenamed: &str,
    targets: &[Target],
    dir: &Path,
) -> Option<String> {
    let want = live_dump(c, fixture, targets);
    assert!(
        want != unrenamed,
        "{}: renaming {:?} live did not change the dump",
        c.name,
        targets
    );
    match offline_dump(c, fixture, targets, dir) {
        Err(e) => Some(e),
        Ok(got) if got == want => None,
        Ok(got) => Some(format!(
            "dumps differ at {}",
            describe_difference(&got, &want)
        )),
    }
}

fn noop_gives_input_back(c: &Corpus) {
    let dir = scratch();
    let plain = plain_fixture(c, dir.path());
    let out = dir.path().join("out.sql");
    let r = run(dumpsed()
        // --allow-missing: a rule that matches nothing is an error by default.
        .args(["rewrite", "--allow-missing", "--rename-table", "public.no_such_table_xyz=abc"])
        .arg(fixture(c.fixture))
        .arg("-o")
        .arg(&out));
    assert!(
        r.status.success(),
        "{}: dumpsed refused a rename that matches nothing ({}): {}",
        c.name,
        r.status,
        String::from_utf8_lossy(&r.stderr)
    );
    let got = std::fs::read(&out).expect("output");
    let want = std::fs::read(&plain).expect("fixture");
    if got != want {
        let g = String::from_utf8_lossy(&got);
        let w = String::from_utf8_lossy(&want);
        panic!(
            "{}: a rename matching nothing changed the dump: {}",
            c.name,
            describe_difference(&g, &w)
        );
    }
}

fn all_targets_at_once(c: &Corpus) {
    require_pg();
    let start = Instant::now();
    let dir = scratch();
    let plain = plain_fixture(c, dir.path());
    let t = targets(c);
    // The harness can fail: the live renames must show in the dump (else a
    // dumpsed that did nothing would pass).
    let unrenamed = normalize(&std::fs::read(&plain).expect("fixture"));
    let result = compare(c, &plain, &unrenamed, &t, dir.path());
    eprintln!(
        "{}: {} targets at once, {:.1}s",
        c.name,
        t.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(diff) = result {
        panic!(
            "{}: renaming {} tables offline is not what the server does live: {diff}\n\
             (each target alone: scripts/corpus-per-table.sh {})",
            c.name,
            t.len(),
            c.name
        );
    }
}

#[test]
fn pg_regress_noop_rename_gives_the_input_back() {
    noop_gives_input_back(&PG_REGRESS);
}

#[test]
fn pg_tap_noop_rename_gives_the_input_back() {
    noop_gives_input_back(&PG_TAP);
}

#[test]
fn pg_regress_all_targets_renamed_offline_as_live() {
    all_targets_at_once(&PG_REGRESS);
}

#[test]
fn pg_tap_all_targets_renamed_offline_as_live() {
    all_targets_at_once(&PG_TAP);
}

/// Each target renamed alone, live vs offline; prints one line per target
/// and the figures. Run by scripts/corpus-per-table.sh. Environment:
/// DUMPSED_CORPUS=pg-regress|pg-tap (default both), DUMPSED_CORPUS_ONLY=
/// one target as written in rename-targets.txt.
#[test]
#[ignore = "slow: one restore pair per target; scripts/corpus-per-table.sh"]
fn per_table() {
    require_pg();
    let which = std::env::var("DUMPSED_CORPUS").unwrap_or_default();
    let only = std::env::var("DUMPSED_CORPUS_ONLY").ok();
    let mut failed_total = 0;
    println!(); // the harness prints "test per_table ... " first: start the report on a line of its own
    for c in [&PG_REGRESS, &PG_TAP] {
        if !which.is_empty() && which != c.name {
            continue;
        }
        let dir = scratch();
        let plain = plain_fixture(c, dir.path());
        let unrenamed = normalize(&std::fs::read(&plain).expect("fixture"));
        let start = Instant::now();
        let (mut passed, mut failed) = (0, 0);
        for t in targets(c) {
            if only.as_ref().is_some_and(|o| *o != t.display()) {
                continue;
            }
            let s = Instant::now();
            let res = compare(c, &plain, &unrenamed, std::slice::from_ref(&t), dir.path());
            let secs = s.elapsed().as_secs_f64();
            match res {
                None => {
                    passed += 1;
                    println!("PASS {} {} {secs:.1}s", c.name, t.display());
                }
                Some(d) => {
                    failed += 1;
                    println!(
                        "FAIL {} {} {secs:.1}s: {}",
                        c.name,
                        t.display(),
                        d.replace('\n', "\n     ")
                    );
                }
            }
        }
        println!(
            "SUMMARY {}: {passed} passed, {failed} failed, {:.0}s",
            c.name,
            start.elapsed().as_secs_f64()
        );
        failed_total += failed;
    }
    assert_eq!(
        failed_total, 0,
        "{failed_total} targets renamed differently offline than live"
    );
}

#[test]
fn targets_files_parse() {
    for c in [&PG_REGRESS, &PG_TAP] {
        for t in targets(c) {
            assert_eq!(parse_target(&t.display()), t, "{}", c.name);
            assert!(!t.table.contains('.') && !t.schema.contains('.'));
        }
    }
    let t = parse_target("public.\"pp_enumpart\\nattack\"");
    assert_eq!(t.table, "pp_enumpart\nattack");
    assert_eq!(
        t.alter(),
        "ALTER TABLE \"public\".\"pp_enumpart\nattack\" RENAME TO \"pp_enumpart\nattack_renamed\";"
    );
    let q = parse_target("\"a\"\"b\".c");
    assert_eq!((q.schema.as_str(), q.table.as_str()), ("a\"b", "c"));
}

// ---------------------------------------------------------------------------
// fixtures/real/: published schemas (pagila, PostgREST's spec fixtures,
// Chinook, jOOQ's sakila for SQLite, datasette's FTS5 fixtures), fetched by
// fixtures/real/fetch.sh (repository, commit, sha256 in sources.tsv), loaded
// and dumped by fixtures/real/regen.sh. Each has a cases.txt: tables and
// columns to rename (to NAME_renamed) and values to rewrite, all in one run.
// The truth is the live server (or sqlite3): the fixture restored, the
// UPDATEs run (triggers off, as a rewrite of rows at rest is), then the
// ALTERs, then dumped. dumpsed rewrites the same dump in every form the tool
// writes (pg_dump plain COPY, --inserts, --column-inserts, --rows-per-insert
// with --on-conflict-do-nothing, custom, directory, tar; sqlite3 .dump), the result is restored with psql / pg_restore /
// sqlite3 and dumped, and must equal the live dump.

/// One case of a real corpus' cases.txt.
#[derive(Clone, Debug, PartialEq)]
enum Case {
    /// `table SCHEMA.TABLE`: renamed to TABLE_renamed.
    Table(Target),
    /// `column SCHEMA.TABLE.COLUMN`: renamed to COLUMN_renamed.
    Column(Target, String),
    /// `rewrite SCHEMA.TABLE.COLUMN<TAB>FROM<TAB>TO`.
    Rewrite(Target, String, String, String),
}

/// Parses `a.b.c` (each part as parse_ident reads it) into its parts, and
/// what follows them.
fn parse_dotted(mut s: &str) -> (Vec<String>, &str) {
    let mut parts = Vec::new();
    loop {
        let (p, rest) = parse_ident(s);
        parts.push(p);
        match rest.strip_prefix('.') {
            Some(r) => s = r,
            None => return (parts, rest),
        }
    }
}

fn parse_case(line: &str) -> Case {
    let (kind, rest) = line
        .split_once(' ')
        .unwrap_or_else(|| panic!("case {line:?}: no kind"));
    let (name, rest) = rest.split_once('\t').unwrap_or((rest, ""));
    let (parts, tail) = parse_dotted(name);
    assert!(tail.is_empty(), "case {line:?}: trailing {tail:?}");
    let target = |n: usize| {
        assert_eq!(parts.len(), n, "case {line:?}: want {n} dotted parts");
        Target {
            schema: parts[0].clone(),
            table: parts[1].clone(),
        }
    };
    match kind {
        "table" => Case::Table(target(2)),
        "column" => Case::Column(target(3), parts[2].clone()),
        "rewrite" => {
            let (from, to) = rest
                .split_once('\t')
                .unwrap_or_else(|| panic!("case {line:?}: rewrite needs FROM<TAB>TO"));
            Case::Rewrite(target(3), parts[2].clone(), from.into(), to.into())
        }
        _ => panic!("case {line:?}: unknown kind {kind:?}"),
    }
}

/// A corpus of fixtures/real/.
struct Real {
    corpus: Corpus,
    sqlite: bool,
}

macro_rules! real {
    ($name:literal, $sqlite:expr) => {
        Real {
            corpus: Corpus {
                name: concat!("real/", $name),
                fixture: concat!("real/", $name, "/dump.sql.gz"),
            },
            sqlite: $sqlite,
        }
    };
}

const PAGILA: Real = real!("pagila", false);
const POSTGREST: Real = real!("postgrest", false);
const CHINOOK_PG: Real = real!("chinook-pg", false);
const CHINOOK_SQLITE: Real = real!("chinook-sqlite", true);
const SAKILA_SQLITE: Real = real!("sakila-sqlite", true);
const DATASETTE: Real = real!("datasette", true);
const GRAPHILE_STARTER: Real = real!("graphile-starter", false);
const PGADMIN_SCHEMA_DIFF: Real = real!("pgadmin-schema-diff", false);
const REAL: [&Real; 8] = [
    &PAGILA,
    &POSTGREST,
    &CHINOOK_PG,
    &GRAPHILE_STARTER,
    &PGADMIN_SCHEMA_DIFF,
    &CHINOOK_SQLITE,
    &SAKILA_SQLITE,
    &DATASETTE,
];

impl Real {
    fn cases(&self) -> Vec<Case> {
        let path = fixture(&format!("{}/cases.txt", self.corpus.name));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cases: Vec<Case> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(parse_case)
            .collect();
        for kind in ["table", "column", "rewrite"] {
            assert!(
                cases.iter().any(|c| matches!(
                    (kind, c),
                    ("table", Case::Table(_)) | ("column", Case::Column(..)) | ("rewrite", Case::Rewrite(..))
                )),
                "{}: no {kind} case",
                path.display()
            );
        }
        cases
    }

    /// A table as dumpsed's rules name it (SQLite: no schema).
    fn table_arg(&self, t: &Target) -> String {
        if self.sqlite {
            t.table.clone()
        } else {
            format!("{}.{}", t.schema, t.table)
        }
    }

    fn table_sql(&self, t: &Target) -> String {
        if self.sqlite {
            quote_ident(&t.table)
        } else {
            format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.table))
        }
    }

    fn rules(&self, cases: &[Case]) -> Vec<String> {
        let mut args = Vec::new();
        for c in cases {
            match c {
                Case::Table(t) => {
                    args.push("--rename-table".into());
                    args.push(format!("{}={}", self.table_arg(t), t.new_name()));
                }
                Case::Column(t, col) => {
                    args.push("--rename-column".into());
                    args.push(format!("{}.{col}={col}_renamed", self.table_arg(t)));
                }
                Case::Rewrite(t, col, from, to) => {
                    args.push("--rewrite".into());
                    args.push(format!("{}.{col}:{from}={to}", self.table_arg(t)));
                }
            }
        }
        args
    }

    /// The live statements: the UPDATEs first (old names; triggers off on
    /// PostgreSQL: dumpsed rewrites rows at rest, no trigger fires), then
    /// the column renames, then the table renames. dumpsed's value rule is
    /// "starts with FROM, then every FROM replaced by TO".
    fn live_sql(&self, cases: &[Case]) -> String {
        let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut sql = String::new();
        if !self.sqlite {
            sql.push_str("SET session_replication_role = replica;\n");
        }
        for c in cases {
            if let Case::Rewrite(t, col, from, to) = c {
                let q = quote_ident(col);
                let starts = if self.sqlite {
                    format!("substr({q}, 1, length({f})) = {f}", f = lit(from))
                } else {
                    format!("starts_with({q}, {})", lit(from))
                };
                sql += &format!(
                    "UPDATE {} SET {q} = replace({q}, {}, {}) WHERE {starts};\n",
                    self.table_sql(t),
                    lit(from),
                    lit(to)
                );
            }
        }
        if !self.sqlite {
            sql.push_str("RESET session_replication_role;\n");
        }
        for c in cases {
            if let Case::Column(t, col) = c {
                let new = format!("{col}_renamed");
                // SQLite writes the new column name as the ALTER spells it;
                // dumpsed spells it bare when it can be (as tests/sqlite_dump.rs
                // and sqlite_schema.rs do; NAME_renamed is never a keyword).
                let plain = new
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && new.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let new = if self.sqlite && plain { new } else { quote_ident(&new) };
                sql += &format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {new};\n",
                    self.table_sql(t),
                    quote_ident(col),
                );
            }
        }
        for c in cases {
            if let Case::Table(t) = c {
                sql += &format!(
                    "ALTER TABLE {} RENAME TO {};\n",
                    self.table_sql(t),
                    quote_ident(&t.new_name())
                );
            }
        }
        sql
    }
}

/// dumpsed rewrite INPUT -o OUTPUT with the rules; Err names the failure.
fn rewrite_with(rules: &[String], input: &Path, output: &Path) -> Result<(), String> {
    let r = run(dumpsed().arg("rewrite").args(rules).arg(input).arg("-o").arg(output));
    if r.status.success() {
        Ok(())
    } else {
        Err(format!(
            "dumpsed rewrite failed ({}): {}",
            r.status,
            String::from_utf8_lossy(&r.stderr).trim()
        ))
    }
}

/// The pg_dump forms a real corpus is rewritten in, besides the plain COPY
/// fixture itself: (name, pg_dump options, output file name, archive?).
const PG_FORMS: [(&str, &[&str], &str, bool); 6] = [
    ("--inserts", &["--inserts"], "inserts.sql", false),
    ("--column-inserts", &["--column-inserts"], "column-inserts.sql", false),
    // multi-row INSERTs, each with pg_dump's ON CONFLICT DO NOTHING clause
    (
        "--rows-per-insert=2 --on-conflict-do-nothing",
        &["--rows-per-insert=2", "--on-conflict-do-nothing"],
        "rows-per-insert.sql",
        false,
    ),
    ("custom", &["-Fc"], "dump.custom", true),
    ("directory", &["-Fd"], "dump.dir", true),
    ("tar", &["-Ft"], "dump.tar", true),
];

fn real_pg(r: &Real) {
    require_pg();
    let c = &r.corpus;
    let start = Instant::now();
    let dir = scratch();
    let plain = plain_fixture(c, dir.path());
    let cases = r.cases();
    let rules = r.rules(&cases);
    let live_sql = r.live_sql(&cases);

    // want: the live UPDATEs and ALTERs, dumped
    let live = CorpusDb::new(c, "live");
    live.restore(&plain)
        .unwrap_or_else(|e| panic!("{}: the fixture itself does not restore: {e}", c.name));
    let unrenamed = live.dump();
    live.sql(&live_sql)
        .unwrap_or_else(|e| panic!("{}: live statements failed: {e}\n{live_sql}", c.name));
    let want = live.dump();
    assert!(want != unrenamed, "{}: the live statements changed nothing", c.name);
    drop(live);

    // the dump in every form: the plain COPY fixture, and pg_dump's other
    // forms of the same database
    let mut inputs: Vec<(&str, PathBuf, bool)> = vec![("plain COPY", plain.clone(), false)];
    let src = CorpusDb::new(c, "src");
    src.restore(&plain).expect("fixture restores");
    for (name, opts, file, archive) in PG_FORMS {
        let path = dir.path().join(file);
        ok(Command::new("pg_dump")
            .args(opts)
            .arg("-f")
            .arg(&path)
            .arg("-d")
            .arg(&src.db.name));
        inputs.push((name, path, archive));
    }
    drop(src);

    let mut failures = Vec::new();
    for (form, input, archive) in &inputs {
        let out = dir.path().join(format!("out-{}", input.file_name().unwrap().to_string_lossy()));
        let got = rewrite_with(&rules, input, &out).and_then(|()| {
            let b = CorpusDb::new(c, "offline");
            if *archive {
                let res = run(Command::new("pg_restore")
                    .args(["--exit-on-error", "--single-transaction", "-d"])
                    .arg(&b.db.name)
                    .arg(&out));
                if !res.status.success() {
                    return Err(format!(
                        "pg_restore of dumpsed's output failed: {}",
                        String::from_utf8_lossy(&res.stderr).trim()
                    ));
                }
            } else {
                b.restore(&out)
                    .map_err(|e| format!("dumpsed's output does not restore: {}", e.trim()))?;
            }
            Ok(b.dump())
        });
        match got {
            Ok(g) if g == want => {}
            Ok(g) => failures.push(format!("{form}: dumps differ at {}", describe_difference(&g, &want))),
            Err(e) => failures.push(format!("{form}: {e}")),
        }
    }
    eprintln!(
        "{}: {} cases x {} forms, {:.1}s",
        c.name,
        cases.len(),
        inputs.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{}: rewritten offline is not what the server does live:\n{}",
        c.name,
        failures.join("\n")
    );
}

fn real_sqlite(r: &Real) {
    let c = &r.corpus;
    let dir = scratch();
    let plain = plain_fixture(c, dir.path());
    let cases = r.cases();
    let rules = r.rules(&cases);

    // want: the live statements on a database restored from the fixture
    let db = dir.path().join("live.db");
    ok(Command::new("sqlite3")
        .arg("-bail")
        .arg(&db)
        .stdin(std::fs::File::open(&plain).expect("fixture")));
    let unrenamed = ok(Command::new("sqlite3").arg(&db).arg(".dump"));
    let live_sql = r.live_sql(&cases);
    let res = run(Command::new("sqlite3")
        .arg("-bail")
        .arg(&db)
        .arg(format!("BEGIN;\n{live_sql}COMMIT;")));
    assert!(
        res.status.success(),
        "{}: live statements failed: {}\n{live_sql}",
        c.name,
        String::from_utf8_lossy(&res.stderr)
    );
    let want = ok(Command::new("sqlite3").arg(&db).arg(".dump"));
    assert!(want != unrenamed, "{}: the live statements changed nothing", c.name);

    let out = dir.path().join("out.sql");
    if let Err(e) = rewrite_with(&rules, &plain, &out) {
        panic!("{}: {e}", c.name);
    }
    let got = sqlite_restore_and_dump(&out, dir.path(), "offline");
    if got != want {
        panic!(
            "{}: rewritten offline is not what sqlite3 does live: {}",
            c.name,
            first_difference(&String::from_utf8_lossy(&got), &String::from_utf8_lossy(&want))
        );
    }
}

#[test]
fn real_noop_rename_gives_the_input_back() {
    for r in REAL {
        noop_gives_input_back(&r.corpus);
    }
}

#[test]
fn real_pagila_renamed_and_rewritten_offline_as_live() {
    real_pg(&PAGILA);
}

#[test]
fn real_postgrest_renamed_and_rewritten_offline_as_live() {
    real_pg(&POSTGREST);
}

#[test]
fn real_chinook_pg_renamed_and_rewritten_offline_as_live() {
    real_pg(&CHINOOK_PG);
}

#[test]
fn real_graphile_starter_renamed_and_rewritten_offline_as_live() {
    real_pg(&GRAPHILE_STARTER);
}

#[test]
fn real_pgadmin_schema_diff_renamed_and_rewritten_offline_as_live() {
    real_pg(&PGADMIN_SCHEMA_DIFF);
}

#[test]
fn real_chinook_sqlite_renamed_and_rewritten_offline_as_live() {
    real_sqlite(&CHINOOK_SQLITE);
}

#[test]
fn real_sakila_sqlite_renamed_and_rewritten_offline_as_live() {
    real_sqlite(&SAKILA_SQLITE);
}

#[test]
fn real_datasette_renamed_and_rewritten_offline_as_live() {
    real_sqlite(&DATASETTE);
}

#[test]
fn real_cases_files_parse() {
    for r in REAL {
        r.cases();
    }
    assert_eq!(
        parse_case("rewrite \"SPECIAL \"\"@\".languages.name\tSpan\tEspañ"),
        Case::Rewrite(
            Target { schema: "SPECIAL \"@".into(), table: "languages".into() },
            "name".into(),
            "Span".into(),
            "Españ".into()
        )
    );
}
