#!/usr/bin/env python3
"""Extracts the create_sql entries of PostgreSQL's src/bin/pg_dump/t/002_pg_dump.pl.

usage: corpus-tap-extract.py extract PATH/TO/002_pg_dump.pl > entries.json
       corpus-tap-extract.py build PATH/TO/002_pg_dump.pl DB OUTDIR

`extract` prints the entries (below).  `build` runs them, in that order, into the
existing empty database DB (libpq environment: PGHOST/PGPORT/PGUSER, a superuser)
and writes OUTDIR/create.sql (the entries that worked, in order, each under a
comment naming it) and OUTDIR/skipped.txt (every entry left out, with the reason).
Entries are left out when
  - they target another database than the default one (`database =>`), or touch
    databases at all (CREATE/ALTER DATABASE, ... ON DATABASE, pg_database): those are
    cluster-level and would change the shared server;
  - they create large objects (or grant/comment on them): pg_dump writes large
    objects inside their own BEGIN/COMMIT, which ends `psql --single-transaction`
    early, so the restore would no longer be all or nothing;
  - they fail when run (the error is recorded).
Role statements (CREATE/ALTER ROLE) are cluster-level too: they are run one by one
first, "already exists" tolerated, and kept out of create.sql; regen.sh then writes
roles.sql with the roles the database refers to.

The %tests hash is evaluated by perl itself (not re-parsed here): the part of the
file that defines %dump_test_schema_runs, %full_runs and %tests is cut out, `my
%tests = (` is turned into `my @tests = (` so that the key/value pairs keep the
file's order, and perl prints each test with a create_sql as JSON (JSON::PP is core
perl).

Output: a JSON list, one object per test that has a create_sql, with
  name, file_index (position in the file), create_order (null if none), database
  (null = the default "postgres" database), flags (collation/icu/lz4), create_sql.
It is sorted the way 002_pg_dump.pl runs them: by create_order, entries without a
create_order last; ties (and the entries without one, which the .pl leaves in perl's
random hash order) in file order.  The file order alone does not satisfy the
dependencies (e.g. create_order 4 creates a table in a schema made by create_order 2
further down the file).
"""
import json
import os
import re
import subprocess
import sys

PERL_DUMP = r'''
use strict; use warnings; use JSON::PP;
my $tempdir = '/nonexistent';
%s
my @out;
for (my $i = 0; $i < @tests; $i += 2) {
    my ($name, $t) = ($tests[$i], $tests[$i + 1]);
    next unless $t->{create_sql};
    push @out, { name => $name, file_index => $i / 2,
                 create_order => $t->{create_order},
                 database => $t->{database},
                 flags => [ grep { defined $t->{$_} } qw(collation icu lz4) ],
                 create_sql => $t->{create_sql} };
}
print JSON::PP->new->canonical->pretty->encode(\@out);
'''


def extract(path):
    src = open(path, encoding='utf-8').read()
    start = src.index('my %dump_test_schema_runs = (')
    end = src.index('# Create a PG instance to test actually dumping from')
    body = src[start:end]
    body, n = re.subn(r'^my %tests = \(', 'my @tests = (', body, flags=re.M)
    if n != 1:
        sys.exit('corpus-tap-extract: cannot find "my %tests = (" in ' + path)
    # References to %tests inside the definitions would now be wrong; there are none
    # in PostgreSQL 15, check so a future version fails loudly.
    if re.search(r'\$tests\{', body):
        sys.exit('corpus-tap-extract: %tests is referenced inside its own definition')
    out = subprocess.run(['perl', '-e', PERL_DUMP % body], check=True,
                         capture_output=True, text=True).stdout
    entries = json.loads(out)
    big = float('inf')
    entries.sort(key=lambda e: (e['create_order'] if e['create_order'] else big,
                                e['file_index']))
    return entries


