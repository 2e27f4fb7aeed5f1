//! Django rules on plain dumps (COPY, `--inserts`, `--column-inserts`) and
//! SQLite scripts, the parts issue 25 left after the archive work:
//!
//! - `--reverse` of a forward run's output takes out what that run added
//!   for Django (its appendix, whole) and adds nothing, as the archive path
//!   takes out its TOC entry: the result is the before-dump byte for byte,
//!   but for the values the forward run's summary names as not coming back,
//!   and restores to the before-database;
//! - Django's own tables missing from the dump, or in an older Django's
//!   shape (made by real Django 5.2 `migrate contenttypes 0001` / `migrate
//!   auth 0001`), are clear errors naming the line and byte, with nothing
//!   at the output path;
//! - `--rename-permissions` and `--mark-applied` on every container,
//!   judged by real Django (`has_perm`, `migrate --check`) on the restored
//!   database.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::django::*;
use common::*;

const AT_PG: &str = "2026-12-01 10:00:00+00";
const AT_SQLITE: &str = "2026-12-01 10:00:00";

fn rules_file(dir: &Path) -> PathBuf {
    let p = dir.join("rules.toml");
    fs::write(&p, guide_rules_toml()).expect("write rules");
    p
}

/// `dumpsed rewrite --rules RULES [extra] input -o output`: (succeeded, stderr).
fn rewrite(rules: &Path, extra: &[&str], input: &Path, output: &Path) -> (bool, String) {
    let r = run(dumpsed().args(["rewrite", "--rules"]).arg(rules).args(extra).arg(input).arg("-o").arg(output));
    (r.status.success(), String::from_utf8_lossy(&r.stderr).into_owned())
}

/// The values a forward run's summary names as not coming back with
/// `--reverse`, with what the reverse gives instead (cmd/rewrite.rs:
/// `"A" (kept) → --reverse would give "B"` or `"A" → "X" → --reverse would give "B"`).
fn irreversible(summary: &str) -> Vec<(String, String)> {
    summary
        .lines()
        .filter_map(|l| {
            let (head, back) = l.trim().split_once(" → --reverse would give ")?;
            let input = head.strip_suffix(" (kept)").or_else(|| head.split(" → ").next())?;
            Some((input.trim_matches('"').to_string(), back.trim_matches('"').to_string()))
        })
        .collect()
}

/// `text` with each irreversible value as the reverse gives it, in COPY
/// text (`\tA\t`, `\tA\n`) and SQL literals (`'A'`).
fn as_reversed(text: &str, values: &[(String, String)]) -> String {
    let mut t = text.to_string();
    for (a, b) in values {
        for (x, y) in [("\t", "\t"), ("\t", "\n"), ("'", "'")] {
            t = t.replace(&format!("{x}{a}{y}"), &format!("{x}{b}{y}"));
        }
    }
    t
}

/// The table of the values [`irreversible`] names (`N value(s) of
/// TABLE.COLUMN would not come back`).
fn irreversible_table(summary: &str) -> String {
    let rest = summary.split_once(" value(s) of ").map_or("", |(_, r)| r);
    let column = rest.split_once(" would not come back").map_or("", |(c, _)| c);
    column.rsplit_once('.').map_or("", |(t, _)| t).to_string()
}

/// [`as_reversed`] on the `INSERT INTO table` lines of an SQLite `.dump`
/// only (another table may hold the same text, as `django_admin_log`'s
/// `object_repr` does).
fn as_reversed_rows(text: &str, table: &str, values: &[(String, String)]) -> String {
    let head = format!("INSERT INTO {table} ");
    text.split_inclusive('\n').map(|l| if l.starts_with(&head) { as_reversed(l, values) } else { l.to_string() }).collect()
}

