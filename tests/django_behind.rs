//! Issue 27 item 6: a backup several migrations behind its code, brought to
//! the code's migration state offline. `fixtures/django/behind/` (real
//! Django 5.2, `regen.sh`) is a database at the 0001 of two apps, whose
//! code has four more migrations (renames of models and fields, library's
//! 0003 depending on circulation's 0002). `dumpsed-django --applied-from`
//! reads the dump's `django_migrations` rows with `dumpsed inspect --json`
//! and writes the rules of what `migrate` would apply, in its order; the
//! rewritten dump, restored with the real psql / pg_restore / sqlite3, is
//! the database real `migrate` made (to every leaf, and to one target), and
//! `migrate --check` has nothing left to do. On PostgreSQL a plain dump and
//! a custom archive, on SQLite a `.dump`.
//!
//! `inspect --json`'s `django_migrations` is checked against the rows the
//! real server and sqlite3 hold, on every container pg_dump writes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::django::*;
use common::*;

const PROJECT: &str = "django/behind/project";
const SETTINGS: &str = "behindproj.settings";
/// The same project with an app whose 0001 (a CreateModel) comes last.
const SETTINGS_EXTRAS: &str = "behindproj.settings_extras";

/// (targets given to the helper and to `migrate`, live dump, live log).
const RUNS: [(&[&str], &str, &str); 2] = [
    (&[], "after-live-all.sql", "migrate-all.txt"),
    (&["library.0003_volume"], "after-live-target.sql", "migrate-target.txt"),
];

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The helper's rules for `dump` up to `targets` (every leaf when empty).
fn applied_rules(backend: &str, dump: &Path, targets: &[&str]) -> String {
    let mut args = vec!["--applied-from", path_str(dump)];
    args.extend(targets);
    let (code, toml, err) = helper_for(backend, PROJECT, SETTINGS, &args);
    assert_eq!(code, Some(0), "helper --applied-from {}: {err}", dump.display());
    toml
}

/// The migrations real `migrate` applied, in its order, from its `-v 2` log.
fn live_applied(log: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixture(log)).expect("migrate log");
    text.lines()
        .filter_map(|l| l.strip_prefix("  Applying ")?.strip_suffix("... OK"))
        .map(str::to_string)
        .collect()
}

fn mark_applied(toml: &str) -> Vec<String> {
    let rules = dumpsed::Rules::from_toml(toml).expect("the helper's rules parse");
    rules.mark_applied().iter().map(|(a, m)| format!("{a}.{m}")).collect()
}

/// `migrate TARGET` as `manage.py` arguments (`library.0003_volume` →
/// `library 0003_volume`).
fn migrate_args<'a>(first: &'a str, targets: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![first];
    for t in targets {
        v.extend(t.splitn(2, '.'));
    }
    v
}

