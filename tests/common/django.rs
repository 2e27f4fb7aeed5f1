//! Helpers of the Django tests (tests/django.rs, tests/django_archive.rs):
//! the repo's rules helper on the fixture projects, the normalised
//! comparison of PostgreSQL dumps, Django's Python.

use std::process::Command;

use super::*;

/// Runs the repo's Django helper (`python -m dumpsed_django`, in
/// `python/`) on the fixture project; returns (exit code, stdout, stderr).
pub fn helper(project: &str, settings: &str, migrations: &[&str]) -> (Option<i32>, String, String) {
    helper_for("sqlite3", project, settings, migrations)
}

/// [`helper`] with the fixture settings' default database on `backend`
/// (`postgresql` or `sqlite3`; nothing connects to it): Django's names
/// depend on the backend (PostgreSQL cuts them at 63 characters).
pub fn helper_for(
    backend: &str,
    project: &str,
    settings: &str,
    migrations: &[&str],
) -> (Option<i32>, String, String) {
    let out = run(Command::new(django_python())
        .env("DJANGO_DB_BACKEND", backend)
        .env("DJANGO_PG_NAME", "dumpsed_no_such_db")
        .args(["-m", "dumpsed_django", "--project"])
        .arg(fixture(project))
        .args(["--settings", settings])
        .args(migrations)
        .env("PYTHONPATH", root().join("python"))
        // --applied-from reads the dump with this run's dumpsed
        .env("DUMPSED", env!("CARGO_BIN_EXE_dumpsed"))
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
pub fn guide_rules_toml() -> String {
    let (code, toml, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["incident_safety.0002", "incident_safety.0003"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("RunPython") && err.contains("cannot be translated"),
        "{err}"
    );
    let stub_start = toml
        .find("# [[rewrite]]")
        .expect("a [[rewrite]] stub for RunPython");
    let (head, stub) = toml.split_at(stub_start);
    // The stub is the commented block up to the first blank line.
    let stub_end = stub.find("\n\n").map_or(stub.len(), |i| i + 1);
    let (stub, rest) = stub.split_at(stub_end);
    let filled: String = stub
        .lines()
        .map(|l| {
            let l = l.strip_prefix("# ").unwrap_or(l);
            l.replace(
                "TABLE.COLUMN",
                "incident_safety_safetyactionplan.reference_number",
            )
            .replace("OLD-PREFIX", "CAPA-")
            .replace("NEW-PREFIX", "SAP-")
        })
        .map(|l| l + "\n")
        .collect();
    format!("{head}{filled}{rest}")
}

/// A pg_dump (COPY form) with each COPY block's rows sorted and the
/// `applied` column of `django_migrations` masked.
pub fn normalized_pg(dump: &[u8]) -> String {
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

/// A `.dump` with lines sorted and `django_migrations.applied` masked.
pub fn normalized_sqlite(d: &[u8]) -> String {
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
}

pub fn django_python() -> String {
    std::env::var("DUMPSED_DJANGO_PY").unwrap_or_else(|_| {
        panic!("this test needs Django 5.2 in a virtualenv: run the suite with `bash tests/run.sh`, which makes one (DUMPSED_DJANGO_PY is not set)")
    })
}

pub const SHAPES: &str = "django/shapes/project";
pub const SHAPES_SETTINGS: &str = "shapesproj.settings";

/// The helper's rules for the `0002_renames` of gadgets, outlets, archive
/// and extras, extras' 0003 (an AlterField of `related_name` only) and
/// 0004 (RenameModel then AlterModelTable of a model without
/// `Meta.db_table`), in the order regen.sh migrated them, for `backend`.
pub fn shapes_rules(backend: &str) -> String {
    let (code, toml, err) = helper_for(
        backend,
        SHAPES,
        SHAPES_SETTINGS,
        &[
            "gadgets.0002",
            "outlets.0002",
            "archive.0002",
            "extras.0002",
            "extras.0003",
            "extras.0004",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    toml
}
