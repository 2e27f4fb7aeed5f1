//! Hand-written Django rules (issue 27 item 4): `--django-model`,
//! `--django-field`, `--django-table` written by hand, without the
//! helper's explicit rules for many-to-many tables, either give what real
//! Django 5.2 `migrate` gives for every shape of `fixtures/django/shapes/`
//! or are refused naming the rule to add. Compared as tests/django.rs
//! does: rewritten, restored with the real client, dumped again, equal to
//! the live dump (rows as multisets, `applied` masked), and `migrate
//! --check` has nothing left to apply.

mod common;

use std::process::Command;

use common::django::*;
use common::*;

const MARKS: &str = r#"mark_applied = [
    "gadgets.0002_renames",
    "outlets.0002_renames",
    "archive.0002_renames",
    "extras.0002_renames",
    "extras.0003_profile_related_name",
    "extras.0004_bundle",
]
"#;

/// The shapes' migrations as a person writes them from the migration
/// files: one rule per operation, no rule for a many-to-many table. The
/// two RenameModel-then-AlterModelTable models say the names between the
/// steps (`names_at_step`, refused without: see below).
const HAND: &str = r#"
[[django_model]]
model = "gadgets.Sprocket"
new = "Cog"
db_table = "legacy_sprocket=legacy_sprocket"

[[django_model]]
model = "gadgets.Node"
new = "TreeNode"

[[django_model]]
model = "gadgets.Gadget"
new = "Widget"

[[django_field]]
field = "gadgets.Shelf.owner_id"
new = "keeper_id"

[[django_field]]
field = "gadgets.Shelf.label"
new = "title"

[[django_table]]
model = "gadgets.Bolt"
old = "bolt_old"
new = "bolt_new"

[[django_model]]
model = "outlets.Bakery"
new = "Patisserie"

[[django_model]]
model = "outlets.Book"
new = "Volume"

[[django_model]]
model = "outlets.Author"
new = "Writer"

[[django_model]]
model = "archive.Drawer"
new = "Cabinet"
db_table = "drawer_v1=cabinet_v2"
names_at_step = { "drawer_v1" = "drawer_v1", "drawer_v1_entries" = "drawer_v1_entries" }

[[django_model]]
model = "archive.Ledger"
new = "Journal"

[[django_model]]
model = "extras.Part"
new = "Component"

[[django_model]]
model = "extras.Kit"
new = "Bundle"
db_table = "extras_kit=bundle_v2"
names_at_step = { "extras_kit" = "extras_bundle" }
"#;

/// PostgreSQL cuts the Ledger M2M table's name (over 63 characters): the
/// dump cannot tell its new name, so a hand-written rule gives it.
const LEDGER_PG: &str = r#"
[[rename_table]]
old = "archive_ledger_entries_reconciled_against_the_quarterly_sta965c"
new = "archive_journal_entries_reconciled_against_the_quarterly_stac23"
"#;

fn rewrite_ok(rules: &str, before: &str, out: &std::path::Path) {
    let path = out.with_extension("toml");
    std::fs::write(&path, rules).expect("write rules");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules"])
        .arg(&path)
        .arg(fixture(before))
        .arg("-o")
        .arg(out));
}

/// Runs `dumpsed rewrite` expecting a refusal; returns its stderr.
fn refused(rules: &str, before: &str) -> String {
    let dir = scratch();
    let path = dir.path().join("rules.toml");
    let out = dir.path().join("out.sql");
    std::fs::write(&path, rules).expect("write rules");
    let res = run(dumpsed()
        .args(["rewrite", "--rules"])
        .arg(&path)
        .arg(fixture(before))
        .arg("-o")
        .arg(&out));
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert_eq!(res.status.code(), Some(2), "{before}: {err}");
    assert!(!out.exists(), "{before}: output written");
    err
}

