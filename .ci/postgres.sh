#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the job-store backend tests.
#
# Usage:  eval "$(bash .ci/postgres.sh | tail -1)"
#
# Installs PostgreSQL from Debian if initdb is missing, initialises a cluster in a fresh
# temp dir (owned by the `postgres` user when run as root), starts it on 127.0.0.1 on a
# free port (from $SAGEYARD_PG_PORT, default 55432) with trust auth, creates the database
# `sageyard_test`, and prints the export line for SAGEYARD_TEST_POSTGRES_URL as the LAST
# line of stdout. Everything else goes to stderr. Stop it with the pg_ctl line it logs.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

BINDIR="$(find_bindir)"
if [[ -z "$BINDIR" ]]; then
    log "initdb not found; installing PostgreSQL from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BINDIR="$(find_bindir)"
fi
if [[ -z "$BINDIR" ]]; then
    log "no PostgreSQL bin dir (with initdb) found under /usr/lib/postgresql/*/bin"
    exit 1
fi
log "using $BINDIR"

# Run a command as the cluster owner: `postgres` when we are root (initdb refuses root).
if [[ "$(id -u)" == "0" ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent postgres
    as_owner() { runuser -u postgres -- "$@"; }
    as_owner_prefix() { echo "runuser -u postgres -- "; }
else
    as_owner() { "$@"; }
    as_owner_prefix() { echo ""; }
fi

port_in_use() { (: </dev/tcp/127.0.0.1/"$1") >/dev/null 2>&1; }
PORT="${SAGEYARD_PG_PORT:-55432}"
for _ in $(seq 1 100); do
    port_in_use "$PORT" || break
    PORT=$((PORT + 1))
done
if port_in_use "$PORT"; then
    log "no free port found from ${SAGEYARD_PG_PORT:-55432} to $PORT"
    exit 1
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/sageyard-pg.XXXXXX")"
chmod 700 "$TMP"
if [[ "$(id -u)" == "0" ]]; then
    chown postgres:postgres "$TMP"
fi
DATA="$TMP/data"

as_owner "$BINDIR/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >&2
as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$TMP/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PORT -k $TMP -c fsync=off -c full_page_writes=off" start >&2 || {
    log "server did not start; its log follows"
    cat "$TMP/server.log" >&2 || true
    exit 1
}

for _ in $(seq 1 60); do
    if as_owner "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres; then
        break
    fi
    sleep 0.5
done
as_owner "$BINDIR/pg_isready" -h 127.0.0.1 -p "$PORT" -U postgres >&2
as_owner "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres sageyard_test

log "server running; data and log in $TMP"
log "stop it with: runuser -u postgres -- $BINDIR/pg_ctl -D $DATA stop  (as root)"
echo "export SAGEYARD_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PORT/sageyard_test SAGEYARD_TEST_POSTGRES_STOP='$(as_owner_prefix)$BINDIR/pg_ctl -D $DATA -m fast stop'"
