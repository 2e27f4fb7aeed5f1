//! SQLite `.dump`s rewritten by the `dumpsed` binary, against the real
//! sqlite3 (issue 26, classes 4 and 5): the rewritten dump must be byte for
//! byte the `.dump` of the live `ALTER TABLE … RENAME`, and restoring it
//! with `sqlite3 -bail` and dumping again must give the same bytes.
//!
//! Needs `sqlite3` on PATH (tests/run.sh installs it); fails without it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// Runs `sqlite3 -bail db [args]` with `input` on stdin; panics on failure.
fn sqlite3(db: &Path, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sqlite3 (apt-get install sqlite3): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to sqlite3");
    let out = child.wait_with_output().expect("sqlite3 output");
    assert!(
        out.status.success(),
        "sqlite3 {args:?} failed: {}\ninput:\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(input)
    );
    out.stdout
}

/// `"name"` with `"` doubled, as an ALTER spells any name.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Rewrites `before` with `args`, then checks the output against `want`
/// byte for byte, and that it restores with the real sqlite3 and dumps
/// back to `want`. `dump_args` are the `.dump` options `want` was made with.
fn rewrite_matches_live(what: &str, before: &Path, args: &[&str], want: &[u8], dump_args: &str) {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    let o = run(dumpsed()
        .args(["rewrite", "--quiet"])
        .args(args)
        .arg(before)
        .arg("-o")
        .arg(&out));
    assert!(
        o.status.success(),
        "{what}: dumpsed {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got = std::fs::read(&out).expect("output");
    assert!(
        got == want,
        "{what}: rewritten dump differs from the live .dump: {}",
        first_difference(
            &String::from_utf8_lossy(&got),
            &String::from_utf8_lossy(want)
        )
    );
    let db = dir.path().join("restored.db");
    sqlite3(&db, &[], &got);
    let fk = sqlite3(&db, &["PRAGMA foreign_key_check;"], b"");
    assert!(
        fk.is_empty(),
        "{what}: dangling foreign keys: {}",
        String::from_utf8_lossy(&fk)
    );
    let again = sqlite3(&db, &[&format!(".dump {dump_args}")], b"");
    assert!(
        again == want,
        "{what}: restored and dumped again, differs from the live .dump: {}",
        first_difference(
            &String::from_utf8_lossy(&again),
            &String::from_utf8_lossy(want)
        )
    );
}

/// A schema whose renamed table appears in every place `.dump` writes a
/// table name: its CREATE TABLE, its rows' INSERT heads, sqlite_sequence,
/// another table's REFERENCES, an index, a view and trigger bodies. `tags`
/// has no INTEGER PRIMARY KEY, so `.dump --preserve-rowids` writes its rows
/// with a column list (`INSERT INTO tags(rowid,label,"order")`).
const KEYWORD_SCHEMA: &str = "\
CREATE TABLE people(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
CREATE TABLE pets(id INTEGER PRIMARY KEY, owner INTEGER REFERENCES people(id), name TEXT);
CREATE TABLE tags(label TEXT, \"order\" INTEGER);
CREATE TABLE kv(\"values\" TEXT, k TEXT);
INSERT INTO kv VALUES ('v', 'k');
CREATE INDEX people_name ON people(name);
CREATE VIEW owners AS SELECT people.name, pets.name AS pet FROM people JOIN pets ON pets.owner = people.id;
CREATE TRIGGER people_ai AFTER INSERT ON people BEGIN
  INSERT INTO tags(label, \"order\") VALUES (new.name, new.id);
END;
INSERT INTO people(name) VALUES ('ada'), ('it''s');
INSERT INTO pets(owner, name) VALUES (1, 'rex');
DELETE FROM tags WHERE label = 'ada';
";

/// New names that the sqlite3 shell writes bare or quoted in `INSERT
/// INTO` (`quoteChar` in src/shell.c.in: bare only for
/// `[A-Za-z_][A-Za-z0-9_]*` that `sqlite3_keyword_check` does not know):
/// reserved and fallback keywords in any case, names that need quotes for
/// their characters, and plain names (also upper-case, also `rowid`).
const NEW_NAMES: &[&str] = &[
    "order", "Order", "SELECT", "group", "key", "abort", "replace", "rowid", "Persons", "_x",
    "x y", "x$", "n\u{e9}", "a\"b", "1x", "t1",
];

/// Class 5: a rename to a keyword or a name needing quotes is written as
/// the live `.dump` writes it, in the INSERT heads too (`INSERT INTO
/// "order"`), and the dump restores.
#[test]
fn renames_to_keywords_and_odd_names_match_the_live_dump() {
    let dir = scratch();
    let db = dir.path().join("before.db");
    sqlite3(&db, &[], KEYWORD_SCHEMA.as_bytes());
    for dump_args in ["", "--preserve-rowids"] {
        let before = dir.path().join("before.sql");
        std::fs::write(&before, sqlite3(&db, &[&format!(".dump {dump_args}")], b""))
            .expect("write");
        for (old, new) in NEW_NAMES
            .iter()
            .map(|n| ("people", *n))
            .chain(NEW_NAMES.iter().map(|n| ("tags", *n)))
        {
            let live = dir.path().join("live.db");
            std::fs::copy(&db, &live).expect("copy");
            let alter = format!("ALTER TABLE {} RENAME TO {};", quoted(old), quoted(new));
            sqlite3(&live, &[], alter.as_bytes());
            let want = sqlite3(&live, &[&format!(".dump {dump_args}")], b"");
            rewrite_matches_live(
                &format!("{alter} (.dump {dump_args})"),
                &before,
                &["--rename-table", &format!("{old}={new}")],
                &want,
                dump_args,
            );
        }
    }
}

/// A column renamed to a keyword or odd name: written where `.dump` writes
/// column names, the column list of `.dump --preserve-rowids` INSERTs
/// (`INSERT INTO tags(rowid,"order",…)`) included. The live ALTER spells
/// the new name bare when sqlite3 takes it bare (how a person types it,
/// and how dumpsed spells it), else quoted.
#[test]
fn column_renames_to_keywords_and_odd_names_match_the_live_dump() {
    let dir = scratch();
    let db = dir.path().join("before.db");
    sqlite3(&db, &[], KEYWORD_SCHEMA.as_bytes());
    // Not "order" (tags has that column) nor "rowid" (a column named rowid
    // makes --preserve-rowids write `_rowid_`: not handled).
    let names = NEW_NAMES
        .iter()
        .filter(|n| !n.eq_ignore_ascii_case("order") && !n.eq_ignore_ascii_case("rowid"))
        .map(|n| ("tags", "label", *n))
        // A column named like the head's VALUES keyword: only the column
        // list's name changes.
        .chain([("kv", "values", "v"), ("kv", "values", "x y")]);
    for dump_args in ["", "--preserve-rowids"] {
        let before = dir.path().join("before.sql");
        std::fs::write(&before, sqlite3(&db, &[&format!(".dump {dump_args}")], b""))
            .expect("write");
        for (table, old, new) in names.clone() {
            let live = dir.path().join("live.db");
            let plain = new
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && new.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let mut alter = String::new();
            for spelled in [plain.then(|| new.to_string()), Some(quoted(new))]
                .into_iter()
                .flatten()
            {
                std::fs::copy(&db, &live).expect("copy");
                alter = format!(
                    "ALTER TABLE {table} RENAME COLUMN {} TO {spelled};",
                    quoted(old)
                );
                let ok = Command::new("sqlite3")
                    .arg("-bail")
                    .arg(&live)
                    .arg(&alter)
                    .output()
                    .expect("sqlite3")
                    .status
                    .success();
                if ok {
                    break;
                }
            }
            let want = sqlite3(&live, &[&format!(".dump {dump_args}")], b"");
            rewrite_matches_live(
                &format!("{alter} (.dump {dump_args})"),
                &before,
                &["--rename-column", &format!("{table}.{old}={new}")],
                &want,
                dump_args,
            );
        }
    }
}

/// fixtures/sqlite-vtab: live-<case>.sql was run on the database of
/// schema.sql; these are the same renames for dumpsed.
const VTAB_CASES: &[(&str, &[&str])] = &[
    // An unrelated table, to a keyword: the FTS5 table fed by notes_ai
    // must be in the shadow for the whole-schema rename to resolve.
    ("people-order", &["--rename-table", "people=order"]),
    // The external-content table of notes_fts: SQLite renames it in the
    // triggers and the view but not in the FTS5 table's `content='notes'`.
    ("notes", &["--rename-table", "notes=note_items"]),
    ("notes-column", &["--rename-column", "notes.title=headline"]),
    // The table an R*Tree is fed from by a trigger.
    ("places", &["--rename-table", "places=sites"]),
];

/// Class 4: a database with FTS5 (external content, triggers), FTS4 and
/// R*Tree tables: renames around them rewrite to the live `.dump`.
#[test]
fn virtual_tables_rename_like_the_live_database() {
    let before = fixture("sqlite-vtab/before.sql");
    for (case, args) in VTAB_CASES {
        let want =
            std::fs::read(fixture(&format!("sqlite-vtab/after-{case}.sql"))).expect("fixture");
        rewrite_matches_live(case, &before, args, &want, "");
    }
}
