"""The migrations a dump has applied: its ``django_migrations`` rows, as
``dumpsed inspect --json`` reads them (no database), and Django's own
migration plan from them to the targets, as ``manage.py migrate`` would
make it.

The rows are read by dumpsed itself, not by a second parser here: it reads
every container the rewrite reads (plain pg_dump with COPY, --inserts or
--column-inserts; custom, directory and tar archives with their compressed
blocks; sqlite3 .dump; gzip/zstd/lz4 files) with the same decoding of COPY
escapes and string literals, and reports a bad dump naming its line or TOC
entry and byte offset."""
import json
import os
import shutil
import subprocess


class DumpError(Exception):
    pass


def dumpsed_command(given=None):
    """The dumpsed binary: --dumpsed, else $DUMPSED, else `dumpsed` on PATH."""
    exe = given or os.environ.get("DUMPSED") or shutil.which("dumpsed")
    if not exe:
        raise DumpError("dumpsed not found: put it on PATH, or give --dumpsed PATH (or $DUMPSED)")
    return exe


def applied_from_dump(path, dumpsed=None):
    """The (app, name) rows of the dump's ``django_migrations``, from
    ``dumpsed inspect --json`` (every container dumpsed reads)."""
    exe = dumpsed_command(dumpsed)
    try:
        p = subprocess.run([exe, "inspect", "--json", str(path)], capture_output=True)
    except OSError as e:
        raise DumpError(f"cannot run {exe}: {e}")
    err = p.stderr.decode("utf-8", errors="replace").strip()
    if p.returncode != 0:
        raise DumpError(f"{path}: dumpsed inspect failed (exit {p.returncode}): {err}")
    try:
        rows = json.loads(p.stdout).get("django_migrations", ())
    except (ValueError, AttributeError) as e:
        raise DumpError(f"{path}: {exe} inspect --json did not print JSON ({e})")
    if rows == ():
        raise DumpError(f"{path}: {exe} inspect --json has no django_migrations key: a dumpsed too old for --applied-from")
    if rows is None:
        raise DumpError(f"{path}: no django_migrations table in this dump (not a Django database's dump?)")
    out = set()
    for r in rows:
        if r.get("app") is None or r.get("name") is None:
            raise DumpError(f"{path}: a django_migrations row with a NULL app or name: {r}")
        out.add((r["app"], r["name"]))
    return out


def dump_loader(applied):
    """Django's ``MigrationLoader`` with `applied` as the applied migrations
    (squashed migrations resolved as against a database with these rows)."""
    import django.db.migrations.loader as loader_mod
    from django.db.migrations.loader import MigrationLoader

    class DumpRecorder:
        def __init__(self, connection):
            pass

        def applied_migrations(self):
            return {k: None for k in applied}

    class DumpMigrationLoader(MigrationLoader):
        def build_graph(self):
            # build_graph reads the applied migrations from a recorder on its
            # connection: give it one that answers from the dump's rows.
            real, loader_mod.MigrationRecorder = loader_mod.MigrationRecorder, DumpRecorder
            self.connection = "dump"
            try:
                super().build_graph()
            finally:
                loader_mod.MigrationRecorder = real
                self.connection = None

        def check_consistent_history(self, connection):
            real, loader_mod.MigrationRecorder = loader_mod.MigrationRecorder, DumpRecorder
            try:
                super().check_consistent_history(connection)
            finally:
                loader_mod.MigrationRecorder = real

    return DumpMigrationLoader(None, ignore_no_migrations=True)


def plan_from(loader, groups):
    """What ``manage.py migrate`` applies, run once per group of targets
    (``migrate APP`` or ``migrate APP MIGRATION`` for each target given, in
    that order; ``migrate`` for all leaves): [(app, name)] in the order it
    applies them; DumpError if a run would unapply one."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.exceptions import InconsistentMigrationHistory

    try:
        loader.check_consistent_history(None)
    except InconsistentMigrationHistory as e:
        raise DumpError(f"the dump's migration history is inconsistent: {e}")
    executor = MigrationExecutor.__new__(MigrationExecutor)
    executor.loader = loader
    full = executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True)
    keys = []
    for targets in groups:
        plan = executor.migration_plan(targets)
        for migration, backwards in plan:
            if backwards:
                raise DumpError(
                    f"reaching the targets would unapply {migration.app_label}.{migration.name}: "
                    "dumpsed rules only go forwards"
                )
        # migrate applies the plan's migrations in the order of its full plan
        # (MigrationExecutor.migrate: _migrate_all_forwards walks
        # migration_plan(leaf_nodes(), clean_start=True) and runs those in
        # the plan), not in the plan's own depth-first order: `migrate
        # library 0003_volume` applies circulation 0002 before library 0002.
        to_run = {(m.app_label, m.name) for m, _ in plan}
        run = [(m.app_label, m.name) for m, _ in full if (m.app_label, m.name) in to_run]
        keys += run
        # the next run sees these applied, as the next `migrate` would
        loader.applied_migrations.update({k: loader.graph.nodes[k] for k in run})
    return keys
