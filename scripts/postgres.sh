#!/usr/bin/env bash
# A throwaway PostgreSQL server for the kit's tests and notebook 12 (production), on 127.0.0.1 only.
#   scripts/postgres.sh start   start it if needed; print its POSTGRES_URL on stdout
#   scripts/postgres.sh stop    stop it
# Uses Debian's postgresql binaries (apt-get install postgresql). When they are missing,
# `start` prints nothing and says so on stderr; the tests then skip, except in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${HITL_PG_PORT:-54329}
DATA=${HITL_PG_DATA:-${TMPDIR:-/tmp}/hitl-postgres-$PORT}  # outside the clone: the postgres user must reach it
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
URL="postgresql://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"

as_owner() {  # initdb and postgres refuse to run as root
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

case "${1:-}" in
  start)
    if [ -z "$BIN" ]; then
      echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql); its tests will skip." >&2
      exit 0
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
      mkdir -p "$DATA"
      [ "$(id -u)" = 0 ] && chown postgres "$DATA"
      as_owner "'$BIN/initdb' -D '$DATA' -U postgres --auth=trust -E UTF8 >/dev/null"
    fi
    if ! as_owner "'$BIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
      as_owner "'$BIN/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w -t 60 \
        -o \"-c listen_addresses=127.0.0.1 -p $PORT -k /tmp\" start" >/dev/null
    fi
    echo "$URL"
    ;;
  stop)
    [ -n "$BIN" ] && [ -f "$DATA/PG_VERSION" ] && as_owner "'$BIN/pg_ctl' -D '$DATA' -m fast stop" >/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2
    ;;
esac
