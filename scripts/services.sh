#!/usr/bin/env bash
# This checkout's private PostgreSQL/PostGIS and Redis under var/, on PG_PORT (54329) and REDIS_PORT (63799).
# start skips whichever of CONNECT_DATABASE_URL / CONNECT_REDIS_URL is set: that service is someone else's to run
# (so `eval "$(scripts/services.sh env)"` before `start` starts nothing: start first, then export the URLs).
#   scripts/services.sh start [postgres] [redis]   (both when none is named)
#   scripts/services.sh ports                      fails naming PG_PORT/REDIS_PORT if another program holds one
#   scripts/services.sh stop [postgres] [redis]    stops only this checkout's own servers, never another's
#   scripts/services.sh status                     prints "postgres" and/or "redis": those of ours running
#   scripts/services.sh env                        the URLs for the processes, as shell exports
#   scripts/services.sh clean                      stops them and removes var/ and the cluster made for it
# A port taken by anything else (another checkout, Debian's own PostgreSQL or Redis) is an error naming the port
# and the variable that moves it: this checkout never silently shares another's server. Debian's own services
# (5432, 6379) are left as they are: never stopped, disabled or used.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
VAR=$PWD/var
PGDATA=$VAR/postgres
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
# Where the cluster lives when root's postgres user cannot enter the checkout (see pg_home).
PG_HOME=/var/lib/connect/$(printf '%s' "$VAR" | sha256sum | cut -c1-12)

die() { echo "connect: $*" >&2; exit 1; }

# Is something listening on this local port? (bash's /dev/tcp: no other tool needed)
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

taken_message() {  # port variable what
  die "port $1 is already taken by another program (another checkout's $3, or another service), so this checkout
cannot start its own $3 there. Choose a free port for this checkout and use it for every make command:
  $2=<free port> make run    (and $2=<same port> make test / make stop)"
}

# PostgreSQL refuses to run as root; as root, run it as the postgres system user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- env --chdir=/ "$@"; else "$@"; fi
}

# As root, the postgres user must be able to reach the data directory. When the checkout sits somewhere
# it cannot enter (under /root, say), the cluster lives in /var/lib/connect and var/postgres links to it.
pg_home() {
  if [ "$(id -u)" -eq 0 ] && [ ! -L "$PGDATA" ] && [ ! -d "$PGDATA" ] && ! runuser -u postgres -- test -x "$VAR"; then
    mkdir -p "$PG_HOME/postgres" "$PG_HOME/run"
    chown postgres "$PG_HOME/postgres" "$PG_HOME/run"
    ln -s "$PG_HOME/postgres" "$PGDATA"
    ln -sfn "$PG_HOME/run" "$VAR/run"
  fi
  mkdir -p "$VAR/run"
}

pg_running() {
  [ -f "$PGDATA/PG_VERSION" ] && [ -n "$PGBIN" ] && as_pg "$PGBIN/pg_ctl" -D "$(readlink -f "$PGDATA")" status >/dev/null 2>&1
}

pg_start() {
  [ -n "${CONNECT_DATABASE_URL:-}" ] && return 0
  [ -n "$PGBIN" ] || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin): run scripts/bootstrap.sh"
  if pg_running; then
    local port
    port=$(sed -n 4p "$(readlink -f "$PGDATA")/postmaster.pid")
    [ "$port" = "$PG_PORT" ] || die "this checkout's PostgreSQL already runs on port $port, not PG_PORT=$PG_PORT:
run 'PG_PORT=$port make stop' first, or use PG_PORT=$port"
  else
    # Before anything is made: a taken port leaves no half-made cluster behind.
    port_taken "$PG_PORT" && taken_message "$PG_PORT" PG_PORT PostgreSQL
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
    as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $PG_PORT -k $sockets -c listen_addresses=127.0.0.1" start >/dev/null ||
      { echo "connect: PostgreSQL did not start; see $data/server.log" >&2; tail -n 5 "$data/server.log" >&2; exit 1; }
  fi
  as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U connect -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='connect'" | grep -q 1 ||
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U connect connect
  # PostGIS in template1 makes every later database (tests, benchmarks) spatial from the start.
  for db in template1 connect; do
    PGOPTIONS="-c client_min_messages=warning" as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U connect -d "$db" \
      -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  done
}

