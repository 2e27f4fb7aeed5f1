"""Print dumpsed rules (TOML) for the operations of Django migrations.

    dumpsed-django [--project DIR] [--settings MODULE] APP.MIGRATION [...] > rules.toml

(installed with ``pip install DUMPSED/python`` into the project's virtualenv;
without installing: ``PYTHONPATH=DUMPSED/python python -m dumpsed_django``).

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
* any other operation is judged by what it does to the database, not by its
  class: it is run against a schema editor that only collects SQL (as
  ``sqlmigrate`` does; nothing connects). One that emits none
  (``AlterModelOptions``, ``AlterModelManagers``, ``SeparateDatabaseAndState``
  with state operations only, ``RunSQL.noop``, a project's own state-only
  ``Operation``) needs no rule -> a comment; one that emits SQL (``RunSQL``,
  ``AddField``, ...) -> an error naming it, exit 2, nothing printed.

What ``post_migrate`` adds besides (``create_permissions``) follows the
models' options in the state after the migrations: for each model renamed in
the run or whose permissions a state-only operation changed, a
``[[django_permissions]]`` with the ``(codename, name)`` pairs Django adds
(``Meta.default_permissions``, ``Meta.permissions``, ``verbose_name``), when
they differ from the four defaults dumpsed derives for a renamed model. An
operation that adds a model without SQL (a proxy or unmanaged
``CreateModel``: ``post_migrate`` adds a content type for it) is refused.

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
        # (app, model_name) now -> (app, model_name) when first touched, of
        # the models a RenameModel or a state-only operation touched
        self.origins = {}
        self.first_codenames = {}  # origin -> permission codenames then
        self.renamed_models = {}  # origins renamed in the run, in rule order (a dict: ordered)
        self.perm_changed = set()  # origins whose permissions changed
        # (line index of a django_model, its new app.Model) for permissions
        self.django_models = []
        # input table -> {current column: its name in the dump}
        self.columns = {}
        # input table -> (its columns, by their names in the dump, in the
        # order of Django's last SQLite rebuild of it in the run, where)
        self.rebuilds = {}

    def origin_of(self, key):
        return self.origins.get(key, key)

    def touch_model(self, key, apps):
        """Notes the model `key` (as named in `apps`) before a change."""
        if key not in self.origins:
            self.origins[key] = key
            self.first_codenames[key] = codenames(apps.get_model(*key))

    def model_renamed(self, old_key, new_key, apps):
        self.touch_model(old_key, apps)
        origin = self.origins.pop(old_key)
        self.origins[new_key] = origin
        self.renamed_models.setdefault(origin, None)

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

    def column_renamed(self, table, old, new):
        """Notes that Django renamed column `old` of `table` (current names) to `new`."""
        cols = self.columns.setdefault(self.input_name(table), {})
        cols[new] = cols.pop(old, old)

    def input_column(self, table, column):
        """The name column `column` of `table` (current names) has in the dump."""
        return self.columns.get(self.input_name(table), {}).get(column, column)

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
        self.column_renamed(table, old, new)

    def rebuild_rules(self):
        """``[[django_rebuild]]`` for every table Django's SQLite schema editor
        rebuilt in the run: its columns in the order of the last rebuild."""
        lines = []
        for table in sorted(self.rebuilds):
            columns, where = self.rebuilds[table]
            lines += [
                f"# SQLite rebuilds {table} (the last time at {where}): its columns in the migration state's order then",
                "[[django_rebuild]]",
                "table = " + toml_str(table),
                "columns = [" + ", ".join(toml_str(c) for c in columns) + "]",
                "",
            ]
        return lines


def m2m_changes(from_apps, to_apps, old_label_of):
    """The auto-created M2M fields of every concrete model of the new state,
    with the same field in the old state: yields (old_field, new_field)."""
    # sorted: the state registry's order varies with the hash seed
    for new_model in sorted(concrete_models(to_apps), key=lambda m: m._meta.label_lower):
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
    dump (src/decide/reader.rs django_table): a table named ``<old_table>_...`` with a
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
        out.model_renamed((app, op.old_name_lower), (app, op.new_name_lower), from_apps)
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
                out.column_renamed(ott, *derived[1])
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
            out.column_renamed(table, old_f.column, new_f.column)
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

    # Any other operation: by what it does to the database.
    try:
        sql = collected_sql(op, app, from_state, to_state, schema_editor.connection)
    except Exception as e:  # it wanted a connection, or the state is not one Django can run
        raise Untranslatable(
            f"{where} cannot be expressed as a dumpsed rule (run without a database it fails: "
            f"{type(e).__name__}: {first_line(e)})"
        )
    if sql:
        raise Untranslatable(
            f"{where} cannot be expressed as a dumpsed rule: it runs SQL ({len(sql)} statement(s), "
            f"the first: {sql[0].splitlines()[0][:200]})"
        )
    added = sorted(set(to_state.models) - set(from_state.models))
    if added:
        # A proxy or unmanaged model: no table, but post_migrate adds a
        # content type and permissions for it (contenttypes and auth
        # management create_contenttypes / create_permissions).
        raise Untranslatable(
            f"{where} adds model(s) {', '.join(a + '.' + m for a, m in added)} without SQL: post_migrate "
            "would add a content type and permissions for them, which dumpsed rules cannot express"
        )
    for key in sorted(set(to_state.models) & set(from_state.models)):
        old_m, new_m = from_apps.get_model(*key), to_apps.get_model(*key)
        if codenames(old_m) != codenames(new_m):
            out.touch_model(key, from_apps)
            out.perm_changed.add(out.origin_of(key))
    out.comment(f"{where}: no SQL ({op.describe()})")
    out.lines.append("")


def note_rebuilds(app, mig, op, from_state, to_state, out, connection):
    """On SQLite: the tables `op` rebuilds (``_remake_table`` creates
    ``new__<table>``, sqlite3/schema.py), found in the SQL Django's own schema
    editor collects for it, with their columns in the order that rebuild
    writes: the model's fields in the state after `op` (``_remake_table``
    takes the fields of the model rendered from the state, and
    ``RenameField`` moves the renamed field last in the state)."""
    import re

    if connection.vendor != "sqlite":
        return
    try:
        sql = collected_sql(op, app, from_state, to_state, connection)
    except Exception as e:
        raise Untranslatable(
            f"{app}.{mig.name}: {op.describe()}: cannot tell which tables Django rebuilds on SQLite "
            f"(run without a database it fails: {type(e).__name__}: {first_line(e)})"
        )
    for stmt in sql:
        m = re.match(r'CREATE TABLE "new__(.+?)" \(', stmt)
        if not m:
            continue
        table = m.group(1)
        models = [
            mdl
            for mdl in to_state.apps.get_models(include_auto_created=True)
            if mdl._meta.db_table == table
        ]
        if len(models) != 1:
            raise Untranslatable(
                f"{app}.{mig.name}: {op.describe()}: Django rebuilds table {table} on SQLite, "
                "which is not the table of one model of the state"
            )
        columns = [f.column for f in models[0]._meta.local_concrete_fields if f.column]
        out.rebuilds[out.input_name(table)] = (
            [out.input_column(table, c) for c in columns],
            f"{app}.{mig.name} {type(op).__name__}",
        )


def first_line(e):
    return str(e).splitlines()[0] if str(e) else ""


def collected_sql(op, app, from_state, to_state, connection):
    """The SQL `op` runs forwards, as ``sqlmigrate`` collects it: a schema
    editor with ``collect_sql`` (nothing executed, no connection), its
    deferred statements included (``BaseDatabaseSchemaEditor.__exit__``)."""
    editor = connection.SchemaEditorClass(connection, collect_sql=True, atomic=False)
    editor.deferred_sql = []

    def record(sql, params=()):
        # Only whether it runs SQL matters. PostgreSQL's execute composes
        # the parameters with a live cursor (compose_sql), so record them
        # instead of composing them.
        editor.collected_sql.append(str(sql) + (f"  -- params {params!r}" if params else ""))

    editor.execute = record
    op.database_forwards(app, editor, from_state.clone(), to_state.clone())
    return [str(s) for s in editor.collected_sql] + [str(s) for s in editor.deferred_sql]


def permissions_of(model):
    """The (codename, name) pairs ``create_permissions`` (post_migrate) adds
    for `model` where missing: none without ``django.contrib.auth``."""
    from django.apps import apps

    if not apps.is_installed("django.contrib.auth"):
        return []
    from django.contrib.auth.management import _get_all_permissions

    return [(c, n) for c, n in _get_all_permissions(model._meta)]


def codenames(model):
    return {c for c, _ in permissions_of(model)}


def dumpsed_default_permissions(model):
    """What a ``[[django_model]]`` adds by itself for the renamed `model`
    (src/decide/django.rs ``appendix``): Django's four defaults, named from the class
    name (``camel_case_to_spaces``, the default ``verbose_name``)."""
    from django.utils.text import camel_case_to_spaces

    name = camel_case_to_spaces(model._meta.object_name)
    return [(f"{a}_{model._meta.model_name}", f"Can {a} {name}") for a in ("add", "change", "delete", "view")]


def permission_rules(out, final_apps):
    """``[[django_permissions]]`` for the models the run renamed or whose
    permissions a state-only operation changed, as post_migrate's
    ``create_permissions`` adds them with the state after the run; none when
    dumpsed's defaults already give that. Listed in the order Django adds them
    (app configs in ``INSTALLED_APPS`` order, each app's models in its state
    registry's order), so the ids the sequence gives are the same."""
    from django.apps import apps as global_apps

    final_of = {origin: now for now, origin in out.origins.items()}
    entries, needed = {}, False
    for origin in out.renamed_models.keys() | out.perm_changed:
        key = final_of[origin]
        model = final_apps.get_model(*key)
        perms = permissions_of(model)
        if origin in out.renamed_models:
            needed |= perms != dumpsed_default_permissions(model)
        elif {c for c, _ in perms} <= out.first_codenames[origin]:
            continue  # post_migrate finds them all there
        else:
            needed = True
        entries[key] = (model, perms)
    # dumpsed adds the defaults in the order of its [[django_model]] rules;
    # post_migrate in its own order: listed when they differ (two renames
    # in apps or models the other way round), or the ids differ.
    post_migrate_order = [
        (config.label, model._meta.model_name)
        for config in global_apps.get_app_configs()
        if config.label in final_apps.app_configs
        for model in final_apps.get_app_config(config.label).get_models()
    ]
    renamed = [final_of[o] for o in out.renamed_models]
    needed |= renamed != [k for k in post_migrate_order if k in renamed]
    if not needed:
        return []
    lines = []
    for config in global_apps.get_app_configs():
        if config.label not in final_apps.app_configs:
            continue
        for model in final_apps.get_app_config(config.label).get_models():
            key = (config.label, model._meta.model_name)
            if key not in entries:
                continue
            _, perms = entries.pop(key)
            lines += [
                f"# post_migrate adds these for {model._meta.label} where missing "
                "(Meta.default_permissions, Meta.permissions)",
                "[[django_permissions]]",
                "model = " + toml_str(model._meta.label),
                "permissions = [",
                *[f"    [{toml_str(c)}, {toml_str(n)}]," for c, n in perms],
                "]",
                "",
            ]
    return lines


def translate(loader, keys, connection):
    """The rules for migrations `keys` ((app, name), in the order Django
    applies them) as an Emitter; Untranslatable names the first operation
    that cannot be expressed."""
    from django.db import migrations

    schema_editor = connection.SchemaEditorClass(connection, collect_sql=True)
    out = Emitter()
    # One state carried through the run, as migrate's executor carries it
    # (django/db/migrations/executor.py, migrate): it starts with every
    # migration the keys depend on applied, and each key's operations then
    # change it in turn. A state made afresh per migration would lack an
    # earlier key that is not its ancestor (another app's RenameField), and
    # the field order of a later SQLite rebuild would be wrong.
    state = loader.project_state(list(keys), at_end=False) if keys else None
    for app, name in keys:
        mig = loader.graph.nodes[(app, name)]
        out.comment(f"--- {app}.{name}")
        out.lines.append("")
        for op in mig.operations:
            to_state = state.clone()
            try:
                # Inside: with the state's models rendered (carried from the
                # operation before), Django's own failure surfaces here.
                op.state_forwards(app, to_state)
                translate_operation(app, mig, op, state, to_state, out, schema_editor)
                if isinstance(op, (migrations.RenameModel, migrations.RenameField, migrations.AlterModelTable)):
                    note_rebuilds(app, mig, op, state, to_state, out, connection)
            except Untranslatable:
                raise
            except Exception as e:  # Django's own state rendering fails
                raise Untranslatable(
                    f"{app}.{name}: {op.describe()}: Django itself cannot apply it "
                    f"({type(e).__name__}: {first_line(e)})"
                )
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

    out.lines += [""] + out.rebuild_rules()
    out.lines += [""] + permission_rules(out, loader.project_state(keys, at_end=True).apps)
    return out


def main(argv=None):
    prog = os.path.basename(sys.argv[0]) if not sys.argv[0].endswith("__main__.py") else "python -m dumpsed_django"
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument(
        "migrations",
        nargs="*",
        metavar="APP.MIGRATION",
        help="the migrations to translate; with --applied-from, the targets (APP, APP.MIGRATION), each "
        "planned as one `manage.py migrate APP [MIGRATION]` run, in the order given (default: one "
        "`manage.py migrate`, every app's leaf)",
    )
    p.add_argument(
        "--applied-from",
        metavar="DUMP",
        help="a dump (any form dumpsed reads: plain pg_dump, custom/directory/tar archive, sqlite3 "
        ".dump, compressed; - for stdin): translate every migration its django_migrations rows lack, "
        "up to the targets, in the order `migrate` applies them. Read with `dumpsed inspect --json`",
    )
    p.add_argument(
        "--dumpsed",
        metavar="PATH",
        help="the dumpsed binary for --applied-from (default: $DUMPSED, else dumpsed on PATH)",
    )
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

    if args.applied_from:
        from .applied import DumpError, applied_from_dump, dump_loader, plan_from

        try:
            loader = dump_loader(applied_from_dump(args.applied_from, args.dumpsed))
        except (DumpError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    else:
        if not args.migrations:
            p.error("give APP.MIGRATION (one or more), or --applied-from DUMP")
        loader = MigrationLoader(None, ignore_no_migrations=True)
    keys, groups = [], []
    for spec in args.migrations:
        app, _, prefix = spec.partition(".")
        if not app or not (prefix or args.applied_from):
            p.error(f"{spec!r}: expected APP.MIGRATION")
        if app not in loader.migrated_apps:
            print(f"error: {spec}: app {app!r} has no migrations in this project", file=sys.stderr)
            return 2
        if not prefix:  # `migrate APP`: the app's leaf
            groups.append([k for k in loader.graph.leaf_nodes() if k[0] == app])
            keys += groups[-1]
            continue
        try:
            mig = loader.get_migration_by_prefix(app, prefix)
        except (KeyError, Exception) as e:  # AmbiguityError, KeyError
            print(f"error: {spec}: {e}", file=sys.stderr)
            return 2
        keys.append((mig.app_label, mig.name))
        groups.append(keys[-1:])
    if args.applied_from:
        # What `migrate` would apply to the dump's database: its plan from
        # the dump's rows to the targets (every leaf by default).
        try:
            # one `migrate` per target given, in order; without: `migrate`
            keys = plan_from(loader, groups or [loader.graph.leaf_nodes()])
        except DumpError as e:
            print(f"error: {args.applied_from}: {e}", file=sys.stderr)
            return 2
        if not keys:
            print(f"note: {args.applied_from}: nothing to apply", file=sys.stderr)
    else:
        # The order Django applies them in: its plan for these targets, taken
        # in the order given (as MigrationExecutor.migration_plan does).
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
    try:
        out = translate(loader, keys, connection)
    except Untranslatable as e:
        print(f"error: {e}; nothing printed", file=sys.stderr)
        return 2

    head = [
        "# dumpsed rules generated by dumpsed-django from: " + " ".join(f"{a}.{n}" for a, n in keys),
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

