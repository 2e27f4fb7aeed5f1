"""Tests of the installed helper (``dumpsed-django``) against real Django,
on the repository's fixture projects (fixtures/django/*): loading the
migration files, each operation's translation into dumpsed rules, each
refusal. Run by tests/run.sh with the Django venv's pytest; each case runs
the command as a user does (a subprocess, outside the source tree, so the
installed package is what runs)."""
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dumpsed_django.translate import toml_str

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "django"
GUIDE = (FIXTURES / "project", "fixtureproj.settings")
SHAPES = (FIXTURES / "shapes" / "project", "shapesproj.settings")
OPTIONS = (FIXTURES / "options" / "project", "optionsproj.settings")


def command():
    """The console script pip installed next to this Python."""
    script = Path(sys.executable).parent / "dumpsed-django"
    assert script.exists(), f"dumpsed-django is not installed in {Path(sys.executable).parent}"
    return [str(script)]


def helper(project, *migrations, backend="sqlite3", cmd=None, tmp=None):
    path, settings = project
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    env.update(DJANGO_DB_BACKEND=backend, DJANGO_PG_NAME="dumpsed_no_such_db", PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.run(
        (cmd or command()) + ["--project", str(path), "--settings", settings, *migrations],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp or "/",
    )
    return p.returncode, p.stdout, p.stderr


def rules(project, *migrations, backend="sqlite3"):
    code, out, err = helper(project, *migrations, backend=backend)
    assert code == 0, err
    return tomllib.loads(out), out, err


# --- loading


def test_console_script_and_module_give_the_same_rules():
    code, out, err = helper(GUIDE, "incident_safety.0002")
    assert code == 0, err
    code2, out2, err2 = helper(GUIDE, "incident_safety.0002", cmd=[sys.executable, "-m", "dumpsed_django"])
    assert (code2, out2) == (code, out), err2
    assert tomllib.loads(out)["django_model"] == [
        {"model": "incident_safety.CorrectivePreventiveAction", "new": "SafetyActionPlan"}
    ]


def test_migrations_by_prefix_in_the_order_django_applies_them():
    r, _, _ = rules(GUIDE, "incident_safety.0003", "incident_safety.0002")
    assert r["mark_applied"] == [
        "incident_safety.0002_rename_capa_to_safety_action_plan",
        "incident_safety.0003_update_reference_numbers",
    ]


@pytest.mark.parametrize(
    "spec, said",
    [("nosuchapp.0001", "nosuchapp"), ("incident_safety.0009", "incident_safety.0009"), ("incident_safety", "APP.MIGRATION")],
)
def test_unknown_migrations_are_errors(spec, said):
    code, out, err = helper(GUIDE, spec)
    assert code == 2 and out == "" and said in err, err


def test_toml_strings_round_trip():
    for s in ['plain', 'quo"te', "back\\slash", "tab\tnl\n", "del\x7f", "ünï"]:
        assert tomllib.loads("v = " + toml_str(s))["v"] == s


# --- each operation's translation


@pytest.fixture(scope="module")
def shapes():
    r, text, _ = rules(SHAPES, "gadgets.0002", "outlets.0002", "archive.0002", "extras.0002", "extras.0003", "extras.0004")
    return r, text


def test_rename_model(shapes):
    r, _ = shapes
    models = {d["model"]: d for d in r["django_model"]}
    assert models["gadgets.Gadget"]["new"] == "Widget"
    # Meta.db_table kept by the rename
    assert models["gadgets.Sprocket"]["db_table"] == "legacy_sprocket=legacy_sprocket"
    # self-referential M2M: Django renames its table and both columns
    assert {"old": "gadgets_gadget_friends", "new": "gadgets_widget_friends"} in r["rename_table"]
    assert {"column": "gadgets_gadget_friends.from_gadget_id", "new": "from_widget_id"} in r["rename_column"]


def test_rename_model_then_alter_model_table_is_one_rename_with_the_names_between(shapes):
    r, _ = shapes
    kit = next(d for d in r["django_model"] if d["model"] == "extras.Kit")
    assert kit["db_table"] == "extras_kit=bundle_v2"
    assert kit["names_at_step"] == {"extras_kit": "extras_bundle"}


def test_rename_field(shapes):
    r, _ = shapes
    assert {"column": "gadgets_shelf.label", "new": "title"} in r["rename_column"]
    # a foreign key: its constraint is re-created, so a [[django_field]]
    assert {"field": "gadgets.Shelf.owner_id", "new": "keeper_id"} in r["django_field"]


def test_alter_model_table(shapes):
    r, _ = shapes
    assert {"old": "bolt_old", "new": "bolt_new"} in r["rename_table"]
    assert {"old": "bolt_old_shelves", "new": "bolt_new_shelves"} in r["rename_table"]


def test_alter_field_without_sql_is_a_comment(shapes):
    r, text = shapes
    assert "# extras.0003_profile_related_name: AlterField partprofile.part: no SQL" in text
    assert "extras.0003_profile_related_name" in r["mark_applied"]


def test_run_python_is_a_commented_stub_and_a_note():
    r, text, err = rules(GUIDE, "incident_safety.0003")
    assert "rewrite" not in r and "# [[rewrite]]" in text
    assert "RunPython" in err and "cannot be translated" in err


# --- state-only operations: judged by the SQL they emit (issue 27 item 2)

STATE_ONLY = {
    "perms.0002": "AlterModelOptions",
    "perms.0004": "AlterModelManagers",
    "perms.0005": "SeparateDatabaseAndState",
    "perms.0006": "SetVerboseName",  # the project's own Operation subclass
    "perms.0007": "RunSQL",  # RunSQL.noop
}


@pytest.mark.parametrize("backend", ["sqlite3", "postgresql"])
@pytest.mark.parametrize("migration", sorted(STATE_ONLY))
def test_state_only_operations_need_no_rule(migration, backend):
    r, text, err = rules(OPTIONS, migration, backend=backend)
    assert re.search(rf"^# perms\.\S+: {STATE_ONLY[migration]}: no SQL", text, re.M), text
    assert len(r["mark_applied"]) == 1 and r["mark_applied"][0].startswith(migration + "_")
    assert not {"rename_table", "rename_column", "django_model", "django_field"} & set(r), text


REFUSED = {
    "refusals.0002": ("AddField", "runs SQL"),
    "refusals.0003": ("SeparateDatabaseAndState", "runs SQL"),  # a database operation inside
    "refusals.0004": ("CreateItemView", "runs SQL"),  # the project's own operation with SQL
    "refusals.0005": ("CreateModel", "without SQL: post_migrate would add a content type"),  # a proxy
}


@pytest.mark.parametrize("backend", ["sqlite3", "postgresql"])
@pytest.mark.parametrize("migration", sorted(REFUSED))
def test_operations_with_sql_are_refused_by_name(migration, backend):
    code, out, err = helper(OPTIONS, migration, backend=backend)
    name, why = REFUSED[migration]
    assert code == 2 and out == "", out
    assert f": {name} " in err and why in err and "nothing printed" in err, err


def test_create_model_with_a_table_is_refused():
    code, out, err = helper(GUIDE, "staff_records.0001")
    assert code == 2 and out == "" and "CreateModel" in err and "runs SQL" in err, err


# --- permissions follow the models' options (issue 27 item 3)


def copy_rows(dump, table):
    text = dump.read_text()
    m = re.search(rf"^COPY public\.{table} \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", text, re.M | re.S)
    cols = m.group(1).split(", ")
    return [dict(zip(cols, line.split("\t"))) for line in m.group(2).splitlines()]


def test_permissions_are_those_post_migrate_added_live():
    """The permissions the rules add (those not in the dump already) are, in
    order, the rows real `migrate perms` added (fixtures/django/options/pg)."""
    r, _, _ = rules(OPTIONS, *sorted(STATE_ONLY), "perms.0003", backend="postgresql")
    pg = FIXTURES / "options" / "pg"
    before = {(p["content_type_id"], p["codename"]) for p in copy_rows(pg / "before.sql", "auth_permission")}
    cts = {(c["app_label"], c["model"]): c["id"] for c in copy_rows(pg / "after-live.sql", "django_content_type")}
    live_added = [
        (p["content_type_id"], p["codename"], p["name"])
        for p in copy_rows(pg / "after-live.sql", "auth_permission")
        if (p["content_type_id"], p["codename"]) not in before
    ]
    assert live_added, "the fixture adds permissions"
    ours = []
    for entry in r["django_permissions"]:
        app, model = entry["model"].split(".")
        ct = cts[(app, model.lower())]
        ours += [(ct, c, n) for c, n in entry["permissions"] if (ct, c) not in before]
    assert ours == live_added
    # default_permissions = [] on the renamed model: none of the four
    # defaults dumpsed would otherwise add for it
    gizmo = next(e for e in r["django_permissions"] if e["model"] == "perms.Gizmo")
    assert gizmo["permissions"] == [["audit_gadget", "Can audit gadgets"]]


def test_no_permission_rules_when_the_defaults_are_right():
    r, _, _ = rules(SHAPES, "gadgets.0002")
    assert "django_permissions" not in r


# --- a backup brought to the code's migration state (issue 27 item 6)


def sqlite_rows(dump, tmp_path):
    """The dump's django_migrations rows, as real sqlite3 reads them."""
    db = tmp_path / "check.db"
    subprocess.run(["sqlite3", "-bail", str(db)], stdin=open(dump, "rb"), check=True)
    out = subprocess.run(
        ["sqlite3", "-separator", "\t", str(db), "SELECT app, name FROM django_migrations"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {tuple(line.split("\t")) for line in out.splitlines()}


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 CLI")
@pytest.mark.parametrize("state", ["before", "after-live"])
def test_applied_rows_read_from_every_dump_form(state, tmp_path):
    from dumpsed_django.applied import applied_from_dump

    want = sqlite_rows(FIXTURES / "shapes" / "sqlite" / f"{state}.sql", tmp_path)
    assert want
    for form in ["pg/{}.sql", "pg/{}-inserts.sql", "pg/{}-column-inserts.sql", "sqlite/{}.sql"]:
        assert applied_from_dump(FIXTURES / "shapes" / form.format(state)) == want, form


def live_applied(log):
    """The migrations real `migrate` applied, from its output."""
    return re.findall(r"^  Applying (\S+)\.\.\. OK$", log.read_text(), re.M)


@pytest.mark.parametrize("backend", ["pg", "sqlite"])
def test_applied_from_plans_what_migrate_applied(backend):
    dump = FIXTURES / "options" / backend / "before.sql"
    flag = ["--applied-from", str(dump)]
    be = "postgresql" if backend == "pg" else "sqlite3"
    code, out, err = helper(OPTIONS, *flag, "perms", backend=be)
    assert code == 0, err
    assert tomllib.loads(out)["mark_applied"] == live_applied(FIXTURES / "options" / backend / "migrate-perms.txt")
    # the same rules as naming those migrations
    code, named, err = helper(OPTIONS, *tomllib.loads(out)["mark_applied"], backend=be)
    assert code == 0 and named == out, err


def test_applied_from_up_to_date_dump_has_nothing_to_apply():
    code, out, err = helper(OPTIONS, "--applied-from", str(FIXTURES / "options/pg/after-live.sql"), "perms")
    assert code == 0 and tomllib.loads(out)["mark_applied"] == [] and "nothing to apply" in err, err


def test_applied_from_refuses_the_first_migration_it_cannot_express():
    # every app's leaf, as `migrate`: perms 0002-0007, then refusals 0002
    code, out, err = helper(OPTIONS, "--applied-from", str(FIXTURES / "options/pg/before.sql"))
    assert code == 2 and out == "" and "refusals.0002_item_price: AddField" in err, err


def test_applied_from_several_apps_in_migrate_order():
    """Shapes, several apps behind: the targets' plans in the order given,
    as the fixture's `migrate APP` runs applied them; with every leaf,
    venues 0002 (which Django cannot apply) is refused by name."""
    dump = str(FIXTURES / "shapes/pg/before.sql")
    code, out, err = helper(SHAPES, "--applied-from", dump, "gadgets", "outlets", "archive", "extras")
    assert code == 0, err
    # what regen.sh's `migrate gadgets`, `migrate outlets`, ... applied live
    live = [m for app in ["gadgets", "outlets", "archive", "extras"] for m in live_applied(FIXTURES / f"shapes/pg/migrate-{app}.txt")]
    assert live and tomllib.loads(out)["mark_applied"] == live
    code, out, err = helper(SHAPES, "--applied-from", dump)
    assert code == 2 and "venues.0002_rename_place_venue" in err and "Django itself cannot apply" in err, err


PG = b"SET client_encoding = 'UTF8';\n"
COPY = b"COPY public.django_migrations (id, app, name, applied) FROM stdin;\n"


@pytest.mark.parametrize(
    "content, said",
    [
        (b"PGDMP\x01\x10\x00", "dumpsed inspect failed"),
        (b"\x1f\x8b\x08\x00", "dumpsed inspect failed"),
        (PG + b"CREATE TABLE public.other (id integer);\n", "no django_migrations table"),
        (PG + COPY + b"1\tauth\t0001_initial\tx\n", "line 4, byte 119: COPY data not ended"),
        (PG + COPY + b"1\tauth\t0001_initial\n\\.\n", "line 3, byte 97: COPY row of table django_migrations has 3 fields"),
    ],
)
def test_applied_from_bad_dumps_are_errors(content, said, tmp_path):
    dump = tmp_path / "dump.sql"
    dump.write_bytes(content)
    code, out, err = helper(OPTIONS, "--applied-from", str(dump))
    assert code == 2 and out == "" and said in err, err


def test_applied_from_without_dumpsed_says_how_to_give_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DUMPSED"}
    env.update(PATH="/usr/bin:/bin", DJANGO_DB_BACKEND="sqlite3", PYTHONDONTWRITEBYTECODE="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    path, settings = OPTIONS
    p = subprocess.run(
        command() + ["--project", str(path), "--settings", settings, "--applied-from", str(FIXTURES / "options/pg/before.sql")],
        capture_output=True, text=True, env=env, cwd="/",
    )
    assert p.returncode == 2 and p.stdout == "" and "--dumpsed PATH" in p.stderr, p.stderr


# --- a backup several migrations behind (fixtures/django/behind)

BEHIND = (FIXTURES / "behind" / "project", "behindproj.settings")
BEHIND_EXTRAS = (FIXTURES / "behind" / "project", "behindproj.settings_extras")


@pytest.mark.parametrize("dump, backend", [("pg/before.sql", "postgresql"), ("pg/before.dump", "postgresql"), ("sqlite/before.sql", "sqlite3")])
@pytest.mark.parametrize("targets, log", [((), "migrate-all.txt"), (("library.0003_volume",), "migrate-target.txt")])
def test_applied_from_a_backup_behind_plans_in_the_order_migrate_applied(dump, backend, targets, log):
    """Four migrations behind (renames; library 0003 depends on circulation
    0002): the plan to every leaf and to one target is what real `migrate`
    applied, in its order (its full plan's order, not the target's
    depth-first one), from a plain dump, a custom archive and a `.dump`."""
    code, out, err = helper(BEHIND, "--applied-from", str(FIXTURES / "behind" / dump), *targets, backend=backend)
    assert code == 0, err
    side = "pg" if backend == "postgresql" else "sqlite"
    want = live_applied(FIXTURES / "behind" / side / log)
    assert len(want) >= 3 and tomllib.loads(out)["mark_applied"] == want


@pytest.mark.parametrize("dump", ["pg/before.sql", "pg/before.dump", "sqlite/before.sql"])
def test_applied_from_a_backup_behind_refuses_the_create_model_by_name(dump):
    code, out, err = helper(BEHIND_EXTRAS, "--applied-from", str(FIXTURES / "behind" / dump))
    assert code == 2 and out == "" and "extras.0001_initial: CreateModel cannot be expressed" in err, err
