"""The migrations a dump has applied: its ``django_migrations`` rows, read
from the dump's text (no database), and Django's own migration plan from
them to the targets, as ``manage.py migrate`` would make it."""
import re


class DumpError(Exception):
    pass


# pg_dump: `COPY public.django_migrations (id, app, name, applied) FROM stdin;`,
# `INSERT INTO public.django_migrations VALUES (...);` (--inserts),
# `INSERT INTO public.django_migrations (id, ...) VALUES` + rows
# (--column-inserts, --rows-per-insert); sqlite3 .dump:
# `INSERT INTO django_migrations VALUES(...);`
TABLE = r'(?:"?[A-Za-z_][A-Za-z0-9_]*"?\.)?"?django_migrations"?'
COPY_RE = re.compile(r"^COPY " + TABLE + r" \(([^)]*)\) FROM stdin;$")
INSERT_RE = re.compile(r"^INSERT INTO " + TABLE + r"\s*(?:\(([^)]*)\))?\s*VALUES\b(.*)$", re.S)
# django/db/migrations/recorder.py: the model's fields, in this order
DEFAULT_COLUMNS = ["id", "app", "name", "applied"]


def copy_unescape(field):
    """A COPY text field (PostgreSQL copyfromparse.c: backslash escapes)."""
    if field == "\\N":
        return None
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            n = field[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def value_tuples(text, where):
    """The tuples of an INSERT's VALUES list: string literals ('' doubled),
    numbers and NULL."""
    tuples, cur, i, depth = [], None, 0, 0
    while i < len(text):
        c = text[i]
        if c == "(" and depth == 0:
            cur, depth, tok = [], 1, ""
        elif depth and c == "'":
            j, s = i + 1, []
            while True:
                k = text.find("'", j)
                if k < 0:
                    raise DumpError(f"{where}: unterminated string in the INSERT")
                s.append(text[j:k])
                if text.startswith("''", k):
                    s.append("'")
                    j = k + 2
                    continue
                i = k
                break
            tok = "".join(s)
            cur.append(tok)
            tok = None
        elif depth and c in ",)":
            if tok:  # a number or NULL
                cur.append(None if tok.strip().upper() == "NULL" else tok.strip())
            tok = ""
            if c == ")":
                tuples.append(cur)
                depth = 0
        elif depth and not c.isspace():
            tok = (tok or "") + c
        i += 1
    if depth:
        raise DumpError(f"{where}: unterminated VALUES tuple")
    return tuples


def applied_from_dump(path):
    """The (app, name) rows of the dump's ``django_migrations``."""
    import sys

    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    if data.startswith(b"PGDMP"):
        raise DumpError(
            f"{path}: a pg_dump archive (custom/tar); give its django_migrations rows as text: "
            f"pg_restore --data-only --table=django_migrations -f - {path} | dumpsed-django --applied-from - ..."
        )
    if data[:2] == b"\x1f\x8b":
        raise DumpError(f"{path}: compressed; give it uncompressed (e.g. zcat {path} | dumpsed-django --applied-from - ...)")
    rows, seen, lines = set(), False, data.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the end of the last line, not a line
    n = 0
    while n < len(lines):
        line = lines[n]
        m = COPY_RE.match(line)
        if m:
            seen, cols = True, [c.strip().strip('"') for c in m.group(1).split(",")]
            start = n + 1
            n += 1
            while n < len(lines) and lines[n] != "\\.":
                fields = [copy_unescape(f) for f in lines[n].split("\t")]
                if len(fields) != len(cols):
                    raise DumpError(f"{path}:{n + 1}: a django_migrations row with {len(fields)} fields, not {len(cols)}")
                r = dict(zip(cols, fields))
                rows.add((r["app"], r["name"]))
                n += 1
            if n == len(lines):
                raise DumpError(f"{path}:{start}: the COPY of django_migrations has no end (\\.)")
        elif line.startswith("INSERT INTO") and "django_migrations" in line.split("VALUES")[0]:
            start = n
            stmt = line
            while not stmt.rstrip().endswith(";") and n + 1 < len(lines):
                n += 1
                stmt += "\n" + lines[n]
            m = INSERT_RE.match(stmt)
            if m:
                seen = True
                cols = [c.strip().strip('"') for c in m.group(1).split(",")] if m.group(1) else DEFAULT_COLUMNS
                for t in value_tuples(m.group(2), f"{path}:{start + 1}"):
                    if len(t) != len(cols):
                        raise DumpError(f"{path}:{start + 1}: a django_migrations row with {len(t)} values, not {len(cols)}")
                    r = dict(zip(cols, t))
                    rows.add((r["app"], r["name"]))
        elif re.match(r"^CREATE TABLE " + TABLE + r" \(", line):
            seen = True
        n += 1
    if not seen:
        raise DumpError(f"{path}: no django_migrations table in this dump (not a Django database's dump?)")
    return rows


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


def plan_from(loader, targets):
    """``migrate``'s plan (MigrationExecutor.migration_plan) to `targets`:
    [(app, name)] in the order it applies them; DumpError if it would
    unapply one."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.exceptions import InconsistentMigrationHistory

    try:
        loader.check_consistent_history(None)
    except InconsistentMigrationHistory as e:
        raise DumpError(f"the dump's migration history is inconsistent: {e}")
    executor = MigrationExecutor.__new__(MigrationExecutor)
    executor.loader = loader
    keys = []
    for migration, backwards in executor.migration_plan(targets):
        if backwards:
            raise DumpError(
                f"reaching the targets would unapply {migration.app_label}.{migration.name}: "
                "dumpsed rules only go forwards"
            )
        keys.append((migration.app_label, migration.name))
    return keys
