#!/usr/bin/env bash
# Starts or stops connect's private PostgreSQL/PostGIS and Redis under var/.
# Skipped for whichever of CONNECT_DATABASE_URL / CONNECT_REDIS_URL names an existing service.
#   scripts/services.sh start | stop | env
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
VAR=$PWD/var
PGDATA=$VAR/postgres
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

# PostgreSQL refuses to run as root; as root, run it as the postgres system user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- env --chdir=/ "$@"; else "$@"; fi
}

# As root, the postgres user must be able to reach the data directory. When the checkout sits somewhere
# it cannot enter (under /root, say), the cluster lives in /var/lib/connect and var/postgres links to it.
pg_home() {
  if [ "$(id -u)" -eq 0 ] && [ ! -L "$PGDATA" ] && [ ! -d "$PGDATA" ] && ! runuser -u postgres -- test -x "$VAR"; then
    local home
    home=/var/lib/connect/$(printf '%s' "$VAR" | sha256sum | cut -c1-12)
    mkdir -p "$home/postgres" "$home/run"
    chown postgres "$home/postgres" "$home/run"
    ln -s "$home/postgres" "$PGDATA"
    ln -sfn "$home/run" "$VAR/run"
  fi
  mkdir -p "$VAR/run"
}

pg_start() {
  [ -n "${CONNECT_DATABASE_URL:-}" ] && return 0
  mkdir -p "$VAR"
  pg_home
  mkdir -p "$PGDATA"
  # Resolved paths: postgres may reach the cluster only through /var/lib/connect.
  local data sockets
  data=$(readlink -f "$PGDATA")
  sockets=$(readlink -f "$VAR/run")
  if [ ! -f "$data/PG_VERSION" ]; then
    [ "$(id -u)" -eq 0 ] && chown postgres "$data" "$sockets"
    as_pg "$PGBIN/initdb" -D "$data" -U connect --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $PG_PORT -k $sockets -c listen_addresses=127.0.0.1" start >/dev/null ||
      { echo "connect: PostgreSQL did not start; see $data/server.log" >&2; tail -n 5 "$data/server.log" >&2; exit 1; }
  fi
  for db in connect; do
    as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U connect -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U connect "$db"
  done
  # PostGIS in template1 makes every later database (tests, benchmarks) spatial from the start.
  PGOPTIONS="-c client_min_messages=warning" as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U connect -d template1 -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  PGOPTIONS="-c client_min_messages=warning" as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U connect -d connect -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
}

pg_stop() {
  [ -n "${CONNECT_DATABASE_URL:-}" ] && return 0
  [ -f "$PGDATA/PG_VERSION" ] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$(readlink -f "$PGDATA")" -m fast stop >/dev/null 2>&1 || true
}

redis_start() {
  [ -n "${CONNECT_REDIS_URL:-}" ] && return 0
  mkdir -p "$VAR/redis"
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" \
    --pidfile "$VAR/redis/redis.pid" --logfile "$VAR/redis/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "connect: Redis did not start; see $VAR/redis/redis.log" >&2; exit 1
}

redis_stop() {
  [ -n "${CONNECT_REDIS_URL:-}" ] && return 0
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

# Prints the URLs for the processes to use.
print_env() {
  echo "export CONNECT_DATABASE_URL=${CONNECT_DATABASE_URL:-postgres://connect@127.0.0.1:$PG_PORT/connect}"
  echo "export CONNECT_REDIS_URL=${CONNECT_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
}

case "${1:-}" in
  start) pg_start; redis_start ;;
  stop) redis_stop; pg_stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
