//! Real migrations of published Django apps (issue 27): a database at an
//! earlier migration of the app, its dump rewritten with the rules
//! `dumpsed-django --applied-from` writes, restored with the real psql /
//! pg_restore / sqlite3, is the database real `migrate` made to the later
//! migration, and `migrate --check` has nothing left to do. The apps come
//! from PyPI (`fixtures/django/published/requirements.txt`, installed into
//! the Django venv by tests/run.sh; none of their code is in git); the
//! dumps from `fixtures/django/published/regen.sh`.
//!
//! django-rest-knox 5.1.0 (MIT): `knox.0007_auto_20190111_0542` renames
//! `authtoken.expires` to `expiry`; the next, `0008_remove_authtoken_salt`,
//! drops a column, which no rule expresses: refused by name.
//!
//! social-auth-app-django 5.4.3 (BSD-3-Clause), settings
//! `pubproj.settings_social`: `social_django.0015_…` is two RenameFields on
//! two models (`usersocialauth.extra_data_new` → `extra_data`,
//! `partial.data_new` → `data`, JSON columns); its leaf, 0016, an AlterField
//! with no SQL (only `blank`/`default`), so the leaf is reached too.

mod common;

use std::path::Path;
use std::process::Command;

use common::django::*;
use common::*;

const PROJECT: &str = "django/published/project";
const SETTINGS: &str = "pubproj.settings";
const KNOX_TARGET: &str = "knox.0007_auto_20190111_0542";

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn helper_applied(backend: &str, dump: &Path, targets: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["--applied-from", path_str(dump)];
    args.extend(targets);
    helper_for(backend, PROJECT, SETTINGS, &args)
}

fn knox_rules(backend: &str, dump: &Path) -> String {
    let (code, toml, err) = helper_applied(backend, dump, &[KNOX_TARGET]);
    assert_eq!(code, Some(0), "{err}");
    let rules = dumpsed::Rules::from_toml(&toml).expect("the helper's rules parse");
    assert_eq!(rules.mark_applied(), [("knox".to_string(), "0007_auto_20190111_0542".to_string())]);
    toml
}

fn rewrite(toml: &str, input: &Path, out: &Path) {
    let rules = out.with_extension("toml");
    std::fs::write(&rules, toml).expect("write rules");
    ok(dumpsed().args(["rewrite", "--quiet", "--rules"]).arg(&rules).arg(input).arg("-o").arg(out));
}

