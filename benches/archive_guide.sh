#!/usr/bin/env bash
# The guide's rules on the guide's kind of backup, at benchmark size: a
# `pg_dump -Fc` archive of the 1 GiB benchmark data (gen_dump.py) plus the
# Django tables the rules write to, timed against `pg_restore -f /dev/null`
# of the same archive (issue 25's target: at most 2x).
#
#   benches/archive_guide.sh [--size-mib N] [--workdir DIR] [--runs R]
#
#   --size-mib N   generated data (default 1024)
#   --workdir DIR  where the dump, the archive and the output go (default
#                  /tmp/dumpsed-bench); the archive is kept and reused
#   --runs R       farm-bench runs of each command (default 3)
#
# Making the archive needs a PostgreSQL server: a private cluster is started
# (scripts/pg-cluster.sh, DUMPSED_PG_DIR / DUMPSED_PG_PORT honoured) and
# stopped again. The Django tables (django_migrations, django_content_type,
# auth_permission) come from the guide's fixture database
# (fixtures/django/pg/before.sql), which the benchmark data lacks.
# Needs target/release/dumpsed ($CARGO_TARGET_DIR honoured) and farm-bench.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=1024
WORK=/tmp/dumpsed-bench
RUNS=3
while [[ $# -gt 0 ]]; do
    case "$1" in
        --size-mib) SIZE="$2"; shift 2 ;;
        --workdir) WORK="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        *) echo "usage: $0 [--size-mib N] [--workdir DIR] [--runs R]" >&2; exit 2 ;;
    esac
done
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/dumpsed"
[[ -x "$BIN" ]] || { echo "build first: cargo build --release ($BIN missing)" >&2; exit 1; }
mkdir -p "$WORK"
SQL="$WORK/pg-${SIZE}MiB.sql"
ARCHIVE="$WORK/pg-${SIZE}MiB-django.custom"
OUT="$WORK/pg-${SIZE}MiB-django-out.custom"

if [[ ! -s "$ARCHIVE" ]]; then
    [[ -s "$SQL" ]] || python3 "$ROOT/benches/gen_dump.py" --format pg --size-mib "$SIZE" --out "$SQL" -q
    started=0
    if ! bash "$ROOT/scripts/pg-cluster.sh" status >/dev/null 2>&1; then started=1; fi
    cluster_env="$(bash "$ROOT/scripts/pg-cluster.sh" start)"
    eval "$cluster_env"
    [[ $started -eq 1 ]] && trap 'bash "$ROOT/scripts/pg-cluster.sh" stop' EXIT
    for db in bench_guide bench_guide_django; do
        psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    done
    psql -qX -v ON_ERROR_STOP=1 -d bench_guide -f "$SQL" >/dev/null
    psql -qX -v ON_ERROR_STOP=1 -d bench_guide_django -f "$ROOT/fixtures/django/pg/before.sql" >/dev/null
    pg_dump -d bench_guide_django -t django_migrations -t django_content_type -t auth_permission \
        | psql -qX -v ON_ERROR_STOP=1 -d bench_guide >/dev/null
    pg_dump -Fc -d bench_guide -f "$ARCHIVE.part"
    mv "$ARCHIVE.part" "$ARCHIVE"
fi

ls -l "$ARCHIVE"
cat "$ARCHIVE" >/dev/null
farm-bench -n "$RUNS" --timeout 900 --vs "pg_restore -f /dev/null $ARCHIVE" -- \
    "$BIN" rewrite --quiet --no-sync --preset capa-to-sap \
    --mark-applied incident_safety.0002_rename_capa_to_safety_action_plan \
    --mark-applied incident_safety.0003_update_reference_numbers \
    "$ARCHIVE" -o "$OUT"
