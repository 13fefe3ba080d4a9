#!/usr/bin/env bash
# `make test`: the same bootstrap as `make run` (plus the test packages and Chromium), then every test against
# real PostGIS and Redis. Stops the private services it started; leaves running those it found running.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh ports  # a port another checkout holds is named now, not after the install
scripts/bootstrap.sh --test
# shellcheck source=scripts/stop-started.sh
source scripts/stop-started.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
# Tests use their own Redis database, so a running `make run` worker never answers their pings.
export CONNECT_REDIS_URL="${CONNECT_REDIS_URL%/*}/15"
if chromium=$(scripts/chromium.sh); then
  export CONNECT_TEST_CHROMIUM=$chromium
else
  echo "connect: the browser tests (tests/browser) will fail until then; the others run now." >&2
fi
# pytest exits non-zero when a test fails and when no test was collected (exit code 5).
.venv/bin/python -m pytest "$@"
