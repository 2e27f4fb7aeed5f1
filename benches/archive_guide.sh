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
#   --runs R       paired runs of each command, A B A B … (default 3)
#
# Making the archive needs a PostgreSQL server: a private cluster is started
# (scripts/pg-cluster.sh, DUMPSED_PG_DIR / DUMPSED_PG_PORT honoured) and
# stopped again. The Django tables (django_migrations, django_content_type,
# auth_permission) come from the guide's fixture database
# (fixtures/django/pg/before.sql), which the benchmark data lacks.
# Needs target/release/dumpsed ($CARGO_TARGET_DIR honoured) and GNU time
# (/usr/bin/time, Debian's `time` package): each run's wall, user and system
# seconds and peak RSS as the kernel accounts them; the medians and the
# pair-by-pair ratio dumpsed / pg_restore are printed at the end.
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
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }
TIMES="$WORK/archive_guide.times"
: >"$TIMES"
# One warm-up of each, then A B A B …: a slow minute of the machine falls on
# both commands, and the ratio is taken pair by pair.
for run in $(seq 0 "$RUNS"); do
    for who in dumpsed pg_restore; do
        if [[ $who == dumpsed ]]; then
            cmd=("$BIN" rewrite --quiet --no-sync --preset capa-to-sap
                --mark-applied incident_safety.0002_rename_capa_to_safety_action_plan
                --mark-applied incident_safety.0003_update_reference_numbers
                "$ARCHIVE" -o "$OUT")
        else
            cmd=(pg_restore -f /dev/null "$ARCHIVE")
        fi
        /usr/bin/time -o "$TIMES.one" -f "%e %U %S %M" "${cmd[@]}" >/dev/null 2>&1
        line="$(tail -n 1 "$TIMES.one")"
        [[ $run -eq 0 ]] || echo "$who $line" >>"$TIMES"
    done
done
python3 - "$TIMES" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
runs = {w: [tuple(map(float, r[1:])) for r in rows if r[0] == w] for w in ("dumpsed", "pg_restore")}
med = lambda xs: statistics.median(xs)
print(f"{'':12} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}   (medians of {len(runs['dumpsed'])} paired runs)")
for w, rs in runs.items():
    print(f"{w:12} {med([r[0] for r in rs]):8.3f} {med([r[1] + r[2] for r in rs]):8.3f} {med([r[3] / 1024 for r in rs]):9.1f}")
pairs = list(zip(runs["dumpsed"], runs["pg_restore"]))
wall = [a[0] / b[0] for a, b in pairs]
cpu = [(a[1] + a[2]) / (b[1] + b[2]) for a, b in pairs]
print(f"dumpsed / pg_restore: wall {med(wall):.2f} ({min(wall):.2f}-{max(wall):.2f}), cpu {med(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f})")
PY
