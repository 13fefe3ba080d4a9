#!/usr/bin/env bash
# `make run`: install what is missing, start PostgreSQL/PostGIS and Redis (private, under var/, unless
# CONNECT_DATABASE_URL / CONNECT_REDIS_URL are set), migrate, load demo data once, start every process.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every port first, before minutes of installing, each message naming the setting that moves it. The web port and
# the demo's mail sink, taken by another checkout's demo, would leave this one's processes restarting forever (or
# its mail in the other's inbox); PostgreSQL's and Redis's are services.sh's.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check_port() {  # port variable what
  if port_taken "$1"; then
    echo "connect: port $1 ($3) is already taken by another program, perhaps another checkout's demo: choose a free one," >&2
    echo "  $2=<free port> make run" >&2
    exit 1
  fi
}
check_port "${PORT:-8000}" PORT "the web server"
if [ "${CONNECT_MODE:-demo}" = demo ]; then check_port "${CONNECT_EMAIL_PORT:-2525}" CONNECT_EMAIL_PORT "the demo's mail sink"; fi
scripts/services.sh ports
scripts/bootstrap.sh
# Start the private services before their URLs are exported (services.sh leaves alone whatever
# CONNECT_DATABASE_URL / CONNECT_REDIS_URL name); on exit stop those this run started.
# shellcheck source=scripts/stop-started.sh
source scripts/stop-started.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
export CONNECT_MODE=${CONNECT_MODE:-demo}
# The demo is Raleigh's program: its policy preset, unless one is named (an empty CONNECT_POLICY means none).
if [ "$CONNECT_MODE" = demo ]; then export CONNECT_POLICY=${CONNECT_POLICY-raleigh}; fi
export PORT=${PORT:-8000}
export CONNECT_PUBLIC_URL=${CONNECT_PUBLIC_URL:-http://127.0.0.1:$PORT}
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py policy_record  # a ledger entry when the policy in force has changed
processes=(web worker beat ledger)
if [ "$CONNECT_MODE" = demo ]; then
  .venv/bin/python manage.py seed_demo
  .venv/bin/python manage.py seed_demo_incidents
  .venv/bin/python manage.py seed_demo_public_request
  .venv/bin/python manage.py seed_demo_live
  .venv/bin/python manage.py seed_demo_invitations
  .venv/bin/python manage.py seed_demo_records
  .venv/bin/python manage.py seed_demo_concern
  .venv/bin/python manage.py seed_demo_agencies
  .venv/bin/python manage.py seed_demo_bulletins
  .venv/bin/python manage.py seed_demo_detections
  demo_token=$(.venv/bin/python manage.py api_token_demo)
  demo_token_scopes=$(.venv/bin/python manage.py api_token_demo --scopes)  # what the stored token holds
  processes+=(mail connectors)
  cat <<MSG

  connect is starting at http://127.0.0.1:$PORT/   (Ctrl-C stops everything; a process that dies is restarted)

  Staff sign in at http://127.0.0.1:$PORT/admin/ and the map at /map/, password: connect-demo-2026
    investigator  analyst  supervisor  auditor  admin  records (public-records requests at /records/)
  Patrol phones:   http://127.0.0.1:$PORT/patrol/  as patrol (unit 2B11) or patrol2 (4C22)
  Outside agency:  http://127.0.0.1:$PORT/agency/  as federal; the legal reviewer: lawyer (/agency/review/)
  Owner portal:    http://127.0.0.1:$PORT/owner/  with resident@example.org
  Demo inbox:      http://127.0.0.1:$PORT/demo/mail/  (sign-in and consent links land here; not signed in as staff)
  API:             http://127.0.0.1:$PORT/api/docs/   demo token ($demo_token_scopes): $demo_token
  Dispatch demo:   .venv/bin/python bench/dispatch_sim.py --url http://127.0.0.1:$PORT  (calls and units on /map/)

MSG
fi
# Metrics counted by the processes of an earlier run are not this run's (docs/MONITORING.md).
rm -rf "${CONNECT_METRICS_DIR:-var/metrics}"
# What a web process killed mid-upload in an earlier run left (nothing of this checkout runs yet).
.venv/bin/python manage.py sweep_upload_leftovers --grace 5
# connect.supervisor restarts a process that dies (with back-off) and leaves the others running; Ctrl-C stops
# every process, then the trap stops the private database and Redis if this run started them.
.venv/bin/python -m connect.supervisor -f Procfile "${processes[@]}"