pg_stop() {
  pg_running || return 0
  as_pg "$PGBIN/pg_ctl" -D "$(readlink -f "$PGDATA")" -m fast stop >/dev/null 2>&1 || true
}

# Ours: the server on REDIS_PORT is the process our pidfile names (a server another checkout started on that
# port has another pid).
redis_ours() {
  local pid
  pid=$(cat "$VAR/redis/redis.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  redis-cli -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid"
}

redis_start() {
  [ -n "${CONNECT_REDIS_URL:-}" ] && return 0
  mkdir -p "$VAR/redis"
  redis_ours && return 0
  port_taken "$REDIS_PORT" && taken_message "$REDIS_PORT" REDIS_PORT Redis
  # 32 databases: 0 for the server, 15 for the tests, one of its own for each benchmark (bench/_services.py).
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" \
    --pidfile "$VAR/redis/redis.pid" --logfile "$VAR/redis/redis.log" --save "" --appendonly no --databases 32
  for _ in $(seq 100); do redis_ours && return 0; sleep 0.1; done
  echo "connect: Redis did not start on port $REDIS_PORT; see $VAR/redis/redis.log" >&2
  tail -n 5 "$VAR/redis/redis.log" >&2 || true
  exit 1
}

redis_stop() {
  redis_ours || return 0
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

# Prints the URLs for the processes to use.
print_env() {
  echo "export CONNECT_DATABASE_URL=${CONNECT_DATABASE_URL:-postgres://connect@127.0.0.1:$PG_PORT/connect}"
  echo "export CONNECT_REDIS_URL=${CONNECT_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
}

# Before anything is installed (make run and make test call this first): a port another program holds is named
# at once, not after minutes of installing. Ours, already running, is fine.
ports() {
  if [ -z "${CONNECT_DATABASE_URL:-}" ] && ! pg_running; then
    port_taken "$PG_PORT" && taken_message "$PG_PORT" PG_PORT PostgreSQL
  fi
  if [ -z "${CONNECT_REDIS_URL:-}" ] && ! redis_ours; then
    port_taken "$REDIS_PORT" && taken_message "$REDIS_PORT" REDIS_PORT Redis
  fi
  return 0
}

status() {
  pg_running && echo postgres
  redis_ours && echo redis
  return 0
}

# var/ and, when the cluster had to live outside the checkout, its folder under /var/lib/connect.
clean() {
  redis_stop
  pg_stop
  local home=$PG_HOME
  [ -L "$PGDATA" ] && home=$(dirname "$(readlink -f "$PGDATA")")
  case "$home" in
    /var/lib/connect/[0-9a-f]*) rm -rf "$home"; rmdir /var/lib/connect 2>/dev/null || true ;;
  esac
  rm -rf "$VAR"
}

command=${1:-}
[ $# -gt 0 ] && shift
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(postgres redis)
for service in "${which[@]}"; do
  case "$service" in postgres|redis) ;; *) echo "usage: $0 start|stop [postgres] [redis] | status | ports | env | clean" >&2; exit 2 ;; esac
done
case "$command" in
  start) for service in "${which[@]}"; do "${service/postgres/pg}_start"; done ;;
  stop) for service in "${which[@]}"; do "${service/postgres/pg}_stop"; done ;;
  status) status ;;
  ports) ports ;;
  env) print_env ;;
  clean) clean ;;
  *) echo "usage: $0 start|stop [postgres] [redis] | status | ports | env | clean" >&2; exit 2 ;;
esac