fn migrate_check(env: &[(&str, &str)]) {
    let out = run(Command::new(django_python())
        .arg(fixture(&format!("{PROJECT}/manage.py")))
        .args(["migrate", "--check", "knox", "0007_auto_20190111_0542"])
        .envs(env.iter().copied())
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert!(
        out.status.success(),
        "migrate --check knox 0007 after the restore:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// PostgreSQL, plain dump and custom archive at knox 0006, brought to 0007.
#[test]
fn pg_knox_rename_field_matches_migrate() {
    let live = PgDb::new("knoxlive");
    live.restore(&fixture("django/published/knox/pg/after-live.sql"));
    let want = normalized_pg(&live.dump(&[]));
    let dir = scratch();
    let plain = fixture("django/published/knox/pg/before.sql");
    let custom = fixture("django/published/knox/pg/before.dump");
    let rules = knox_rules("postgresql", &plain);
    assert_eq!(knox_rules("postgresql", &custom), rules);

    let out = dir.path().join("out.sql");
    rewrite(&rules, &plain, &out);
    let ours = PgDb::new("knox");
    ours.restore(&out);
    let got = normalized_pg(&ours.dump(&[]));
    assert!(got == want, "plain: {}", first_difference(&got, &want));
    migrate_check(&[("DJANGO_DB_BACKEND", "postgresql"), ("DJANGO_PG_NAME", &ours.name)]);

    let out = dir.path().join("out.dump");
    rewrite(&rules, &custom, &out);
    let ours = PgDb::new("knoxfc");
    let r = run(Command::new("pg_restore").args(["--exit-on-error", "-d", &ours.name]).arg(&out));
    assert!(r.status.success(), "pg_restore: {}", String::from_utf8_lossy(&r.stderr));
    let got = normalized_pg(&ours.dump(&[]));
    assert!(got == want, "custom: {}", first_difference(&got, &want));
    migrate_check(&[("DJANGO_DB_BACKEND", "postgresql"), ("DJANGO_PG_NAME", &ours.name)]);
}

/// SQLite `.dump` at knox 0006, brought to 0007.
#[test]
fn sqlite_knox_rename_field_matches_migrate() {
    let before = fixture("django/published/knox/sqlite/before.sql");
    let dir = scratch();
    let rules = knox_rules("sqlite3", &before);
    let out = dir.path().join("out.sql");
    rewrite(&rules, &before, &out);
    let got = normalized_sqlite(&sqlite_restore_and_dump(&out, dir.path(), "ours"));
    let want = normalized_sqlite(&std::fs::read(fixture("django/published/knox/sqlite/after-live.sql")).expect("fixture"));
    assert!(got == want, "{}", first_difference(&got, &want));
    let db = dir.path().join("ours.db");
    migrate_check(&[("DJANGO_DB_BACKEND", "sqlite3"), ("DJANGO_SQLITE_PATH", path_str(&db))]);
}

/// To knox's leaf the plan reaches 0008 (a RemoveField): refused by name.
#[test]
fn knox_leaf_is_refused_at_the_remove_field() {
    for (backend, dump) in [
        ("postgresql", "django/published/knox/pg/before.dump"),
        ("sqlite3", "django/published/knox/sqlite/before.sql"),
    ] {
        let (code, out, err) = helper_applied(backend, &fixture(dump), &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("knox.0008_remove_authtoken_salt: RemoveField cannot be expressed"), "{err}");
    }
}

const SOCIAL_SETTINGS: &str = "pubproj.settings_social";
const SOCIAL_0015: &str = "0015_rename_extra_data_new_usersocialauth_extra_data";

/// The helper's rules for social_django to `target` (the leaf when empty).
fn social_rules(backend: &str, dump: &Path, target: Option<&str>) -> String {
    let mut args = vec!["--applied-from", path_str(dump)];
    let t = target.map(|t| format!("social_django.{t}"));
    args.extend(t.as_deref());
    let (code, toml, err) = helper_for(backend, PROJECT, SOCIAL_SETTINGS, &args);
    assert_eq!(code, Some(0), "{err}");
    let rules = dumpsed::Rules::from_toml(&toml).expect("the helper's rules parse");
    let mut want = vec![("social_django".to_string(), SOCIAL_0015.to_string())];
    if target.is_none() {
        want.push(("social_django".to_string(), "0016_alter_usersocialauth_extra_data".to_string()));
    }
    assert_eq!(rules.mark_applied(), want);
    toml
}

fn social_migrate_check(target: &str, env: &[(&str, &str)]) {
    let out = run(Command::new(django_python())
        .arg(fixture(&format!("{PROJECT}/manage.py")))
        .args(["migrate", "--check", "--settings", SOCIAL_SETTINGS, "social_django", target])
        .envs(env.iter().copied())
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert!(
        out.status.success(),
        "migrate --check social_django {target} after the restore:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// PostgreSQL, plain dump and custom archive at social_django 0014, brought
/// to 0015 and to the leaf (0016): each equals real `migrate` to it.
#[test]
fn pg_social_two_rename_fields_match_migrate() {
    let dir = scratch();
    let plain = fixture("django/published/social/pg/before.sql");
    let custom = fixture("django/published/social/pg/before.dump");
    for (target, after) in [(Some(SOCIAL_0015), "after-live.sql"), (None, "after-leaf-live.sql")] {
        let live = PgDb::new("sociallive");
        live.restore(&fixture(&format!("django/published/social/pg/{after}")));
        let want = normalized_pg(&live.dump(&[]));
        let rules = social_rules("postgresql", &plain, target);
        assert_eq!(social_rules("postgresql", &custom, target), rules);
        let check = target.unwrap_or("0016_alter_usersocialauth_extra_data");

        let out = dir.path().join("out.sql");
        rewrite(&rules, &plain, &out);
        let ours = PgDb::new("social");
        ours.restore(&out);
        let got = normalized_pg(&ours.dump(&[]));
        assert!(got == want, "plain to {check}: {}", first_difference(&got, &want));
        social_migrate_check(check, &[("DJANGO_DB_BACKEND", "postgresql"), ("DJANGO_PG_NAME", &ours.name)]);

        let out = dir.path().join("out.dump");
        rewrite(&rules, &custom, &out);
        let ours = PgDb::new("socialfc");
        let r = run(Command::new("pg_restore").args(["--exit-on-error", "-d", &ours.name]).arg(&out));
        assert!(r.status.success(), "pg_restore: {}", String::from_utf8_lossy(&r.stderr));
        let got = normalized_pg(&ours.dump(&[]));
        assert!(got == want, "custom to {check}: {}", first_difference(&got, &want));
        social_migrate_check(check, &[("DJANGO_DB_BACKEND", "postgresql"), ("DJANGO_PG_NAME", &ours.name)]);
    }
}

/// SQLite `.dump` at social_django 0014, brought to 0015 and to the leaf.
#[test]
fn sqlite_social_two_rename_fields_match_migrate() {
    let before = fixture("django/published/social/sqlite/before.sql");
    for (target, after) in [(Some(SOCIAL_0015), "after-live.sql"), (None, "after-leaf-live.sql")] {
        let dir = scratch();
        let rules = social_rules("sqlite3", &before, target);
        let out = dir.path().join("out.sql");
        rewrite(&rules, &before, &out);
        let got = normalized_sqlite(&sqlite_restore_and_dump(&out, dir.path(), "ours"));
        let want = normalized_sqlite(
            &std::fs::read(fixture(&format!("django/published/social/sqlite/{after}"))).expect("fixture"),
        );
        let check = target.unwrap_or("0016_alter_usersocialauth_extra_data");
        assert!(got == want, "to {check}: {}", first_difference(&got, &want));
        let db = dir.path().join("ours.db");
        social_migrate_check(check, &[("DJANGO_DB_BACKEND", "sqlite3"), ("DJANGO_SQLITE_PATH", path_str(&db))]);
    }
}
