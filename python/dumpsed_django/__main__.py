"""Print dumpsed rules (TOML) for the operations of Django migrations.

    PYTHONPATH=DUMPSED/python python -m dumpsed_django \
        [--project DIR] [--settings MODULE] APP.MIGRATION [APP.MIGRATION ...] > rules.toml

Loads the migrations with Django's own ``MigrationLoader`` (no database
connection) and the project state before each operation, so table and column
names are Django's (``Meta.db_table``, ``db_column``, ``ForeignKey`` ``_id``
columns, auto-created many-to-many tables), not guessed.

Operations and what they become:

* ``RenameModel``    -> ``[[django_model]]`` (with ``db_table`` when the model
  sets ``Meta.db_table``), plus ``[[rename_table]]`` / ``[[rename_column]]``
  for the many-to-many tables Django renames that ``django_model`` does not
  derive itself (self-referential M2M, M2M declared on another model);
* ``RenameField``    -> ``[[rename_column]]`` with the real column names (none
  when the column does not change, e.g. ``db_column`` set); of a foreign key,
  ``[[django_field]]`` (the column, and the constraint Django re-creates);
* ``AlterModelTable`` -> ``[[rename_table]]`` (and its M2M tables);
* ``AlterField`` that Django's schema editor would skip (only ``related_name``,
  ``help_text``, choices, ...) -> a comment;
* ``RunPython``      -> cannot be translated: a commented ``[[rewrite]]`` stub,
  and a note on stderr;
* anything else (``RunSQL``, ``AddField``, ...) -> an error naming it, exit 2,
  nothing printed.

Every migration given is listed in ``mark_applied``. Migrations are taken in
the order Django applies them; a name may be a unique prefix (``app.0002``).
"""
import argparse
import os
import sys


class Untranslatable(Exception):
    pass


