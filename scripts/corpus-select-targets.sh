#!/usr/bin/env bash
# Chooses the rename targets of a corpus and writes fixtures/CORPUS/rename-targets.txt:
# restores the corpus' fixture into a scratch database and runs
# scripts/corpus-select-targets.sql there (per_category tables per reason).
#
# usage: scripts/corpus-select-targets.sh pg-regress|pg-tap|real/NAME [PER_CATEGORY]
#        (PGHOST/PGPORT/PGUSER: a superuser on a PostgreSQL 15 server)
# Defaults: pg-regress 3 per reason, pg-tap 100 (every table with a reason: the corpus
# is small).
#
# Output lines: SCHEMA.TABLE, each part as quote_ident() prints it; inside double
# quotes "" is a double quote and \n a newline (tests/corpus.rs reads it so).  Before
# each target a comment line lists every reason the query found for it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CORPUS="${1:?usage: $0 pg-regress|pg-tap [PER_CATEGORY]}"
case "$CORPUS" in
    pg-regress) FIX="$ROOT/fixtures/pg-regress/regression.sql.gz"; PER="${2:-3}" ;;
    pg-tap)     FIX="$ROOT/fixtures/pg-tap/dump.sql"; PER="${2:-100}" ;;
    real/*)     FIX="$ROOT/fixtures/$CORPUS/dump.sql.gz"; PER="${2:-2}" ;;   # fixtures/real/ (PostgreSQL ones)
    *) echo "unknown corpus $CORPUS" >&2; exit 2 ;;
esac
DB="dumpsed_select_$(tr -c "a-z0-9\n" _ <<< "$CORPUS")_$$"
cleanup() {
    for s in $(psql -X -At -d "$DB" -c "SELECT quote_ident(subname) FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())" 2>/dev/null); do
        psql -X -q -d "$DB" -c "ALTER SUBSCRIPTION $s DISABLE" -c "ALTER SUBSCRIPTION $s SET (slot_name = NONE)" -c "DROP SUBSCRIPTION $s"
    done
    dropdb --if-exists "$DB"
}
trap cleanup EXIT
createdb -T template0 "$DB"
[[ -f "$ROOT/fixtures/$CORPUS/roles.sql" ]] && psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$ROOT/fixtures/$CORPUS/roles.sql" >/dev/null
if [[ "$FIX" == *.gz ]]; then gzip -dc "$FIX"; else cat "$FIX"; fi |
    psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$DB" -f - >/dev/null 2>&1
OUT="$ROOT/fixtures/$CORPUS/rename-targets.txt"
{
    echo "# Rename targets for tests/corpus.rs and scripts/corpus-per-table.sh, chosen by"
    echo "# scripts/corpus-select-targets.sql (per_category=$PER) via: scripts/corpus-select-targets.sh $CORPUS $PER"
    echo "# Format: SCHEMA.TABLE as quote_ident() prints each part; in quotes \"\" is \" and \\n a newline."
    psql -X -At -v per_category="$PER" -d "$DB" -f "$ROOT/scripts/corpus-select-targets.sql" -F $'\t' |
        while IFS=$'\t' read -r nsp rel whys; do
            printf '# %s\n%s\n' "$whys" "$nsp.$rel"
        done
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$(grep -vc '^#' "$OUT") targets -> $OUT" >&2
