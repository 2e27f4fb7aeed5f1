#!/usr/bin/env bash
# Private throwaway PostgreSQL cluster for dumpsed tests and fixture generation.
#
#   scripts/pg-cluster.sh start   # init (if needed) + start; prints export lines
#   scripts/pg-cluster.sh env     # prints: export PGHOST=<sockdir> PGPORT=<port> PGUSER=postgres
#   scripts/pg-cluster.sh stop    # pg_ctl stop -m fast, then remove $DUMPSED_PG_DIR
#   scripts/pg-cluster.sh status  # exit 0 if running
#
# Typical use:  eval "$(scripts/pg-cluster.sh start)"
#
# Environment:
#   DUMPSED_PG_DIR   base directory (default /tmp/dumpsed-pg); holds data/, sock/, server.log
#   DUMPSED_PG_PORT  port (default 54329)
#
# The server listens on the unix socket in $DUMPSED_PG_DIR/sock and on 127.0.0.1 only,
# with trust authentication. initdb/postgres refuse to run as root, so when run as
# root the server runs as the OS user "postgres" (which owns the directories).
# Only stdout carries the export lines; all diagnostics go to stderr.
set -euo pipefail

PG_DIR="${DUMPSED_PG_DIR:-/tmp/dumpsed-pg}"
PG_PORT="${DUMPSED_PG_PORT:-54329}"
DATA_DIR="$PG_DIR/data"
SOCK_DIR="$PG_DIR/sock"
LOG_FILE="$PG_DIR/server.log"
MARKER="$PG_DIR/.dumpsed-pg-cluster"
ROLE_NAME="dumpsed_reader"

log() { printf 'pg-cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: $0 start|stop|env|status" >&2
    exit 2
}

# --- locate server binaries -------------------------------------------------
find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    # Newest /usr/lib/postgresql/<ver>/bin that has initdb.
    d="$(ls -1d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r b; do
            [[ -x "$b/initdb" && -x "$b/pg_ctl" && -x "$b/postgres" ]] && echo "$b"
         done | tail -n 1)"
    if [[ -n "$d" ]]; then
        printf '%s\n' "$d"
        return 0
    fi
    return 1
}

# --- run a command as the cluster owner -------------------------------------
# fd 9 is the flock fd (see lock_dir); it must not leak into the postmaster, or the
# lock would be held for the server's whole lifetime.
if [[ "$(id -u)" -eq 0 ]]; then
    RUN_USER=postgres
    as_owner() { runuser -u postgres -- "$@" 9>&-; }
else
    RUN_USER="$(id -un)"
    as_owner() { "$@" 9>&-; }
fi

print_env() {
    printf 'export PGHOST=%q PGPORT=%q PGUSER=postgres\n' "$SOCK_DIR" "$PG_PORT"
}

# psql against the private cluster (client from the same bindir).
cluster_psql() {
    PGHOST="$SOCK_DIR" PGPORT="$PG_PORT" PGUSER=postgres PGDATABASE=postgres \
        PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

is_ready() {
    PGCONNECT_TIMEOUT=3 "$BINDIR/pg_isready" -q -h "$SOCK_DIR" -p "$PG_PORT" -U postgres -d postgres
}

# PID recorded in postmaster.pid, if that process is alive and is a postgres.
live_postmaster_pid() {
    local pidfile="$DATA_DIR/postmaster.pid" pid comm state
    [[ -r "$pidfile" ]] || return 1
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -d "/proc/$pid" ]] || return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    [[ "$comm" == postgres* || "$comm" == postmaster* ]] || return 1
    # A killed-but-unreaped postmaster (zombie) is dead for our purposes.
    state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != Z && "$state" != X ]] || return 1
    printf '%s\n' "$pid"
}

is_running() {
    live_postmaster_pid >/dev/null && is_ready
}

ensure_role() {
    # Idempotent; a concurrent creator just hits duplicate_object, which we swallow.
    cluster_psql -c "DO \$do\$ BEGIN
        CREATE ROLE ${ROLE_NAME} NOLOGIN;
    EXCEPTION WHEN duplicate_object THEN NULL;
    END \$do\$;" >/dev/null
}

lock_dir() {
    # Serialise concurrent start/stop calls on the same directory.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$PG_DIR.lock"
        flock -w 120 9 || die "timed out waiting for lock $PG_DIR.lock"
    fi
}

safe_remove_dir() {
    [[ -e "$PG_DIR" ]] || return 0
    case "$PG_DIR" in
        /|/tmp|/tmp/|/root|/home|/usr|/var|/etc|"") die "refusing to remove '$PG_DIR'";;
    esac
    if [[ -f "$MARKER" ]] || [[ -z "$(ls -A "$PG_DIR" 2>/dev/null)" ]]; then
        rm -rf -- "$PG_DIR"
    else
        die "'$PG_DIR' was not created by this script (no marker file); not removing it"
    fi
}