fn manage_shapes_check(env: &[(&str, &str)]) {
    for app in ["gadgets", "outlets", "archive", "extras"] {
        let out = run(Command::new(django_python())
            .arg(fixture("django/shapes/project/manage.py"))
            .args(["migrate", "--check", app])
            .envs(env.iter().copied())
            .env("PYTHONDONTWRITEBYTECODE", "1"));
        assert!(
            out.status.success(),
            "migrate --check {app}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn pg_hand_rules_match_live(form: &str) {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    let rules = format!("{MARKS}{HAND}{LEDGER_PG}");
    rewrite_ok(&rules, &format!("django/shapes/pg/before{form}.sql"), &out);
    let ours = PgDb::new("hand");
    ours.restore(&out);
    let live = PgDb::new("handlive");
    live.restore(&fixture(&format!("django/shapes/pg/after-live{form}.sql")));
    let (got, want) = (
        normalized_pg(&ours.dump(&[])),
        normalized_pg(&live.dump(&[])),
    );
    assert!(got == want, "shapes{form}: {}", first_difference(&got, &want));
    manage_shapes_check(&[
        ("DJANGO_DB_BACKEND", "postgresql"),
        ("DJANGO_PG_NAME", &ours.name),
    ]);
}

#[test]
fn pg_copy_hand_rules_match_django_migrate() {
    pg_hand_rules_match_live("");
}

#[test]
fn pg_inserts_hand_rules_match_django_migrate() {
    pg_hand_rules_match_live("-inserts");
}

#[test]
fn pg_column_inserts_hand_rules_match_django_migrate() {
    pg_hand_rules_match_live("-column-inserts");
}

/// The custom archive of the live before-database (pg_dump -Fc of the
/// restored `before.sql`), rewritten, restored with pg_restore.
#[test]
fn pg_custom_archive_hand_rules_match_django_migrate() {
    let dir = scratch();
    let before = PgDb::new("handarc");
    before.restore(&fixture("django/shapes/pg/before.sql"));
    let archive = dir.path().join("before.dump");
    ok(Command::new("pg_dump")
        .args(["-Fc", "-f"])
        .arg(&archive)
        .arg("-d")
        .arg(&before.name));
    let out = dir.path().join("out.dump");
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, format!("{MARKS}{HAND}{LEDGER_PG}")).expect("write rules");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules"])
        .arg(&rules)
        .arg(&archive)
        .arg("-o")
        .arg(&out));
    let ours = PgDb::new("handarcout");
    ok(Command::new("pg_restore")
        .args(["--exit-on-error", "-d"])
        .arg(&ours.name)
        .arg(&out));
    let live = PgDb::new("handarclive");
    live.restore(&fixture("django/shapes/pg/after-live.sql"));
    let (got, want) = (
        normalized_pg(&ours.dump(&[])),
        normalized_pg(&live.dump(&[])),
    );
    assert!(got == want, "archive: {}", first_difference(&got, &want));
    manage_shapes_check(&[
        ("DJANGO_DB_BACKEND", "postgresql"),
        ("DJANGO_PG_NAME", &ours.name),
    ]);
}

#[test]
fn sqlite_hand_rules_match_django_migrate() {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    rewrite_ok(&format!("{MARKS}{HAND}"), "django/shapes/sqlite/before.sql", &out);
    let got = normalized_sqlite(&sqlite_restore_and_dump(&out, dir.path(), "ours"));
    let want = normalized_sqlite(
        &std::fs::read(fixture("django/shapes/sqlite/after-live.sql")).expect("fixture"),
    );
    assert!(got == want, "{}", first_difference(&got, &want));
    let db = dir.path().join("ours.db");
    manage_shapes_check(&[
        ("DJANGO_DB_BACKEND", "sqlite3"),
        ("DJANGO_SQLITE_PATH", db.to_str().expect("utf-8 path")),
    ]);
}

/// What the dump cannot tell is refused, naming the rule to add: the new
/// name of a many-to-many table PostgreSQL's 63 characters may have cut,
/// and the names between a RenameModel and an AlterModelTable folded into
/// one `[[django_model]]`.
#[test]
fn undetermined_hand_rules_are_refused() {
    let err = refused(&format!("{MARKS}{HAND}"), "django/shapes/pg/before.sql");
    assert!(
        err.contains("archive_ledger_entries_reconciled_against_the_quarterly_sta965c")
            && err.contains("--rename-table")
            && err.contains("dumpsed-django"),
        "{err}"
    );
    for dump in ["django/shapes/pg/before.sql", "django/shapes/sqlite/before.sql"] {
        let rules = format!("{MARKS}{HAND}{LEDGER_PG}")
            .lines()
            .filter(|l| !l.starts_with("names_at_step"))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let err = refused(&rules, dump);
        assert!(
            err.contains("archive.Drawer=Cabinet") && err.contains("names_at_step") && err.contains("dumpsed-django"),
            "{dump}: {err}"
        );
    }
}
