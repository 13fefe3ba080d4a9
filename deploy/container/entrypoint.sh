#!/bin/sh
# The container's command: which of connect's processes this container runs. The same processes as the
# Procfile (tests/deploy/test_packaging.py keeps the two in step), with container paths.
#   web | worker | beat | sealer (ledger) | migrate | manage COMMAND ... | mail | connectors | healthcheck
# Extra arguments go to the process (`worker --concurrency=8`).
set -eu
cd /app
state=/var/lib/connect
process=${1:-web}
[ $# -gt 0 ] && shift

if [ "$process" != healthcheck ]; then
  # The health check runs as a separate command in the same container: it reads which process this is.
  echo "$process" > /tmp/connect-process 2>/dev/null || true
fi

case "$process" in
  web)
    # What a web process killed mid-upload left (files in use stay locked and are kept); never a reason not to start.
    python manage.py sweep_upload_leftovers || echo "connect: the upload leftovers sweep failed; web starts anyway" >&2
    exec python -m uvicorn connect.asgi:application --host 0.0.0.0 --port "${PORT:-8000}" --no-server-header \
      --ws-per-message-deflate false --ws-max-size 8388608 --timeout-graceful-shutdown 3 \
      --workers "${CONNECT_WEB_PROCESSES:-1}" "$@" ;;
  worker)
    exec celery -A connect worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle "$@" ;;
  beat)
    # Run exactly one beat per installation (compose: one replica; docs/DEPLOY.md).
    exec celery -A connect beat --loglevel=INFO --schedule "$state/celerybeat-schedule" "$@" ;;
  sealer|ledger)
    exec python manage.py seal_ledger --follow "$@" ;;
  migrate)
    # Started together with the database by orchestrators that do not wait for its health check: wait for it.
    python - <<'PY'
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")
import django
django.setup()
from django.db import OperationalError, connection
for attempt in range(90):
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:
        if attempt == 0:
            print(f"connect: waiting for the database: {exc}".strip(), file=sys.stderr)
        time.sleep(2)
PY
    exec python manage.py migrate --noinput "$@" ;;
  manage)
    exec python manage.py "$@" ;;
  mail)
    # Demo image only (LOCK=demo): the local SMTP sink.
    exec python -m connect.mailsink --host 0.0.0.0 --port "${CONNECT_EMAIL_PORT:-2525}" \
      --dir "${CONNECT_DEMO_MAILDIR:-$state/mail}" "$@" ;;
  connectors)
    exec python manage.py run_demo_connectors "$@" ;;
  healthcheck)
    case "$(cat /tmp/connect-process 2>/dev/null || echo web)" in
      web)
        # /healthz through the first allowed host name (Django refuses others); plain HTTP is exempt from the
        # HTTPS redirect for this path.
        exec python - <<'PY'
import json, os, sys, urllib.error, urllib.request
host = (os.environ.get("CONNECT_ALLOWED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".") or "localhost"
request = urllib.request.Request(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz", headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=8) as response:
        print(response.read().decode())
except urllib.error.HTTPError as exc:
    print(exc.read().decode() or exc, file=sys.stderr)
    sys.exit(1)
except OSError as exc:
    print(f"web not answering: {exc}", file=sys.stderr)
    sys.exit(1)
PY
        ;;
      worker)
        exec celery -A connect inspect ping --timeout 5 -d "celery@$(hostname)" ;;
      *)
        exit 0 ;;  # beat, the sealer and the demo processes: the container lives as long as the process
    esac ;;
  *)
    echo "connect: unknown process '$process'; one of: web worker beat sealer migrate manage mail connectors healthcheck" >&2
    exit 64 ;;
esac
