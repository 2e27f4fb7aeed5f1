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

use common::django::*;
use common::*;
use dumpsed::Rules;

const MARKS: &[&str] = &[
    "--mark-applied",
    "incident_safety.0002_rename_capa_to_safety_action_plan",
    "--mark-applied",
    "incident_safety.0003_update_reference_numbers",
];

/// The guide's 0002 gives exactly the preset's model rename, and with
/// 0003's stub filled in exactly the preset plus both `mark_applied`
/// rows; so the tests below, which run the generated rules, run the preset.
/// Besides, on SQLite, the column order of the two tables Django rebuilds
/// (the state's, which is the dump's here: no reordering).
#[test]
fn helper_rules_for_the_guide_are_the_preset() {
    let rebuilds = |r: &mut Rules| {
        for (table, cols) in [
            (
                "incident_safety_actionreview",
                &["id", "reviewed_at", "effective", "notes", "reviewer_id", "action_id"][..],
            ),
            (
                "staff_records_trainingrecord",
                &["id", "course_name", "completed_on", "notes", "capa_id", "staff_member_id"],
            ),
        ] {
            r.add_django_rebuild(table.as_bytes(), cols.iter().map(|c| c.as_bytes().to_vec()).collect())
                .expect("rule");
        }
    };
    let (code, toml, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["incident_safety.0002_rename_capa_to_safety_action_plan"],
    );
    assert_eq!(code, Some(0), "{err}");
    let got = Rules::from_toml(&toml).expect("generated TOML parses");
    let mut want = Rules::new();
    want.add_django_model(
        "incident_safety.CorrectivePreventiveAction=SafetyActionPlan",
        None,
    )
    .expect("rule");
    want.add_mark_applied("incident_safety.0002_rename_capa_to_safety_action_plan")
        .expect("rule");
    rebuilds(&mut want);
    assert_eq!(got, want, "{toml}");

    let got = Rules::from_toml(&guide_rules_toml()).expect("generated TOML parses");
    let mut want = Rules::preset("capa-to-sap").expect("preset");
    for m in MARKS.iter().skip(1).step_by(2) {
        want.add_mark_applied(m).expect("rule");
    }
    rebuilds(&mut want);
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
    assert_eq!(
        raw.mark_applied()[0].1,
        "0002_rename_capa_to_safety_action_plan"
    );
}

#[test]
fn helper_errors_name_the_problem() {
    let (code, out, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["nosuchapp.0001"],
    );
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.is_empty() && err.contains("nosuchapp"), "{err}");
    let (code, _, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["incident_safety.0009"],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("incident_safety.0009"), "{err}");
    // 0001 is a CreateModel: not something a rename of a dump can express.
    let (code, out, err) = helper(
        "django/project",
        "fixtureproj.settings",
        &["staff_records.0001"],
    );
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
    let (got, want) = (normalized_sqlite(&got), normalized_sqlite(&want));
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

// ---------------------------------------------------------------------------
// The relation shapes of issue 10 (`fixtures/django/shapes/`, real Django 5.2
// `migrate` of `gadgets.0002_renames`): every rule comes from the helper.

