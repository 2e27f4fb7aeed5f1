#!/usr/bin/env python3
"""Explains how dumpsed's rename of one table differs from the server's, line by line.

usage: scripts/corpus-explain.py pg-regress|pg-tap SCHEMA TABLE [DUMPSED]
  (PGHOST/PGPORT/PGUSER: a PostgreSQL 15 superuser; DUMPSED defaults to
  target/release/dumpsed)

Restores the corpus fixture twice (C: as is, A: then ALTER TABLE ... RENAME TO
TABLE_renamed), dumps both, and runs dumpsed on the fixture.  Then, as multisets of
lines (so pg_dump's own round-trip artefacts cancel out):
  what the server changed  = dump(A) - dump(C)  vs  dump(C) - dump(A)
  what dumpsed changed     = offline - fixture  vs  fixture - offline
and prints the lines dumpsed wrote that the server did not ("spurious") and the
ones the server wrote that dumpsed did not ("missed").  A diagnostic for the
renamer's author; tests/corpus.rs is the test.
"""
import collections
import gzip
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = {'pg-regress': 'fixtures/pg-regress/regression.sql.gz', 'pg-tap': 'fixtures/pg-tap/dump.sql'}


def lines(text):
    return collections.Counter(l for l in text.splitlines()
                               if not l.startswith(('\\restrict ', '\\unrestrict ')))


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def quote(s):
    return '"' + s.replace('"', '""') + '"'


def restored_dump(corpus, plain, tag, alter=None):
    db = 'dumpsed_explain_%s_%d' % (tag, os.getpid())
    sh('createdb', '-T', 'template0', db)
    try:
        roles = os.path.join(ROOT, 'fixtures', corpus, 'roles.sql')
        if os.path.exists(roles):
            sh('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', roles)
        sh('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', db, '-f', plain)
        if alter:
            sh('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', alter)
        return sh('pg_dump', '-d', db)
    finally:
        for s in sh('psql', '-X', '-At', '-d', db, '-c',
                    'SELECT quote_ident(subname) FROM pg_subscription WHERE subdbid = '
                    '(SELECT oid FROM pg_database WHERE datname = current_database())').split():
            sh('psql', '-X', '-q', '-d', db, '-c', 'ALTER SUBSCRIPTION %s DISABLE' % s,
               '-c', 'ALTER SUBSCRIPTION %s SET (slot_name = NONE)' % s, '-c', 'DROP SUBSCRIPTION %s' % s)
        sh('dropdb', db)


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in FIXTURES:
        sys.exit(__doc__)
    corpus, schema, table = sys.argv[1:4]
    dumpsed = sys.argv[4] if len(sys.argv) == 5 else os.path.join(ROOT, 'target/release/dumpsed')
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(ROOT, FIXTURES[corpus])
        plain = os.path.join(tmp, 'fixture.sql')
        data = gzip.open(src, 'rt', encoding='utf-8').read() if src.endswith('.gz') else open(src, encoding='utf-8').read()
        open(plain, 'w', encoding='utf-8').write(data)
        new = table + '_renamed'
        base = restored_dump(corpus, plain, 'c')
        live = restored_dump(corpus, plain, 'a', 'ALTER TABLE %s.%s RENAME TO %s' % (quote(schema), quote(table), quote(new)))
        out = os.path.join(tmp, 'offline.sql')
        sh(dumpsed, 'rewrite', '-q', '--rename-table', '%s.%s=%s' % (schema, table, new), plain, '-o', out)
        offline = open(out, encoding='utf-8').read()
    fix, b, l, o = lines(data), lines(base), lines(live), lines(offline)
    want_new, got_new = l - b, o - fix
    want_old, got_old = b - l, fix - o
    print('%s %s.%s: the server changed %d lines, dumpsed %d' % (corpus, schema, table,
          sum(want_new.values()), sum(got_new.values())))
    for title, c in (('spurious (dumpsed wrote, the server did not)', got_new - want_new),
                     ('missed (the server wrote, dumpsed did not)', want_new - got_new),
                     ('wrongly removed (dumpsed removed, the server kept)', got_old - want_old)):
        print('  %s: %d' % (title, sum(c.values())))
        for line, n in sorted(c.items()):
            print('    %s%s' % (line[:200], ' (x%d)' % n if n > 1 else ''))


if __name__ == '__main__':
    main()