def split_statements(sql):
    """Splits at top-level semicolons (outside quotes, dollar quotes, comments)."""
    out, cur, i, n = [], [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            cur.append(sql[i:j + 1]); i = j + 1
        elif c == '$' and re.match(r'\$[A-Za-z_]*\$', sql[i:]):
            tag = re.match(r'\$[A-Za-z_]*\$', sql[i:]).group(0)
            j = sql.find(tag, i + len(tag))
            j = n if j < 0 else j + len(tag)
            cur.append(sql[i:j]); i = j
        elif sql.startswith('--', i):
            j = sql.find('\n', i)
            j = n if j < 0 else j
            cur.append(sql[i:j]); i = j
        elif c == ';':
            out.append(''.join(cur)); cur = []; i += 1
        else:
            cur.append(c); i += 1
    out.append(''.join(cur))
    return [s.strip() for s in out if s.strip() and not re.fullmatch(r'(--[^\n]*\s*)+', s.strip())]


def psql(db, sql, single=True):
    args = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db]
    if single:
        args.append('--single-transaction')
    p = subprocess.run(args + ['-f', '-'], input=sql, capture_output=True, text=True)
    errs = [l for l in p.stderr.splitlines() if 'ERROR' in l]
    return p.returncode == 0, (errs[0] if errs else p.stderr.strip())


ROLE_STMT = re.compile(r'^\s*(CREATE|ALTER|DROP)\s+(ROLE|USER(?!\s+MAPPING))\b', re.I)
DATABASE = re.compile(r'\bDATABASE\b|\bpg_database\b', re.I)
LARGE_OBJECT = re.compile(r'\blo_from_bytea\b|\blo_create\b|\bLARGE\s+OBJECT\b', re.I)


def build(path, db, outdir):
    entries = extract(path)
    created, skipped = [], []
    for e in entries:
        tag = '%s (create_order %s)' % (e['name'].replace('\n', '\\n'), e['create_order'])
        if e['database']:
            skipped.append((tag, 'targets database %s' % e['database'])); continue
        if DATABASE.search(e['create_sql']):
            skipped.append((tag, 'touches databases (cluster-level)')); continue
        if LARGE_OBJECT.search(e['create_sql']):
            skipped.append((tag, 'large object (dumped with its own BEGIN/COMMIT)')); continue
        stmts = split_statements(e['create_sql'])
        roles = [s for s in stmts if ROLE_STMT.match(s)]
        rest = [s for s in stmts if not ROLE_STMT.match(s)]
        for r in roles:
            good, err = psql(db, r + ';\n')
            if not good and 'already exists' not in err:
                print('corpus-tap: role statement failed in %s: %s' % (tag, err), file=sys.stderr)
        if not rest:
            skipped.append((tag, 'role statements only (cluster-level; see roles.sql)')); continue
        sql = ';\n'.join(rest) + ';\n'
        good, err = psql(db, sql)
        if good:
            created.append((tag, sql, len(roles)))
        else:
            skipped.append((tag, 'fails: ' + err))
    with open(os.path.join(outdir, 'create.sql'), 'w', encoding='utf-8') as f:
        f.write('-- The create_sql entries of PostgreSQL 15 src/bin/pg_dump/t/002_pg_dump.pl that\n'
                '-- run in a single database, in the order that test runs them; generated by\n'
                '-- scripts/corpus-tap-extract.py (see fixtures/pg-tap/regen.sh). Left out: skipped.txt.\n'
                '-- Needs the roles in roles.sql.\n')
        for tag, sql, nroles in created:
            f.write('\n-- entry: %s%s\n%s' % (tag, ' (role statements moved to roles.sql)' if nroles else '', sql))
    with open(os.path.join(outdir, 'skipped.txt'), 'w', encoding='utf-8') as f:
        f.write('# 002_pg_dump.pl create_sql entries not in create.sql, with the reason\n')
        for tag, why in skipped:
            f.write('%s: %s\n' % (tag, why))
    print('corpus-tap: %d entries, %d in create.sql, %d skipped'
          % (len(entries), len(created), len(skipped)), file=sys.stderr)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'extract':
        json.dump(extract(sys.argv[2]), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write('\n')
    elif len(sys.argv) == 5 and sys.argv[1] == 'build':
        build(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