/// `manage.py` of the shapes project against PostgreSQL database `db`.
fn manage_shapes(db: &str, args: &[&str]) -> (bool, String) {
    let out = run(Command::new(django_python())
        .arg(fixture("django/shapes/project/manage.py"))
        .args(args)
        .env("DJANGO_DB_BACKEND", "postgresql")
        .env("DJANGO_PG_NAME", db)
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn rewrite_with(rules_toml: &str, before: &str, out: &Path) {
    let rules = out.with_extension("toml");
    std::fs::write(&rules, rules_toml).expect("write rules");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules"])
        .arg(&rules)
        .arg(fixture(before))
        .arg("-o")
        .arg(out));
}

fn pg_shapes_match_live(form: &str) {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    rewrite_with(
        &shapes_rules("postgresql"),
        &format!("django/shapes/pg/before{form}.sql"),
        &out,
    );
    let ours = PgDb::new("shp");
    ours.restore(&out);
    let live = PgDb::new("shplive");
    live.restore(&fixture(&format!("django/shapes/pg/after-live{form}.sql")));
    let (got, want) = (
        normalized_pg(&ours.dump(&[])),
        normalized_pg(&live.dump(&[])),
    );
    assert!(
        got == want,
        "shapes{form}: {}",
        first_difference(&got, &want)
    );
    // venues 0002 is left unapplied in both (Django cannot apply it).
    for app in ["gadgets", "outlets", "archive", "extras"] {
        let (fine, text) = manage_shapes(&ours.name, &["migrate", "--check", app]);
        assert!(fine, "migrate --check {app} after restore:\n{text}");
    }
}

/// RenameModel of a model with `Meta.db_table` kept, then AlterModelTable
/// (archive.Drawer → Cabinet, drawer_v1 → cabinet_v2): Django renames the
/// M2M column at the first step and re-creates its foreign key under a name
/// computed from the M2M table's name *then*
/// (`drawer_v1_entries_cabinet_id_2c56d376_fk_drawer_v1_id`), not from its
/// final name (`cabinet_v2_entries_…_0063d756_…`). The helper knows the
/// order and says so with `names_at_step`; without it the name is wrong.
#[test]
fn pg_shapes_rename_then_alter_model_table_fk_name() {
    let rules = shapes_rules("postgresql");
    assert!(
        rules.contains("names_at_step = { ")
            && rules.contains("\"drawer_v1_entries\" = \"drawer_v1_entries\""),
        "{rules}"
    );
    let dir = scratch();
    for (toml, want) in [
        (
            rules.clone(),
            "drawer_v1_entries_cabinet_id_2c56d376_fk_drawer_v1_id",
        ),
        (
            // (Kit's kept: a db_table folding an AlterModelTable in is
            // refused without it.)
            rules
                .lines()
                .filter(|l| !l.starts_with("names_at_step") || l.contains("\"extras_kit\" = \"extras_bundle\""))
                .collect::<Vec<_>>()
                .join("\n"),
            "cabinet_v2_entries_cabinet_id_0063d756_fk_drawer_v1_id",
        ),
    ] {
        let out = dir.path().join("out.sql");
        rewrite_with(&toml, "django/shapes/pg/before.sql", &out);
        let text = String::from_utf8_lossy(&std::fs::read(&out).expect("output")).into_owned();
        assert!(
            text.contains(&format!("ADD CONSTRAINT {want} FOREIGN KEY (cabinet_id)")),
            "{want}"
        );
        // A key to a model that keeps its Meta.db_table (Sprocket → Cog),
        // from a table renamed later (gadgets_node): Django leaves its name,
        // with or without names_at_step.
        assert!(
            text.contains(
                "ADD CONSTRAINT gadgets_node_sprocket_id_09b0666e_fk_legacy_sprocket_id FOREIGN KEY (sprocket_id)"
            ),
            "{want}"
        );
    }
}

#[test]
fn pg_shapes_copy_dump_matches_django_migrate() {
    pg_shapes_match_live("");
}

#[test]
fn pg_shapes_inserts_dump_matches_django_migrate() {
    pg_shapes_match_live("-inserts");
}

#[test]
fn pg_shapes_column_inserts_dump_matches_django_migrate() {
    pg_shapes_match_live("-column-inserts");
}

/// The generated rules name what each shape needs (so a change in the
/// helper that drops one fails here, not only in a dump comparison).
#[test]
fn helper_rules_for_the_shapes() {
    let toml = shapes_rules("sqlite3");
    for want in [
        // self-referential M2M, symmetrical and not
        "old = \"gadgets_gadget_friends\"\nnew = \"gadgets_widget_friends\"",
        "column = \"gadgets_gadget_friends.from_gadget_id\"\nnew = \"from_widget_id\"",
        "column = \"gadgets_gadget_parts.to_gadget_id\"\nnew = \"to_widget_id\"",
        // M2M declared on another model
        "column = \"gadgets_shelf_gadgets.gadget_id\"\nnew = \"widget_id\"",
        // Meta.db_table kept
        "model = \"gadgets.Sprocket\"\nnew = \"Cog\"\ndb_table = \"legacy_sprocket=legacy_sprocket\"",
        // RenameField of a plain column and of a foreign key
        "column = \"gadgets_shelf.label\"\nnew = \"title\"",
        "[[django_field]]\nfield = \"gadgets.Shelf.owner_id\"\nnew = \"keeper_id\"",
        // AlterModelTable, and its M2M table
        "old = \"bolt_old\"\nnew = \"bolt_new\"",
        "old = \"bolt_old_shelves\"\nnew = \"bolt_new_shelves\"",
        "model = \"gadgets.Node\"\nnew = \"TreeNode\"",
        // RenameModel then AlterModelTable of a model without Meta.db_table:
        // one rename of its table, to the final name, and the name between
        // the steps (Django names the re-created keys from it)
        "model = \"extras.Kit\"\nnew = \"Bundle\"\ndb_table = \"extras_kit=bundle_v2\"\nnames_at_step = { \"extras_kit\" = \"extras_bundle\" }",
        // MTI child renamed; two models renamed where one has an M2M to the
        // other (the M2M table named by its name in the dump)
        "model = \"outlets.Bakery\"\nnew = \"Patisserie\"",
        // RenameModel with db_table kept, then AlterModelTable
        "model = \"archive.Drawer\"\nnew = \"Cabinet\"\ndb_table = \"drawer_v1=drawer_v1\"",
        "column = \"drawer_v1_entries.drawer_id\"\nnew = \"cabinet_id\"",
        "old = \"drawer_v1_entries\"\nnew = \"cabinet_v2_entries\"",
        "column = \"outlets_book_authors_and_contributing_editors_of_this_edition.author_id\"\nnew = \"writer_id\"",
    ] {
        assert!(toml.contains(want), "missing {want:?} in\n{toml}");
    }
    // An AlterField that changes only related_name: no SQL, a comment.
    assert!(
        toml.contains("# extras.0003_profile_related_name: AlterField partprofile.part: no SQL"),
        "{toml}"
    );
    assert!(
        toml.contains("\"extras.0003_profile_related_name\","),
        "{toml}"
    );
    Rules::from_toml(&toml).expect("generated TOML parses");
    // PostgreSQL cuts the M2M table name over 63 characters (truncate_name),
    // so dumpsed cannot derive the new one: the helper gives it; SQLite does not.
    let pg = shapes_rules("postgresql");
    assert!(
        pg.contains("old = \"archive_ledger_entries_reconciled_against_the_quarterly_sta965c\"\nnew = \"archive_journal_entries_reconciled_against_the_quarterly_stac23\""),
        "{pg}"
    );
    assert!(!toml.contains("sta965c"), "{toml}");
    // Django 5.2 cannot apply venues 0002 (MTI parent renamed): the helper
    // says so rather than print rules.
    let (code, out, err) = helper(SHAPES, SHAPES_SETTINGS, &["venues.0002"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.is_empty() && err.contains("Django itself cannot apply"),
        "{err}"
    );
}

/// The lines of a normalised `.dump` about the given tables.
fn sqlite_lines_of(dump: &str, tables: &[&str]) -> String {
    dump.lines()
        .filter(|l| {
            tables.iter().any(|t| {
                l.contains(&format!("\"{t}\""))
                    || l.contains(&format!("INSERT INTO {t} VALUES"))
                    || l.contains(&format!("('{t}',"))
            })
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn sqlite_shapes(rules_toml: &str) -> (String, String) {
    let dir = scratch();
    let out = dir.path().join("out.sql");
    rewrite_with(rules_toml, "django/shapes/sqlite/before.sql", &out);
    let got = sqlite_restore_and_dump(&out, dir.path(), "ours");
    let want = std::fs::read(fixture("django/shapes/sqlite/after-live.sql")).expect("fixture");
    (normalized_sqlite(&got), normalized_sqlite(&want))
}

/// SQLite, a subset of the helper's rules (its blocks for these shapes)
/// on its own gives these tables as live: a RenameModel with `Meta.db_table`
/// kept, AlterModelTable (with its M2M table), an MTI child renamed, a
/// model with a long-named M2M (SQLite does not cut names), a OneToOne and
/// a through-model M2M to a renamed model (Django rebuilds those tables),
/// the through model's other side renamed then given a `Meta.db_table`,
/// with the rename of the model `legacy_sprocket` refers to.
#[test]
fn sqlite_shapes_db_table_and_alter_model_table_match() {
    let toml = shapes_rules("sqlite3");
    let blocks: Vec<&str> = toml
        .split("\n\n")
        .filter(|b| {
            // legacy_sprocket has a foreign key to Gadget, renamed too.
            !b.contains("[[")
                || b.contains("Sprocket")
                || b.contains("bolt_old")
                || b.contains("model = \"gadgets.Gadget\"")
                || b.contains("model = \"outlets.Bakery\"")
                || b.contains("model = \"archive.Ledger\"")
                || b.contains("model = \"extras.Part\"")
                || b.contains("model = \"extras.Kit\"")
        })
        .collect();
    let (got, want) = sqlite_shapes(&blocks.join("\n\n"));
    let tables = [
        "legacy_sprocket",
        "bolt_new",
        "bolt_new_shelves",
        "outlets_patisserie",
        "archive_journal",
        "archive_journal_entries_reconciled_against_the_quarterly_statement",
        "extras_component",
        "extras_partprofile",
        "extras_kitpart",
        "bundle_v2",
    ];
    let (got, want) = (
        sqlite_lines_of(&got, &tables),
        sqlite_lines_of(&want, &tables),
    );
    assert!(want.contains("CREATE TABLE"), "{want}");
    assert!(got == want, "{}", first_difference(&got, &want));
}

/// SQLite, every shape with all the helper's rules: RenameModel then
/// AlterModelTable in one migration (archive.Drawer) included, whose M2M
/// index names Django computes from the M2M table's name between the two
/// steps (`drawer_v1_entries_cabinet_id_2c56d376`), and keeps at the second.
#[test]
fn sqlite_shapes_dump_matches_django_migrate() {
    let (got, want) = sqlite_shapes(&shapes_rules("sqlite3"));
    let only = |a: &str, b: &str| -> Vec<String> {
        let bs: std::collections::HashSet<&str> = b.lines().collect();
        a.lines()
            .filter(|l| !bs.contains(l))
            .map(str::to_owned)
            .collect()
    };
    assert!(
        got == want,
        "{}\nonly in ours:\n{}\nonly in live:\n{}",
        first_difference(&got, &want),
        only(&got, &want).join("\n"),
        only(&want, &got).join("\n")
    );
}

/// SQLite, RenameModel with `Meta.db_table` kept then AlterModelTable
/// (archive.Drawer → Cabinet, drawer_v1 → cabinet_v2): the first step
/// rebuilds the M2M table `drawer_v1_entries` (its column `drawer_id` →
/// `cabinet_id`), so its indexes are named from `drawer_v1_entries`; the
/// second only renames. Without the helper's `names_at_step` dumpsed can
/// only name them from the final table, which is wrong.
#[test]
fn sqlite_shapes_rename_then_alter_model_table_index_names() {
    let rules = shapes_rules("sqlite3");
    let without: String = rules
        .lines()
        // (Kit's kept: a db_table folding an AlterModelTable in is refused without it.)
        .filter(|l| !l.starts_with("names_at_step") || l.contains("\"extras_kit\" = \"extras_bundle\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let live = String::from_utf8_lossy(
        &std::fs::read(fixture("django/shapes/sqlite/after-live.sql")).expect("fixture"),
    )
    .into_owned();
    let dir = scratch();
    for (toml, table) in [
        (&rules, "drawer_v1_entries"),
        (&without, "cabinet_v2_entries"),
    ] {
        let out = dir.path().join("out.sql");
        rewrite_with(toml, "django/shapes/sqlite/before.sql", &out);
        let text = String::from_utf8_lossy(&std::fs::read(&out).expect("output")).into_owned();
        for (cols, suffix) in [
            (&["cabinet_id"][..], ""),
            (&["cabinet_id", "entry_id"], "_uniq"),
            (&["entry_id"], ""),
        ] {
            let name = dumpsed::internals::django::create_index_name(
                table,
                cols,
                suffix,
                dumpsed::internals::django::SQLITE_MAX_NAME,
            );
            let quoted = cols
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let line = format!("INDEX \"{name}\" ON \"cabinet_v2_entries\" ({quoted});");
            assert!(text.contains(&line), "{table}: {line}");
            // What live Django wrote: the step's names, not the final table's.
            assert_eq!(live.contains(&line), table == "drawer_v1_entries", "{line}");
        }
    }
}

/// SQLite: a column renamed where no Django step rebuilds its table keeps
/// its indexes' names, Django-made or not, as SQLite's `RENAME COLUMN` does
/// (what Django runs for a RenameField of a plain column, `_alter_field` in
/// sqlite3/schema.py), even with Django rules in the run.
#[test]
fn sqlite_plain_column_rename_keeps_index_names() {
    let dir = scratch();
    let before = fixture("django/shapes/sqlite/before.sql");
    let out = dir.path().join("out.sql");
    ok(dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--django-model",
            "extras.Part=Component",
        ])
        .args(["--rename-column", "gadgets_node.sprocket_id=cog_ref"])
        .arg(&before)
        .arg("-o")
        .arg(&out));
    let ours = normalized_sqlite(&sqlite_restore_and_dump(&out, dir.path(), "ours"));
    let db = dir.path().join("live.db");
    ok(Command::new("sqlite3")
        .arg("-bail")
        .arg(&db)
        .stdin(std::fs::File::open(&before).expect("fixture")));
    ok(Command::new("sqlite3")
        .arg(&db)
        .arg("ALTER TABLE gadgets_node RENAME COLUMN sprocket_id TO cog_ref;"));
    let live = normalized_sqlite(&ok(Command::new("sqlite3").arg(&db).arg(".dump")));
    let (got, want) = (
        sqlite_lines_of(&ours, &["gadgets_node"]),
        sqlite_lines_of(&live, &["gadgets_node"]),
    );
    assert!(
        want.contains("\"gadgets_node_sprocket_id_09b0666e\" ON \"gadgets_node\" (\"cog_ref\")"),
        "{want}"
    );
    assert!(got == want, "{}", first_difference(&got, &want));
}

/// A Django rule naming a table or column the dump does not have is an
/// error naming it, and nothing is written.
#[test]
fn django_field_and_table_missing_from_the_dump_are_errors() {
    for dump in [
        "django/shapes/pg/before.sql",
        "django/shapes/sqlite/before.sql",
    ] {
        for (args, want) in [
            (
                &["--django-field", "gadgets.Shelf.owner=keeper"][..],
                "table gadgets_shelf has no column owner",
            ),
            (
                &["--django-field", "gadgets.Nope.owner_id=keeper_id"][..],
                "table gadgets_nope is not in this dump",
            ),
            (
                &["--django-table", "gadgets.Nope=nope_v2"][..],
                "table gadgets_nope is not in this dump",
            ),
            (
                &["--django-model", "gadgets.Nope=Other"][..],
                "--django-model gadgets.Nope: its table gadgets_nope is not in this dump",
            ),
            // A model keeping a Meta.db_table the dump does not have.
            (
                &["--django-model", "gadgets.Sprocket=Cog", "--db-table", "nope_v1=nope_v1"][..],
                "Django model rename gadgets.Sprocket: its table nope_v1 (Meta.db_table) is not in this dump",
            ),
        ] {
            let dir = scratch();
            let out = dir.path().join("out.sql");
            let res = run(dumpsed()
                .arg("rewrite")
                .args(args)
                .arg(fixture(dump))
                .arg("-o")
                .arg(&out));
            let err = String::from_utf8_lossy(&res.stderr);
            assert!(!res.status.success(), "{dump} {args:?}: {err}");
            // On SQLite, SQLite's own ALTER TABLE may refuse the missing
            // column first, in its words.
            let sqlite_says = dump.contains("sqlite") && err.contains("no such column");
            assert!(err.contains(want) || sqlite_says, "{dump} {args:?}: {err}");
            assert!(!out.exists(), "{dump} {args:?}: output written");
        }
        // The same rules on what the dump has are fine.
        let dir = scratch();
        ok(dumpsed()
            .args([
                "rewrite",
                "--quiet",
                "--django-field",
                "gadgets.Shelf.owner_id=keeper_id",
            ])
            .args(["--django-table", "gadgets.Node=node_v2"])
            .arg(fixture(dump))
            .arg("-o")
            .arg(dir.path().join("out.sql")));
    }
}

/// A RenameField of a foreign key and then a rename of that model's table
/// in one run: Django names the re-created constraint from the table name
/// at the RenameField's step, which `[[django_field]]` cannot express, so
/// the helper refuses (naming both) instead of printing rules that would
/// give a wrong name silently. The fixture project is copied and given a
/// third gadgets migration that renames `Shelf`'s table after 0002
/// renamed its `owner` key to `keeper`.
#[test]
fn helper_refuses_a_table_rename_after_a_foreign_key_rename() {
    let dir = scratch();
    let project = dir.path().join("project");
    ok(Command::new("cp")
        .arg("-r")
        .arg(fixture(SHAPES))
        .arg(&project));
    std::fs::write(
        project.join("gadgets/migrations/0003_shelf_table.py"),
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    \
         dependencies = [('gadgets', '0002_renames')]\n    \
         operations = [migrations.AlterModelTable(name='shelf', table='shelf_v2')]\n",
    )
    .expect("write migration");
    let project = project.to_str().expect("utf-8 path");
    let (code, out, err) = helper(project, SHAPES_SETTINGS, &["gadgets.0002", "gadgets.0003"]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(
        err.contains("renames table gadgets_shelf after") && err.contains("shelf.owner -> keeper"),
        "{err}"
    );
    // Each migration alone is expressible.
    for m in ["gadgets.0002", "gadgets.0003"] {
        let (code, _, err) = helper(project, SHAPES_SETTINGS, &[m]);
        assert_eq!(code, Some(0), "{m}: {err}");
    }
}

const OPTIONS: &str = "django/options/project";
const OPTIONS_SETTINGS: &str = "optionsproj.settings";
/// perms 0002-0007 of the options project (fixtures/django/options): the
/// state-only operations (AlterModelOptions with `default_permissions = []`
/// and `Meta.permissions`, AlterModelManagers, SeparateDatabaseAndState
/// with state operations only, the project's own `Operation` subclass,
/// `RunSQL.noop`) and a RenameModel of the model whose options changed.
const OPTIONS_MIGRATIONS: &[&str] = &[
    "perms.0002",
    "perms.0003",
    "perms.0004",
    "perms.0005",
    "perms.0006",
    "perms.0007",
];

/// The rules without their `[[django_permissions]]` tables (what dumpsed
/// did before: the four defaults for a renamed model, nothing else).
fn without_permission_rules(rules: &str) -> String {
    rules
        .split("\n\n")
        .filter(|b| !b.contains("[[django_permissions]]"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn options_rules(backend: &str) -> String {
    let (code, toml, err) = helper_for(backend, OPTIONS, OPTIONS_SETTINGS, OPTIONS_MIGRATIONS);
    assert_eq!(code, Some(0), "{err}");
    toml
}

/// `manage.py` of the options project against PostgreSQL database `db`.
fn manage_options(db: &str, args: &[&str]) -> (bool, String) {
    let out = run(Command::new(django_python())
        .arg(fixture("django/options/project/manage.py"))
        .args(args)
        .env("DJANGO_DB_BACKEND", "postgresql")
        .env("DJANGO_PG_NAME", db)
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Issue 27, items 2 and 3 on PostgreSQL: the helper translates the
/// state-only operations (no rule: they emit no SQL) and writes the
/// permissions post_migrate adds from the models' options; the rewritten
/// dump restored is the database real `migrate perms` made (the renamed
/// model with `default_permissions = []` gets only its `Meta.permissions`,
/// the model given `Meta.permissions` by a state-only operation gets them,
/// with the same ids), and `migrate --check perms` has nothing to do.
/// Without the `[[django_permissions]]` rules it differs.
#[test]
fn pg_options_state_only_and_permissions_match_django_migrate() {
    let rules = options_rules("postgresql");
    assert!(rules.contains("[[django_permissions]]"), "{rules}");
    // Item 6: from the before-dump's django_migrations rows the helper
    // plans the same migrations (`migrate perms`) and writes the same rules.
    let before = fixture("django/options/pg/before.sql");
    let before = before.to_str().expect("UTF-8 fixture path");
    let (code, planned, err) = helper_for(
        "postgresql",
        OPTIONS,
        OPTIONS_SETTINGS,
        &["--applied-from", before, "perms"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(planned, rules);
    let live = PgDb::new("optlive");
    live.restore(&fixture("django/options/pg/after-live.sql"));
    let want = normalized_pg(&live.dump(&[]));
    let dir = scratch();
    for (toml, should_match) in [
        (rules.clone(), true),
        (without_permission_rules(&rules), false),
    ] {
        let out = dir.path().join("out.sql");
        rewrite_with(&toml, "django/options/pg/before.sql", &out);
        let ours = PgDb::new("opt");
        ours.restore(&out);
        let got = normalized_pg(&ours.dump(&[]));
        if should_match {
            assert!(got == want, "{}", first_difference(&got, &want));
            let (fine, text) = manage_options(&ours.name, &["migrate", "--check", "perms"]);
            assert!(fine, "migrate --check perms after restore:\n{text}");
        } else {
            assert!(got != want, "the permission rules made no difference");
        }
    }
}

/// The same on SQLite (`.dump`).
#[test]
fn sqlite_options_state_only_and_permissions_match_django_migrate() {
    let rules = options_rules("sqlite3");
    let want = normalized_sqlite(
        &std::fs::read(fixture("django/options/sqlite/after-live.sql")).expect("fixture"),
    );
    let dir = scratch();
    for (toml, should_match) in [
        (rules.clone(), true),
        (without_permission_rules(&rules), false),
    ] {
        let out = dir.path().join("out.sql");
        rewrite_with(&toml, "django/options/sqlite/before.sql", &out);
        let name = if should_match { "ours" } else { "without" };
        let got = normalized_sqlite(&sqlite_restore_and_dump(&out, dir.path(), name));
        assert_eq!(
            got == want,
            should_match,
            "{}",
            first_difference(&got, &want)
        );
    }
}

/// `[[django_permissions]]` in a rules file: parsed, validated, and a
/// second table for the same model is an error.
#[test]
fn django_permissions_rules_are_validated() {
    let ok = "[[django_permissions]]\nmodel = \"perms.Gizmo\"\npermissions = [[\"audit_gadget\", \"Can audit gadgets\"]]\n";
    let r = Rules::from_toml(ok).expect("parses");
    assert_eq!(r.django_permissions()[0].model, "gizmo");
    assert!(r.has_django());
    for bad in [
        format!("{ok}{ok}"),
        ok.replace("perms.Gizmo", "Gizmo"),
        ok.replace("\"audit_gadget\"", "\"\""),
        ok.replace(
            "[[\"audit_gadget\", \"Can audit gadgets\"]]",
            "[[\"audit_gadget\"]]",
        ),
    ] {
        assert!(Rules::from_toml(&bad).is_err(), "{bad}");
    }
}