def toml_str(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def concrete_models(apps):
    for m in apps.get_models(include_auto_created=False):
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped:
            yield m


class Emitter:
    def __init__(self):
        self.lines = []  # rules, in order
        self.notes = []  # for stderr
        self.tables = {}  # input name -> current name, of every table renamed so far
        # (index in lines, tables as of that RenameModel step) for names_at_step
        self.steps = []
        # input name -> how the rule that renames it is changed when a later
        # operation renames it again (dumpsed takes one rename per table)
        self.later = {}
        # current table name -> the RenameField of a foreign key on it
        self.fk_renames = {}

    def refuse_table_rename_after_fk_rename(self, where, table, new_table):
        """A foreign key's RenameField re-creates its constraint under a name
        from the table's name at that step; dumpsed's [[django_field]] knows
        only the table's final name, so a later rename of that table would
        give a silently wrong constraint (PostgreSQL) or index (SQLite) name."""
        why = self.fk_renames.get(table)
        if why is not None and table != new_table:
            raise Untranslatable(
                f"{where} renames table {table} after {why} in the same run: dumpsed would name the "
                "re-created foreign key from the final table name, Django from the name at that step; "
                "not supported: rewrite the dump once per migration, or convert it with pg_restore/sqlite3 "
                "and migrate live"
            )

    def input_name(self, table):
        """The name `table` (as named in the state now) has in the dump: rules
        name tables by their input names."""
        for old, new in self.tables.items():
            if new == table:
                return old
        return table

    def renamed(self, old, new):
        """Notes that Django renamed `old` (current name) to `new`."""
        self.tables[self.input_name(old)] = new

    def comment(self, text):
        for line in text.splitlines():
            self.lines.append(("# " + line).rstrip())

    def rename_table(self, old, new, why):
        if old == new:
            return
        inp = self.input_name(old)
        again = self.later.get(inp)
        if again:
            # Renamed earlier in the run: that rule gets the final name (the
            # names then are in the earlier step's names_at_step).
            self.comment(why + ": folded into the rule that renamed it first")
            self.lines.append("")
            again(new)
            self.renamed(old, new)
            return
        self.comment(why)
        self.lines += ["[[rename_table]]", "old = " + toml_str(inp), "new = " + toml_str(new), ""]
        at = len(self.lines) - 2

        def fold(final, at=at):
            self.lines[at] = "new = " + toml_str(final)

        self.later[inp] = fold
        self.renamed(old, new)

    def rename_column(self, table, old, new, why):
        if old == new:
            return
        self.comment(why)
        self.lines += [
            "[[rename_column]]",
            "column = " + toml_str(self.input_name(table) + "." + old),
            "new = " + toml_str(new),
            "",
        ]


def m2m_changes(from_apps, to_apps, old_label_of):
    """The auto-created M2M fields of every concrete model of the new state,
    with the same field in the old state: yields (old_field, new_field)."""
    for new_model in concrete_models(to_apps):
        old_label = old_label_of(new_model._meta.label_lower)
        try:
            old_model = from_apps.get_model(old_label)
        except LookupError:
            continue
        for new_f in new_model._meta.local_many_to_many:
            through = new_f.remote_field.through
            if not through._meta.auto_created:
                continue
            try:
                old_f = old_model._meta.get_field(new_f.name)
            except Exception:
                continue
            yield old_f, new_f


def django_m2m_derivation(d_old_table, d_new_table, old_model_name, new_model_name, table, col):
    """What dumpsed's ``[[django_model]]`` derives by itself for a table of the
    dump (src/reader.rs django_table): a table named ``<old_table>_...`` with a
    ``<oldmodel>_id`` column is renamed to ``<new_table>_...`` and that column to
    ``<newmodel>_id``."""
    if d_old_table == d_new_table:
        return None  # a kept Meta.db_table: dumpsed derives nothing
    prefix = d_old_table + "_"
    if table.lower().startswith(prefix.lower()) and len(table) > len(prefix):
        return d_new_table + table[len(d_old_table):], (
            old_model_name.lower() + "_id",
            new_model_name.lower() + "_id",
        )
    return None


def translate_operation(app, mig, op, from_state, to_state, out, schema_editor):
    from django.db import migrations

    name = type(op).__name__
    where = f"{app}.{mig.name}: {name}"
    from_apps, to_apps = from_state.apps, to_state.apps

    if isinstance(op, migrations.RenameModel):
        old_model = from_apps.get_model(app, op.old_name)
        new_model = to_apps.get_model(app, op.new_name)
        ot, nt = old_model._meta.db_table, new_model._meta.db_table
        out.refuse_table_rename_after_fk_rename(where, ot, nt)
        out.comment(f"{where} {op.old_name} -> {op.new_name} (table {ot} -> {nt})")
        out.lines += [
            "[[django_model]]",
            "model = " + toml_str(f"{app}.{op.old_name}"),
            "new = " + toml_str(op.new_name),
        ]
        default = (f"{app}_{op.old_name.lower()}", f"{app}_{op.new_name.lower()}")
        if (ot, nt) != default:
            out.lines.append("db_table = " + toml_str(f"{ot}={nt}"))
        step_at = len(out.lines)  # names_at_step goes here, once the later steps are known
        out.lines.append("")
        ot_in = out.input_name(ot)  # what the dump (and django_model) calls it
        if ot != nt:
            out.renamed(ot, nt)
            # An AlterModelTable later in the run: the model's table is
            # renamed once, to the final name (db_table), with the name then in
            # names_at_step; its M2M tables that django_model derives follow.
            db_at = step_at - 1 if (ot, nt) != default else None
            new_at = step_at - 1 if db_at is None else step_at - 2

            def fold(final, ot_in=ot_in, db_at=db_at, new_at=new_at):
                line = "db_table = " + toml_str(f"{ot_in}={final}")
                if db_at is None:
                    # one element holding two lines keeps the indexes of later lines
                    out.lines[new_at] = out.lines[new_at].split("\n")[0] + "\n" + line
                else:
                    out.lines[db_at] = line

            out.later[ot_in] = fold
        old_label = old_model._meta.label_lower
        new_label = new_model._meta.label_lower
        mapping = lambda label: old_label if label == new_label else label
        for old_f, new_f in m2m_changes(from_apps, to_apps, mapping):
            ott = old_f.remote_field.through._meta.db_table
            ntt = new_f.remote_field.through._meta.db_table
            cols = [
                (old_f.m2m_column_name(), new_f.m2m_column_name()),
                (old_f.m2m_reverse_name(), new_f.m2m_reverse_name()),
            ]
            changed = [(a, b) for a, b in cols if a != b]
            if ott == ntt and not changed:
                continue
            derived = django_m2m_derivation(ot_in, nt, op.old_name, op.new_name, out.input_name(ott), None)
            if derived and derived[0] == ntt and changed == [derived[1]]:
                out.comment(f"  M2M table {ott} -> {ntt}, {derived[1][0]} -> {derived[1][1]}: derived by django_model")
                out.lines.append("")
                # a later rename of the model's table renames it too
                out.later[out.input_name(ott)] = lambda final: None
                out.renamed(ott, ntt)
                continue
            why = f"  M2M {new_f.model._meta.label}.{new_f.name}: Django renames its table/columns too"
            out.rename_table(ott, ntt, why)
            for a, b in changed:
                out.rename_column(ott, a, b, f"  M2M {ott}: column {a} -> {b}")
        out.steps.append((step_at, dict(out.tables)))
        return

    if isinstance(op, migrations.RenameField):
        old_model = from_apps.get_model(app, op.model_name)
        new_model = to_apps.get_model(app, op.model_name)
        old_f = old_model._meta.get_field(op.old_name)
        new_f = new_model._meta.get_field(op.new_name)
        table = old_model._meta.db_table
        if old_f.many_to_many:
            ott = old_f.remote_field.through._meta.db_table
            ntt = new_f.remote_field.through._meta.db_table
            if old_f.remote_field.through._meta.auto_created:
                out.rename_table(ott, ntt, f"{where} {op.model_name}.{op.old_name} -> {op.new_name} (M2M table)")
            else:
                out.comment(f"{where} {op.model_name}.{op.old_name} -> {op.new_name}: M2M with a through model, no SQL")
            return
        if old_f.column == new_f.column:
            out.comment(f"{where} {op.model_name}.{op.old_name} -> {op.new_name}: column {old_f.column} unchanged, no SQL")
            return
        why = f"{where} {op.model_name}.{op.old_name} -> {op.new_name}"
        if old_f.remote_field and old_f.db_constraint:
            # Django drops the foreign key and re-creates it under the name
            # _fk_constraint_name gives the new column: [[django_field]].
            out.comment(why + " (a foreign key: its constraint is re-created)")
            out.fk_renames[table] = why
            out.lines += [
                "[[django_field]]",
                "field = " + toml_str(f"{app}.{old_model._meta.object_name}.{old_f.column}"),
                # the table as the dump names it (it may be renamed in this run)
                "new = " + toml_str(new_f.column),
            ]
            if out.input_name(table) != f"{app}_{old_model._meta.model_name}":
                out.lines.append("table = " + toml_str(out.input_name(table)))
            out.lines.append("")
            return
        out.rename_column(table, old_f.column, new_f.column, why)
        return

    if isinstance(op, migrations.AlterModelTable):
        old_model = from_apps.get_model(app, op.name)
        new_model = to_apps.get_model(app, op.name)
        out.refuse_table_rename_after_fk_rename(where, old_model._meta.db_table, new_model._meta.db_table)
        out.rename_table(
            old_model._meta.db_table,
            new_model._meta.db_table,
            f"{where} {op.name}: table {old_model._meta.db_table} -> {new_model._meta.db_table}",
        )
        for old_f, new_f in zip(old_model._meta.local_many_to_many, new_model._meta.local_many_to_many):
            if new_f.remote_field.through._meta.auto_created:
                out.rename_table(
                    old_f.remote_field.through._meta.db_table,
                    new_f.remote_field.through._meta.db_table,
                    f"  M2M {op.name}.{new_f.name}: table follows the model's",
                )
        return

    if isinstance(op, migrations.AlterField):
        old_f = from_apps.get_model(app, op.model_name)._meta.get_field(op.name)
        new_f = to_apps.get_model(app, op.model_name)._meta.get_field(op.name)
        if not schema_editor._field_should_be_altered(old_f, new_f):
            out.comment(f"{where} {op.model_name}.{op.name}: no SQL (only attributes Django keeps out of the schema)")
            out.lines.append("")
            return
        raise Untranslatable(f"{where} {op.model_name}.{op.name} changes the column's definition")

    if isinstance(op, migrations.RunPython):
        code = getattr(op.code, "__qualname__", repr(op.code))
        out.comment(
            f"{where} {code}: Python code, which dumpsed cannot translate.\n"
            "If it rewrites values by prefix (startswith + replace), fill in and uncomment:\n"
            "[[rewrite]]\n"
            'column = "TABLE.COLUMN"\n'
            'from = "OLD-PREFIX"\n'
            'to = "NEW-PREFIX"\n'
            "django_like = true  # selected with __startswith (LIKE: ignores ASCII case on SQLite)"
        )
        out.lines.append("")
        out.notes.append(f"{where} ({code}) cannot be translated: a commented [[rewrite]] stub is printed, fill it in")
        return

    if isinstance(op, migrations.SeparateDatabaseAndState):
        raise Untranslatable(f"{where}: its database operations cannot be expressed as dumpsed rules")
    raise Untranslatable(f"{where} cannot be expressed as a dumpsed rule")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m dumpsed_django", description=__doc__.split("\n\n")[0])
    p.add_argument("migrations", nargs="+", metavar="APP.MIGRATION")
    p.add_argument("--project", help="directory put first on sys.path (where manage.py is)")
    p.add_argument("--settings", help="settings module (default: $DJANGO_SETTINGS_MODULE)")
    p.add_argument(
        "--database",
        default="default",
        help="alias of the database the dump is of (default: default); names depend on its "
        "backend (PostgreSQL cuts names at 63 characters, SQLite does not). Never connected to.",
    )
    args = p.parse_args(argv)

    if args.project:
        sys.path.insert(0, os.path.abspath(args.project))
    if args.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        p.error("no settings: give --settings or set DJANGO_SETTINGS_MODULE")

    import django

    django.setup()
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    keys = []
    for spec in args.migrations:
        app, _, prefix = spec.partition(".")
        if not app or not prefix:
            p.error(f"{spec!r}: expected APP.MIGRATION")
        if app not in loader.migrated_apps:
            print(f"error: {spec}: app {app!r} has no migrations in this project", file=sys.stderr)
            return 2
        try:
            mig = loader.get_migration_by_prefix(app, prefix)
        except (KeyError, Exception) as e:  # AmbiguityError, KeyError
            print(f"error: {spec}: {e}", file=sys.stderr)
            return 2
        keys.append((mig.app_label, mig.name))
    # The order Django applies them in: its plan for these targets, taken in
    # the order given (as MigrationExecutor.migration_plan does).
    order = {}
    for k in keys:
        for n in loader.graph.forwards_plan(k):
            order.setdefault(n, len(order))
    keys = sorted(dict.fromkeys(keys), key=lambda k: order[k])

    if args.database not in connections.settings:
        p.error(f"no database {args.database!r} in the settings")
    connection = connections[args.database]
    # Auto-created M2M table names are cut with truncate_name to the backend of
    # the *default* connection when the model is rendered (ManyToManyField
    # _get_m2m_db_table imports django.db.connection): make that the target.
    if args.database != "default":
        import django.db.models.fields.related as related_mod
        import django.db.models.options as options_mod

        import django.db as djdb

        related_mod.connection = options_mod.connection = djdb.connection = connection
    schema_editor = connection.SchemaEditorClass(connection, collect_sql=True)
    out = Emitter()
    for app, name in keys:
        mig = loader.graph.nodes[(app, name)]
        state = loader.project_state((app, name), at_end=False)
        out.comment(f"--- {app}.{name}")
        out.lines.append("")
        for op in mig.operations:
            to_state = state.clone()
            op.state_forwards(app, to_state)
            try:
                translate_operation(app, mig, op, state, to_state, out, schema_editor)
            except Untranslatable as e:
                print(f"error: {e}; nothing printed", file=sys.stderr)
                return 2
            except Exception as e:  # Django's own state rendering fails
                print(
                    f"error: {app}.{name}: {op.describe()}: Django itself cannot apply it "
                    f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); nothing printed",
                    file=sys.stderr,
                )
                return 2
            state = to_state

    # A RenameModel re-creates foreign keys under names computed from the
    # tables' names at that step; a later operation (AlterModelTable) may
    # rename them again: tell dumpsed the names then.
    for at, then in reversed(out.steps):
        differ = {
            t: then.get(t, t)
            for t in set(then) | set(out.tables)
            if then.get(t, t) != out.tables.get(t, t)
        }
        if differ:
            pairs = ", ".join(f"{toml_str(k)} = {toml_str(v)}" for k, v in sorted(differ.items()))
            out.lines.insert(at, "names_at_step = { " + pairs + " }  # renamed again by a later operation")

    head = [
        "# dumpsed rules generated by `python -m dumpsed_django` from: " + " ".join(f"{a}.{n}" for a, n in keys),
        f"# Django {django.get_version()}, settings {os.environ['DJANGO_SETTINGS_MODULE']}, "
        f"database {args.database!r} ({connection.vendor}): names are that backend's",
        "",
        "mark_applied = [",
        *[f"    {toml_str(a + '.' + n)}," for a, n in keys],
        "]",
        "",
    ]
    sys.stdout.write("\n".join(head + out.lines).rstrip("\n") + "\n")
    for n in out.notes:
        print("note: " + n, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