/// `manage.py migrate --check [TARGET]` on the database `env` names.
fn migrate_check(env: &[(&str, &str)], targets: &[&str]) {
    let mut args = migrate_args("migrate", targets);
    args.insert(1, "--check");
    let out = run(Command::new(django_python())
        .arg(fixture(&format!("{PROJECT}/manage.py")))
        .args(&args)
        .envs(env.iter().copied())
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert!(
        out.status.success(),
        "migrate --check {targets:?} after the restore:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rewrite(toml: &str, input: &Path, out: &Path) {
    let rules = out.with_extension("toml");
    std::fs::write(&rules, toml).expect("write rules");
    ok(dumpsed().args(["rewrite", "--quiet", "--rules"]).arg(&rules).arg(input).arg("-o").arg(out));
}

/// PostgreSQL: the plain dump and the custom archive, several migrations
/// behind, to every leaf and to `library 0003_volume`.
#[test]
fn pg_backup_behind_is_brought_to_what_migrate_makes() {
    let plain = fixture("django/behind/pg/before.sql");
    let custom = fixture("django/behind/pg/before.dump");
    let dir = scratch();
    for (targets, after, log) in RUNS {
        let rules = applied_rules("postgresql", &plain, targets);
        let want_applied = live_applied(&format!("django/behind/pg/{log}"));
        assert!(want_applied.len() >= 3 || !targets.is_empty(), "{want_applied:?}");
        assert_eq!(mark_applied(&rules), want_applied, "{targets:?}");
        // The archive holds the same rows: the same rules.
        assert_eq!(applied_rules("postgresql", &custom, targets), rules, "{targets:?}");
        let live = PgDb::new("behindlive");
        live.restore(&fixture(&format!("django/behind/pg/{after}")));
        let want = normalized_pg(&live.dump(&[]));

        let out = dir.path().join("out.sql");
        rewrite(&rules, &plain, &out);
        let ours = PgDb::new("behind");
        ours.restore(&out);
        let got = normalized_pg(&ours.dump(&[]));
        assert!(got == want, "plain, {targets:?}: {}", first_difference(&got, &want));
        migrate_check(&[("DJANGO_DB_BACKEND", "postgresql"), ("DJANGO_PG_NAME", &ours.name)], targets);

        let out = dir.path().join("out.dump");
        rewrite(&rules, &custom, &out);
        let ours = PgDb::new("behindfc");
        let r = run(Command::new("pg_restore").args(["--exit-on-error", "-d", &ours.name]).arg(&out));
        assert!(r.status.success(), "pg_restore: {}", String::from_utf8_lossy(&r.stderr));
        let got = normalized_pg(&ours.dump(&[]));
        assert!(got == want, "custom, {targets:?}: {}", first_difference(&got, &want));
        migrate_check(&[("DJANGO_DB_BACKEND", "postgresql"), ("DJANGO_PG_NAME", &ours.name)], targets);
    }
}

/// SQLite: the `.dump` behind, brought to `RUNS[run]`.
fn sqlite_run(run: usize) {
    let (targets, after, log) = RUNS[run];
    let before = fixture("django/behind/sqlite/before.sql");
    let dir = scratch();
    let rules = applied_rules("sqlite3", &before, targets);
    assert_eq!(mark_applied(&rules), live_applied(&format!("django/behind/sqlite/{log}")), "{targets:?}");
    let out = dir.path().join("out.sql");
    rewrite(&rules, &before, &out);
    let got = normalized_sqlite(&sqlite_restore_and_dump(&out, dir.path(), "ours"));
    let want = normalized_sqlite(&std::fs::read(fixture(&format!("django/behind/sqlite/{after}"))).expect("fixture"));
    assert!(got == want, "{targets:?}: {}", first_difference(&got, &want));
    let db = dir.path().join("ours.db");
    migrate_check(&[("DJANGO_DB_BACKEND", "sqlite3"), ("DJANGO_SQLITE_PATH", path_str(&db))], targets);
}

/// SQLite, to `library 0003_volume` (three migrations, one of another app).
#[test]
fn sqlite_backup_behind_to_a_target_is_what_migrate_makes() {
    sqlite_run(1);
}

/// SQLite, to every leaf: the plan is migrate's.
#[test]
fn sqlite_backup_behind_plans_every_leaf_as_migrate() {
    let (targets, _, log) = RUNS[0];
    let rules = applied_rules("sqlite3", &fixture("django/behind/sqlite/before.sql"), targets);
    assert_eq!(mark_applied(&rules), live_applied(&format!("django/behind/sqlite/{log}")));
}

/// SQLite, to every leaf: Django rebuilds `circulation_loan` last at
/// `library.0003_volume`, in the field order the state has after
/// `circulation.0003` (another app, applied before it): live `(id, due,
/// patron_id, volume_id)`. The helper carries one state through the run, as
/// migrate's executor does; made afresh per migration, the state lacked
/// `circulation.0003` and the order came out `(…, volume_id, patron_id)`.
#[test]
fn sqlite_backup_behind_to_every_leaf_is_what_migrate_makes() {
    sqlite_run(0);
}

/// With one more app whose 0001 creates a table, the helper refuses that
/// migration by name (the renames before it in the plan are expressible),
/// on every form of the dump, and prints no rules.
#[test]
fn backup_behind_refuses_the_first_migration_it_cannot_express() {
    for (backend, dump) in [
        ("postgresql", "django/behind/pg/before.sql"),
        ("postgresql", "django/behind/pg/before.dump"),
        ("sqlite3", "django/behind/sqlite/before.sql"),
    ] {
        let dump = fixture(dump);
        let (code, out, err) =
            helper_for(backend, PROJECT, SETTINGS_EXTRAS, &["--applied-from", path_str(&dump)]);
        assert_eq!(code, Some(2), "{}: {err}", dump.display());
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("extras.0001_initial: CreateModel cannot be expressed"), "{err}");
    }
}

/// `(app, name, applied)` of the rows `inspect --json` reports, sorted.
fn inspected(dump: &Path) -> Option<Vec<(String, String, String)>> {
    let out = ok(dumpsed().args(["inspect", "--json"]).arg(dump));
    let v: serde_json::Value = serde_json::from_slice(&out).expect("inspect prints JSON");
    let rows = v.get("django_migrations").expect("the django_migrations key").as_array()?;
    let field = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_else(|| panic!("{k} of {r}")).to_string();
    let mut rows: Vec<_> = rows.iter().map(|r| (field(r, "app"), field(r, "name"), field(r, "applied"))).collect();
    rows.sort();
    Some(rows)
}

/// Rows as the real server or sqlite3 prints them: `app|name|applied`.
fn rows_of(text: &str) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(3, '|').collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    rows.sort();
    rows
}