do_start() {
    BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found (pg_config --bindir or /usr/lib/postgresql/*/bin with initdb); install the 'postgresql' package"
    if [[ "$RUN_USER" == postgres ]] && ! id postgres >/dev/null 2>&1; then
        die "OS user 'postgres' does not exist (install the 'postgresql' package)"
    fi

    mkdir -p "$PG_DIR"
    lock_dir

    if is_running; then
        log "already running (dir $PG_DIR, port $PG_PORT)"
        ensure_role
        print_env
        return 0
    fi

    local pid
    if pid="$(live_postmaster_pid)"; then
        # A postmaster for this data dir is alive but not (yet) accepting connections.
        log "postmaster $pid exists but is not ready; waiting"
        for _ in $(seq 1 60); do is_ready && break; sleep 0.5; done
        if is_ready; then
            ensure_role
            print_env
            return 0
        fi
        log "stopping unresponsive postmaster $pid"
        as_owner "$BINDIR/pg_ctl" -D "$DATA_DIR" stop -m immediate -w -t 30 >&2 || true
    fi

    # Fresh or stale directory: the cluster is throwaway, so re-initialise from scratch
    # unless a matching, cleanly stopped data dir is there.
    local want_ver have_ver=""
    want_ver="$("$BINDIR/postgres" -V | awk '{print $3}' | cut -d. -f1)"
    [[ -r "$DATA_DIR/PG_VERSION" ]] && have_ver="$(cat "$DATA_DIR/PG_VERSION")"
    if [[ "$have_ver" != "$want_ver" ]]; then
        if [[ -e "$DATA_DIR" ]]; then
            log "removing unusable data dir $DATA_DIR (PG_VERSION '${have_ver}', want '${want_ver}')"
            rm -rf -- "$DATA_DIR"
        fi
    fi
    rm -f -- "$DATA_DIR/postmaster.pid" "$SOCK_DIR/.s.PGSQL.$PG_PORT" "$SOCK_DIR/.s.PGSQL.$PG_PORT.lock"

    touch "$MARKER"
    mkdir -p "$SOCK_DIR"
    if [[ "$RUN_USER" == postgres && "$(id -u)" -eq 0 ]]; then
        chown postgres: "$PG_DIR" "$SOCK_DIR" "$MARKER"
        [[ -e "$DATA_DIR" ]] && chown -R postgres: "$DATA_DIR"
        [[ -e "$LOG_FILE" ]] && chown postgres: "$LOG_FILE"
    fi
    chmod 0755 "$PG_DIR" "$SOCK_DIR"
    # The owner must be able to reach the directory (e.g. not under /root).
    as_owner test -w "$PG_DIR" || die "user $RUN_USER cannot write to $PG_DIR (choose DUMPSED_PG_DIR under /tmp)"

    if [[ ! -r "$DATA_DIR/PG_VERSION" ]]; then
        log "initdb $DATA_DIR (PostgreSQL $want_ver, $BINDIR)"
        as_owner "$BINDIR/initdb" -D "$DATA_DIR" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C -N >"$PG_DIR/initdb.log" 2>&1 \
            || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
        cat >>"$DATA_DIR/postgresql.conf" <<EOF

# --- dumpsed private test cluster ---
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK_DIR'
unix_socket_permissions = 0777
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
timezone = 'UTC'
log_timezone = 'UTC'
EOF
    fi

    log "starting on port $PG_PORT, socket dir $SOCK_DIR (log: $LOG_FILE)"
    if ! as_owner "$BINDIR/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 \
            -o "-p $PG_PORT" start >/dev/null; then
        tail -n 30 "$LOG_FILE" >&2 || true
        die "pg_ctl start failed (is port $PG_PORT already in use?)"
    fi
    for _ in $(seq 1 60); do is_ready && break; sleep 0.5; done
    is_ready || { tail -n 30 "$LOG_FILE" >&2 || true; die "server did not become ready"; }

    ensure_role
    print_env
}

do_stop() {
    [[ -e "$PG_DIR" ]] || { log "nothing to stop ($PG_DIR does not exist)"; return 0; }
    lock_dir
    if live_postmaster_pid >/dev/null; then
        BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found"
        log "stopping cluster in $DATA_DIR"
        as_owner "$BINDIR/pg_ctl" -D "$DATA_DIR" stop -m fast -w -t 60 >/dev/null \
            || as_owner "$BINDIR/pg_ctl" -D "$DATA_DIR" stop -m immediate -w -t 30 >/dev/null \
            || log "warning: pg_ctl stop failed"
    fi
    safe_remove_dir
    # ($PG_DIR.lock is left in place on purpose: removing a lock file others may wait on is racy.)
}

do_status() {
    BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found"
    if is_running; then
        log "running (dir $PG_DIR, port $PG_PORT)"
        return 0
    fi
    log "not running"
    return 1
}

[[ $# -eq 1 ]] || usage
case "$1" in
    start)  do_start ;;
    stop)   do_stop ;;
    env)    print_env ;;
    status) do_status ;;
    *)      usage ;;
esac
