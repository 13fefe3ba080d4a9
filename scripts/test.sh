#!/usr/bin/env bash
# `make test`: the same bootstrap as `make run` (plus Chromium), then every test against real PostGIS and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh --test
scripts/services.sh start
eval "$(scripts/services.sh env)"
# pytest exits non-zero when a test fails and when no test was collected (exit code 5).
# Tests use their own Redis database, so a running `make run` worker never answers their pings.
export CONNECT_REDIS_URL="${CONNECT_REDIS_URL%/*}/15"
.venv/bin/python -m pytest "$@"