/// `inspect --json` gives the `django_migrations` rows the database holds,
/// from every container: plain COPY, `--inserts`, `--column-inserts
/// --rows-per-insert`, gzip'd, zstd'd and lz4'd plain, custom (gzip, `-Z0`,
/// `--inserts`), directory, tar; SQLite `.dump`. A dump without the table
/// reports `null`; the rest of the JSON is what it was.
#[test]
fn inspect_json_reports_django_migrations_on_every_container() {
    let db = PgDb::new("behindinspect");
    db.restore(&fixture("django/behind/pg/before.sql"));
    // Text as pg_dump's COPY writes it (pg_dump sets DateStyle ISO).
    let want = rows_of(&db.query(
        "SET datestyle = ISO; SELECT app || '|' || name || '|' || applied::text FROM django_migrations",
    ));
    assert!(want.len() > 10, "{want:?}");
    let dir = scratch();
    let forms: [(&str, &[&str]); 9] = [
        ("plain.sql", &[]),
        ("inserts.sql", &["--inserts"]),
        ("column-inserts.sql", &["--column-inserts", "--rows-per-insert=3"]),
        ("custom.dump", &["-Fc"]),
        ("custom-z0.dump", &["-Fc", "-Z0"]),
        ("custom-inserts.dump", &["-Fc", "--inserts"]),
        ("dir", &["-Fd"]),
        ("dir-j2", &["-Fd", "-j", "2"]),
        ("archive.tar", &["-Ft"]),
    ];
    let mut files: Vec<PathBuf> = Vec::new();
    for (name, opts) in forms {
        let f = dir.path().join(name);
        ok(Command::new("pg_dump").args(opts).arg("-f").arg(&f).arg("-d").arg(&db.name));
        files.push(f);
    }
    for (tool, ext) in [("gzip", "gz"), ("zstd", "zst"), ("lz4", "lz4")] {
        let f = dir.path().join(format!("plain.sql.{ext}"));
        let out = ok(Command::new(tool).arg("-c").arg(dir.path().join("plain.sql")));
        std::fs::write(&f, out).expect("write");
        files.push(f);
    }
    for f in &files {
        assert_eq!(inspected(f).as_ref(), Some(&want), "{}", f.display());
    }
    // the committed fixtures: the custom archive regen.sh made
    assert_eq!(inspected(&fixture("django/behind/pg/before.dump")), Some(want));

    let sqlite = fixture("django/behind/sqlite/before.sql");
    let restored = sqlite_restore_and_dump(&sqlite, dir.path(), "inspect");
    assert!(!restored.is_empty());
    let out = ok(Command::new("sqlite3")
        .arg(dir.path().join("inspect.db"))
        .arg("SELECT app || '|' || name || '|' || applied FROM django_migrations"));
    let want = rows_of(&String::from_utf8_lossy(&out));
    assert!(want.len() > 10);
    assert_eq!(inspected(&sqlite), Some(want));

    // not a Django database: null, and the other keys as before
    assert_eq!(inspected(&fixture("pg/before.sql")), None);
    let out = ok(dumpsed().args(["inspect", "--json"]).arg(fixture("pg/before.sql")));
    let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    for key in ["format", "encoding", "compression", "tables", "renames", "rewrites", "left_alone"] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
}