/// `manage.py` of the fixture project against PostgreSQL database `db`,
/// or the SQLite file `db` when `sqlite`: (succeeded, stdout + stderr).
fn manage(db: &str, sqlite: bool, args: &[&str]) -> (bool, String) {
    let mut c = Command::new(django_python());
    c.arg(fixture("django/project/manage.py")).args(args).env("PYTHONDONTWRITEBYTECODE", "1");
    if sqlite {
        c.env("DJANGO_DB_BACKEND", "sqlite3").env("DJANGO_SQLITE_PATH", db);
    } else {
        c.env("DJANGO_DB_BACKEND", "postgresql").env("DJANGO_PG_NAME", db);
    }
    let out = run(&mut c);
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// A SQLite database file loaded from `dump` with the real sqlite3.
fn sqlite_db(dump: &Path, file: &Path) {
    let _ = fs::remove_file(file);
    ok(Command::new("sqlite3").arg("-bail").arg(file).stdin(fs::File::open(dump).expect("open dump")));
}

/// `--reverse` of the forward output of the guide's rules (the helper's,
/// with both `mark_applied` rows) on each plain form: the before-dump
/// again, byte for byte but for the values the forward summary names, and
/// restored (psql), dumped again (pg_dump): the before-database. Before the
/// fix the reverse appended its own Django SQL after the forward run's
/// (content type renamed back, the old permissions "added", the new ones
/// and the migration rows left), so neither held.
#[test]
fn pg_reverse_takes_out_what_the_forward_run_added() {
    let dir = scratch();
    let rules = rules_file(dir.path());
    for (form, extra) in [
        ("before.sql", &[][..]),
        ("before-inserts.sql", &[][..]),
        ("before-column-inserts.sql", &[][..]),
        ("before.sql", &["--rename-permissions"][..]),
    ] {
        let what = format!("{form} {extra:?}");
        let before = fixture(&format!("django/pg/{form}"));
        let (fwd, back) = (dir.path().join("fwd.sql"), dir.path().join("back.sql"));
        let (fine, summary) = rewrite(&rules, &[&["--applied-at", AT_PG], extra].concat(), &before, &fwd);
        assert!(fine, "{what}: forward: {summary}");
        let values = irreversible(&summary);
        assert!(!values.is_empty(), "{what}: the fixture's SAP-2025-010 is not named: {summary}");
        let (fine, err) = rewrite(&rules, &[&["--reverse"], extra].concat(), &fwd, &back);
        assert!(fine, "{what}: --reverse: {err}");
        let text = fs::read_to_string(&before).expect("before");
        let (got, want) = (fs::read_to_string(&back).expect("back"), as_reversed(&text, &values));
        assert!(got == want, "{what}: --reverse: {}", first_difference(&got, &want));
        assert!(got != text, "{what}: the irreversible values came back?");

        let (db, db_before) = (PgDb::new("back"), PgDb::new("before"));
        db.restore(&back);
        db_before.restore(&before);
        let got = normalized_pg(&db.dump(&[]));
        let want = as_reversed(&normalized_pg(&db_before.dump(&[])), &values);
        assert!(got == want, "{what}: restored: {}", first_difference(&got, &want));
    }
}

/// The same on SQLite: `--reverse` of the forward output is the `.dump`
/// again but for the named values (the forward run turned `Capa-CAPA-5`
/// into `Capa-SAP-5`, as SQLite's case-blind LIKE does live), and restored
/// by sqlite3 it is the before-database.
#[test]
fn sqlite_reverse_takes_out_what_the_forward_run_added() {
    let dir = scratch();
    let rules = rules_file(dir.path());
    let before = fixture("django/sqlite/before.sql");
    let (fwd, back) = (dir.path().join("fwd.sql"), dir.path().join("back.sql"));
    let (fine, summary) = rewrite(&rules, &["--applied-at", AT_SQLITE], &before, &fwd);
    assert!(fine, "forward: {summary}");
    let (values, table) = (irreversible(&summary), irreversible_table(&summary));
    assert!(!values.is_empty() && !table.is_empty(), "{summary}");
    let (fine, err) = rewrite(&rules, &["--reverse"], &fwd, &back);
    assert!(fine, "--reverse: {err}");
    let text = fs::read_to_string(&before).expect("before");
    let (got, want) = (fs::read_to_string(&back).expect("back"), as_reversed_rows(&text, &table, &values));
    assert!(got == want, "--reverse: {}", first_difference(&got, &want));
    assert!(got != text, "the irreversible values came back?");
    let got = normalized_sqlite(&sqlite_restore_and_dump(&back, dir.path(), "back"));
    let before_db = normalized_sqlite(&sqlite_restore_and_dump(&before, dir.path(), "before"));
    let want = as_reversed_rows(&before_db, &table, &values);
    assert!(got == want, "restored: {}", first_difference(&got, &want));
}

/// `--reverse` with Django rules of a dump that is not a forward run's
/// output (the live result itself), or whose Django block is followed by
/// something a forward run does not write: refused naming the line and
/// byte, exit 2, nothing at the output path.
#[test]
fn reverse_of_what_no_forward_run_wrote_is_refused() {
    let dir = scratch();
    let rules = rules_file(dir.path());
    let out = dir.path().join("out.sql");
    for live in ["django/pg/after-live.sql", "django/sqlite/after-live.sql"] {
        let r = run(dumpsed().args(["rewrite", "--reverse", "--rules"]).arg(&rules).arg(fixture(live)).arg("-o").arg(&out));
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{live}: {err}");
        for w in ["--reverse with Django rules", "line ", "byte ", "nothing of Django's to take back"] {
            assert!(err.contains(w), "{live}: {w:?} not in {err}");
        }
        assert!(!out.exists(), "{live}: output left");
    }
    let fwd = dir.path().join("fwd.sql");
    let (fine, err) = rewrite(&rules, &["--quiet"], &fixture("django/pg/before.sql"), &fwd);
    assert!(fine, "{err}");
    let mut text = fs::read(&fwd).expect("fwd");
    text.extend_from_slice(b"SELECT 1;\n");
    let tail = dir.path().join("tail.sql");
    fs::write(&tail, &text).expect("write");
    let r = run(dumpsed().args(["rewrite", "--reverse", "--rules"]).arg(&rules).arg(&tail).arg("-o").arg(&out));
    let err = String::from_utf8_lossy(&r.stderr);
    let line = text.iter().filter(|&&b| b == b'\n').count();
    assert!(!r.status.success(), "{err}");
    assert!(err.contains(&format!("line {line},")) && err.contains("does not hold"), "{err}");
    assert!(!out.exists(), "output left");
}

/// Bad input: a plain dump or `.dump` of the guide's database migrated
/// back by real Django 5.2 to an older shape of its own tables (`migrate
/// contenttypes 0001`: `django_content_type.name` is back; `migrate auth
/// 0001`: `auth_permission.name` is varchar(50)), under the guide's rules:
/// an error naming the rule, the line and byte of that CREATE TABLE and
/// the migration missing, exit 2, nothing at the output path. Before, the
/// rewrite went through and the restore failed or left the name too long.
#[test]
fn older_django_shapes_are_clear_errors_on_plain_and_sqlite() {
    let dir = scratch();
    let rules = rules_file(dir.path());
    let out = dir.path().join("out.sql");
    for (target, table, want) in [
        (["contenttypes", "0001"], "django_content_type", "0002_remove_content_type_name"),
        (["auth", "0001"], "auth_permission", "0002_alter_permission_name_max_length"),
    ] {
        let mut dumps = Vec::new();
        let db = PgDb::new("old");
        db.restore(&fixture("django/pg/before.sql"));
        let (fine, text) = manage(&db.name, false, &["migrate", "--noinput", target[0], target[1]]);
        assert!(fine, "migrate {target:?}: {text}");
        for (form, args) in [("copy", &[][..]), ("inserts", &["--inserts"][..])] {
            let file = dir.path().join(format!("{}-{form}.sql", target[0]));
            fs::write(&file, db.dump(args)).expect("write");
            dumps.push(file);
        }
        let sq = dir.path().join(format!("{}.sqlite3", target[0]));
        sqlite_db(&fixture("django/sqlite/before.sql"), &sq);
        let (fine, text) = manage(&sq.to_string_lossy(), true, &["migrate", "--noinput", target[0], target[1]]);
        assert!(fine, "sqlite migrate {target:?}: {text}");
        let file = dir.path().join(format!("{}-sqlite.sql", target[0]));
        fs::write(&file, ok(Command::new("sqlite3").arg(&sq).arg(".dump"))).expect("write");
        dumps.push(file);
        for dump in dumps {
            let text = fs::read_to_string(&dump).expect("dump");
            // The line of the table's CREATE TABLE, as the error names it.
            let at = text
                .find(&format!("CREATE TABLE public.{table} "))
                .or_else(|| text.find(&format!("CREATE TABLE IF NOT EXISTS \"{table}\" (")));
            let at = at.map(|i| text[..i].rfind('\n').map_or(0, |n| n + 1)).expect("CREATE TABLE");
            let line = text[..at].matches('\n').count() + 1;
            let (fine, err) = rewrite(&rules, &[], &dump, &out);
            let what = dump.display();
            assert!(!fine, "{what}: rewritten");
            for w in ["Django model rename", &format!("line {line}, byte {at}:"), want] {
                assert!(err.contains(w), "{what}: {w:?} not in: {err}");
            }
            assert!(!out.exists(), "{what}: output left");
        }
    }
}

/// Bad input: a plain dump without `django_content_type`, `auth_permission`
/// or `django_migrations` (`pg_dump -T`; SQLite: the table dropped before
/// `.dump`), under the guide's rules: an error naming the rule and the
/// table, at the line and byte where the Django SQL would go, exit 2,
/// nothing at the output path. Before, a missing content type or
/// permission table was skipped without a word.
#[test]
fn missing_django_tables_are_clear_errors_on_plain_and_sqlite() {
    let dir = scratch();
    let rules = rules_file(dir.path());
    let out = dir.path().join("out.sql");
    let db = PgDb::new("full");
    db.restore(&fixture("django/pg/before.sql"));
    for (table, rule) in [
        ("django_content_type", "Django model rename"),
        ("auth_permission", "Django model rename"),
        ("django_migrations", "migrations marked applied"),
    ] {
        let mut dumps = Vec::new();
        for (form, args) in [("copy", &[][..]), ("inserts", &["--inserts"][..])] {
            let file = dir.path().join(format!("{table}-{form}.sql"));
            fs::write(&file, db.dump(&[&["-T", table], args].concat())).expect("write");
            dumps.push(file);
        }
        let sq = dir.path().join(format!("{table}.sqlite3"));
        sqlite_db(&fixture("django/sqlite/before.sql"), &sq);
        ok(Command::new("sqlite3").arg(&sq).arg(format!("DROP TABLE {table};")));
        let file = dir.path().join(format!("{table}-sqlite.sql"));
        fs::write(&file, ok(Command::new("sqlite3").arg(&sq).arg(".dump"))).expect("write");
        dumps.push(file);
        for dump in dumps {
            let (fine, err) = rewrite(&rules, &[], &dump, &out);
            let what = dump.display();
            assert!(!fine, "{what}: rewritten");
            for w in [rule, &format!("the dump has no {table} table"), "line ", "byte "] {
                assert!(err.contains(w), "{what}: {w:?} not in: {err}");
            }
            assert!(!out.exists(), "{what}: output left");
        }
    }
}

/// A table that already has the new name of a renamed model's
/// many-to-many table, and comes before it in the dump (pg_dump writes the
/// tables by name: `app_animal_tags` before `app_zebra_tags`). The live
/// `RenameModel` fails renaming the many-to-many table ("already exists");
/// the rewrite is refused at the earlier table's CREATE TABLE, with its
/// line and byte and no output, because the many-to-many table's new name
/// is known from the pre-data read ahead, before the first statement is
/// decided (a plan swapped at the many-to-many table's own CREATE TABLE let
/// the earlier table through, and the output had two tables of that name).
#[test]
fn m2m_new_name_taken_by_an_earlier_table_is_refused_as_live() {
    let dir = scratch();
    let db = PgDb::new("m2m_taken");
    db.query(
        "CREATE TABLE app_tag (id integer PRIMARY KEY); \
         CREATE TABLE app_zebra (id integer PRIMARY KEY); \
         CREATE TABLE app_zebra_tags (id integer PRIMARY KEY, zebra_id integer NOT NULL REFERENCES app_zebra, \
         tag_id integer NOT NULL REFERENCES app_tag); \
         CREATE TABLE app_animal_tags (id integer);",
    );
    let dump = dir.path().join("before.sql");
    fs::write(&dump, db.dump(&[])).expect("write");
    let text = fs::read_to_string(&dump).expect("read");
    let (taken, m2m) = (text.find("CREATE TABLE public.app_animal_tags"), text.find("CREATE TABLE public.app_zebra_tags"));
    assert!(taken.is_some() && taken < m2m, "pg_dump's order: {text}");
    // Live: the many-to-many table's rename of `RenameModel` (alter_db_table).
    let live = run(Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(&db.name)
        .args(["-c", "ALTER TABLE app_zebra_tags RENAME TO app_animal_tags"]));
    let live_err = String::from_utf8_lossy(&live.stderr);
    assert!(!live.status.success() && live_err.contains("already exists"), "live: {live_err}");
    let out = dir.path().join("out.sql");
    let r = run(dumpsed().args(["rewrite", "--django-model", "app.Zebra=Animal"]).arg(&dump).arg("-o").arg(&out));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "rewritten: {err}");
    let line = text[..taken.unwrap_or(0)].matches('\n').count() + 1;
    for w in ["already has a table app_animal_tags, the new name of app_zebra_tags", &format!("line {line}, byte ")] {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
    assert!(!out.exists(), "output left");
}

/// `--rename-permissions` with `--mark-applied` on the containers the
/// suite had not run it on: `--inserts`, `--column-inserts`, SQLite and a
/// custom archive. Restored (psql, sqlite3, pg_restore), real Django's
/// `has_perm` says the users keep their grants under the new codenames
/// (with the flag) or under the old ones (without, as Django 5.2's migrate
/// leaves them), the `django_migrations` rows are there with the given
/// time, and `migrate --check` has nothing left to apply.
#[test]
fn rename_permissions_and_mark_applied_on_every_container() {
    let check = "from django.contrib.auth.models import User; \
                 g = lambda u, p: User.objects.get(username=u).has_perm('incident_safety.' + p); \
                 print(g('manager', 'change_safetyactionplan'), g('carer', 'add_safetyactionplan'), \
                 g('manager', 'change_correctivepreventiveaction'))";
    let dir = scratch();
    let rules = rules_file(dir.path());
    let source = PgDb::new("src");
    source.restore(&fixture("django/pg/before.sql"));
    let custom = dir.path().join("before.dump");
    ok(Command::new("pg_dump").args(["-Fc", "-d", &source.name, "-f"]).arg(&custom));
    let inputs = [
        ("inserts", fixture("django/pg/before-inserts.sql")),
        ("column-inserts", fixture("django/pg/before-column-inserts.sql")),
        ("custom", custom),
        ("sqlite", fixture("django/sqlite/before.sql")),
    ];
    for (flag, want) in [(Some("--rename-permissions"), "True True False"), (None, "False False True")] {
        for (name, input) in &inputs {
            let what = format!("{name} {flag:?}");
            let sqlite = *name == "sqlite";
            let out = dir.path().join(format!("out-{name}"));
            let at = if sqlite { AT_SQLITE } else { AT_PG };
            let (fine, err) = rewrite(&rules, &[&["--quiet", "--applied-at", at], flag.as_slice()].concat(), input, &out);
            assert!(fine, "{what}: {err}");
            let (target, rows);
            let mut _restored = None;
            if sqlite {
                let file = dir.path().join("restored.sqlite3");
                sqlite_db(&out, &file);
                rows = String::from_utf8_lossy(&ok(Command::new("sqlite3").arg(&file).arg(format!(
                    "SELECT name FROM django_migrations WHERE app = 'incident_safety' AND applied = '{at}' ORDER BY name"
                ))))
                .into_owned();
                target = file.to_string_lossy().into_owned();
            } else {
                let db = PgDb::new("perm");
                if *name == "custom" {
                    ok(Command::new("pg_restore").args(["-d", &db.name]).arg(&out));
                } else {
                    db.restore(&out);
                }
                rows = db.query(&format!(
                    "SELECT name FROM django_migrations WHERE app = 'incident_safety' AND applied = '{at}' ORDER BY name"
                ));
                target = db.name.clone();
                _restored = Some(db);
            }
            assert_eq!(
                rows.lines().collect::<Vec<_>>(),
                ["0002_rename_capa_to_safety_action_plan", "0003_update_reference_numbers"],
                "{what}"
            );
            let (fine, got) = manage(&target, sqlite, &["shell", "-c", check]);
            assert!(fine, "{what}: {got}");
            // `shell` may print a note about auto-imports first.
            assert_eq!(got.lines().last().unwrap_or_default().trim(), want, "{what}: {got}");
            let (fine, got) = manage(&target, sqlite, &["migrate", "--check"]);
            assert!(fine, "{what}: migrate --check: {got}");
        }
    }
}
