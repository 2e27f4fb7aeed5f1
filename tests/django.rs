//! The Django rename (issue: "exactly as `manage.py migrate` does it"):
//! each before-dump of the fixture project, rewritten with the preset and
//! `--mark-applied` for 0002 and 0003, restored into the real database,
//! is the database real Django 5.2's `migrate` produced, and real Django
//! then has nothing left to apply.
//!
//! Normalised before comparing, and nothing else: row order (live UPDATEs
//! move rows; pg_dump and `.dump` write rows in physical order), SQLite's
//! object order (Django rebuilds tables, which moves them to the end of
//! `sqlite_schema`), and the `applied` timestamps of `django_migrations`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use dumpsed::Rules;

const MARKS: &[&str] = &[
    "--mark-applied",
    "incident_safety.0002_rename_capa_to_safety_action_plan",
    "--mark-applied",
    "incident_safety.0003_update_reference_numbers",
];

/// Runs the repo's Django helper (`python -m dumpsed_django`, in
/// `python/`) on the fixture project; returns (exit code, stdout, stderr).
fn helper(project: &str, settings: &str, migrations: &[&str]) -> (Option<i32>, String, String) {
    let out = run(Command::new(django_python())
        .args(["-m", "dumpsed_django", "--project"])
        .arg(fixture(project))
        .args(["--settings", settings])
        .args(migrations)
        .env("PYTHONPATH", root().join("python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("DJANGO_SETTINGS_MODULE"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The helper's rules for the guide's 0002 and 0003, with the commented
/// `[[rewrite]]` stub printed for 0003's RunPython filled in as the guide's
/// code says (`reference_number__startswith='CAPA-'`, `replace('CAPA-', 'SAP-')`).
fn guide_rules_toml() -> String {
    let (code, toml, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["incident_safety.0002", "incident_safety.0003"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("RunPython") && err.contains("cannot be translated"), "{err}");
    let stub_start = toml.find("# [[rewrite]]").expect("a [[rewrite]] stub for RunPython");
    let (head, stub) = toml.split_at(stub_start);
    let filled: String = stub
        .lines()
        .map(|l| {
            let l = l.strip_prefix("# ").unwrap_or(l);
            l.replace("TABLE.COLUMN", "incident_safety_safetyactionplan.reference_number")
                .replace("OLD-PREFIX", "CAPA-")
                .replace("NEW-PREFIX", "SAP-")
        })
        .map(|l| l + "\n")
        .collect();
    format!("{head}{filled}")
}

/// The guide's 0002 gives exactly the preset's model rename, and with
/// 0003's stub filled in exactly the preset plus both `mark_applied`
/// rows; so the tests below, which run the generated rules, run the preset.
#[test]
fn helper_rules_for_the_guide_are_the_preset() {
    let (code, toml, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["incident_safety.0002_rename_capa_to_safety_action_plan"],
    );
    assert_eq!(code, Some(0), "{err}");
    let got = Rules::from_toml(&toml).expect("generated TOML parses");
    let mut want = Rules::new();
    want.add_django_model("incident_safety.CorrectivePreventiveAction=SafetyActionPlan", None)
        .expect("rule");
    want.add_mark_applied("incident_safety.0002_rename_capa_to_safety_action_plan")
        .expect("rule");
    assert_eq!(got, want, "{toml}");

    let got = Rules::from_toml(&guide_rules_toml()).expect("generated TOML parses");
    let mut want = Rules::preset("capa-to-sap").expect("preset");
    for m in MARKS.iter().skip(1).step_by(2) {
        want.add_mark_applied(m).expect("rule");
    }
    assert_eq!(got, want);
    // Unfilled, the stub is only a comment: the rules are the rename alone.
    let (_, raw, _) = helper(
        "django/project",
        "fixtureproj.settings",
        &["incident_safety.0003", "incident_safety.0002"],
    );
    let raw = Rules::from_toml(&raw).expect("generated TOML parses");
    assert!(raw.rewrites().is_empty());
    assert_eq!(raw.mark_applied().len(), 2);
    assert_eq!(raw.mark_applied()[0].1, "0002_rename_capa_to_safety_action_plan");
}

#[test]
fn helper_errors_name_the_problem() {
    let (code, out, err) = helper("django/project", "fixtureproj.settings", &["nosuchapp.0001"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.is_empty() && err.contains("nosuchapp"), "{err}");
    let (code, _, err) = helper("django/project", "fixtureproj.settings", &["incident_safety.0009"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("incident_safety.0009"), "{err}");
    // 0001 is a CreateModel: not something a rename of a dump can express.
    let (code, out, err) = helper("django/project", "fixtureproj.settings", &["staff_records.0001"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.is_empty() && err.contains("CreateModel"), "{err}");
}

fn rewrite(before: &str, out: &Path, extra: &[&str]) {
    let dir = scratch();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, guide_rules_toml()).expect("write rules");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules"])
        .arg(&rules)
        .args(extra)
        .arg(fixture(before))
        .arg("-o")
        .arg(out));
}

/// A pg_dump (COPY form) with each COPY block's rows sorted and the
/// `applied` column of `django_migrations` masked.
fn normalized_pg(dump: &[u8]) -> String {
    let text = without_restrict_keys(dump);
    let mut out = Vec::new();
    let mut block: Option<(bool, Vec<String>)> = None;
    for line in text.lines() {
        match &mut block {
            Some((migrations, rows)) if line != "\\." => {
                let mut row = line.to_string();
                if *migrations {
                    if let Some(i) = row.rfind('\t') {
                        row.replace_range(i + 1.., "<applied>");
                    }
                }
                rows.push(row);
            }
            Some(_) => {
                let (_, mut rows) = block.take().expect("block");
                rows.sort();
                out.extend(rows);
                out.push(line.to_string());
            }
            None => {
                if line.starts_with("COPY ") {
                    block = Some((
                        line.starts_with("COPY public.django_migrations "),
                        Vec::new(),
                    ));
                }
                out.push(line.to_string());
            }
        }
    }
    out.join("\n")
}

fn django_python() -> String {
    std::env::var("DUMPSED_DJANGO_PY").unwrap_or_else(|_| {
        panic!("this test needs Django 5.2 in a virtualenv: run the suite with `bash tests/run.sh`, which makes one (DUMPSED_DJANGO_PY is not set)")
    })
}

/// Runs `manage.py` of the fixture project against database `db`.
fn manage(db: &str, args: &[&str]) -> String {
    let out = ok(Command::new(django_python())
        .arg(fixture("django/project/manage.py"))
        .args(args)
        .env("DJANGO_DB_BACKEND", "postgresql")
        .env("DJANGO_PG_NAME", db)
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    String::from_utf8_lossy(&out).into_owned()
}

fn pg_matches_live(before: &str, after: &str) {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    rewrite(before, &out, &[]);
    let ours = PgDb::new("dj");
    ours.restore(&out);
    let live = PgDb::new("djlive");
    live.restore(&fixture(after));
    let (got, want) = (
        normalized_pg(&ours.dump(&[])),
        normalized_pg(&live.dump(&[])),
    );
    assert!(got == want, "{before}: {}", first_difference(&got, &want));
    let migrate = manage(&ours.name, &["migrate", "--noinput"]);
    assert!(
        migrate.contains("No migrations to apply."),
        "{before}: migrate after restore:\n{migrate}"
    );
}

#[test]
fn pg_copy_dump_matches_django_migrate() {
    pg_matches_live("django/pg/before.sql", "django/pg/after-live.sql");
}

#[test]
fn pg_inserts_dump_matches_django_migrate() {
    pg_matches_live(
        "django/pg/before-inserts.sql",
        "django/pg/after-live-inserts.sql",
    );
}

#[test]
fn pg_column_inserts_dump_matches_django_migrate() {
    pg_matches_live(
        "django/pg/before-column-inserts.sql",
        "django/pg/after-live-column-inserts.sql",
    );
}

/// With `--rename-permissions`, users and groups keep their grants under
/// the new codenames (Django's own `has_perm` says so); without it they
/// keep them under the old ones, as after Django 5.2's migrate.
#[test]
fn pg_rename_permissions_keeps_grants() {
    let check = "from django.contrib.auth.models import User; \
                 g = lambda u, p: User.objects.get(username=u).has_perm('incident_safety.' + p); \
                 print(g('manager', 'change_safetyactionplan'), g('carer', 'add_safetyactionplan'), \
                 g('manager', 'change_correctivepreventiveaction'))";
    let dir = scratch();
    for (flag, want) in [
        (Some("--rename-permissions"), "True True False"),
        (None, "False False True"),
    ] {
        let out = dir.path().join("out.sql");
        rewrite("django/pg/before.sql", &out, flag.as_slice());
        let db = PgDb::new("perm");
        db.restore(&out);
        // `shell` may print a note about auto-imports first.
        let got = manage(&db.name, &["shell", "-c", check]);
        assert_eq!(
            got.lines().last().unwrap_or_default().trim(),
            want,
            "{flag:?}: {got}"
        );
    }
}

#[test]
fn sqlite_dump_matches_django_migrate() {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    rewrite("django/sqlite/before.sql", &out, &[]);
    let got = sqlite_restore_and_dump(&out, dir.path(), "ours");
    let want = std::fs::read(fixture("django/sqlite/after-live.sql")).expect("fixture");
    let norm = |d: &[u8]| {
        let mut lines: Vec<String> = String::from_utf8_lossy(d)
            .lines()
            .map(
                |l| match l.strip_prefix("INSERT INTO django_migrations VALUES(") {
                    Some(rest) => format!(
                        "INSERT INTO django_migrations VALUES({}<applied>",
                        &rest[..rest.rfind(",'").map_or(0, |i| i + 1)]
                    ),
                    None => l.to_string(),
                },
            )
            .collect();
        lines.sort();
        lines.join("\n")
    };
    let (got, want) = (norm(&got), norm(&want));
    assert!(got == want, "{}", first_difference(&got, &want));
    // Django's SQLite startswith is LIKE, which ignores ASCII case.
    assert!(got.contains("'Capa-SAP-5'"));
}

#[test]
fn django_rule_errors_are_clear() {
    let res = run(dumpsed()
        .args(["rewrite", "--django-model", "incident-safety.Old=New"])
        .arg(fixture("django/pg/before.sql")));
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("not a valid Python identifier"));
    // --mark-applied on a dump without django_migrations.
    let res = run(dumpsed()
        .args(["rewrite", "--mark-applied", "incident_safety.0002_x", "-o"])
        .arg(scratch().path().join("o.sql"))
        .arg(fixture("pg/before.sql")));
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("no django_migrations table"));
}
