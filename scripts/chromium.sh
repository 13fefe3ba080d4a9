#!/usr/bin/env bash
# Prints the path of a Chromium the browser tests can drive, or says exactly what to do and exits 1.
# Looks at CONNECT_TEST_CHROMIUM, then Debian's chromium, then Playwright's own build (downloading it where the
# internet allows). Ubuntu's chromium package is a snap wrapper that Playwright cannot drive: it is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

works() {
  local path=$1 real
  [ -x "$path" ] || return 1
  real=$(readlink -f "$path")
  case "$real" in /snap/*) return 1 ;; esac
  # The snap wrapper is a shell script that points at /snap; a real browser is a binary.
  if head -c 2 "$real" | grep -q '#!' && grep -q snap "$real"; then return 1; fi
  timeout 60 "$path" --version >/dev/null 2>&1
}

playwright_chromium() {
  .venv/bin/python - <<'PY' 2>/dev/null
from pathlib import Path
from playwright.sync_api import sync_playwright
with sync_playwright() as playwright:
    path = playwright.chromium.executable_path
print(path if Path(path).exists() else "")
PY
}

if [ -n "${CONNECT_TEST_CHROMIUM:-}" ]; then
  works "$CONNECT_TEST_CHROMIUM" && { echo "$CONNECT_TEST_CHROMIUM"; exit 0; }
  echo "connect: CONNECT_TEST_CHROMIUM=$CONNECT_TEST_CHROMIUM does not run (\`$CONNECT_TEST_CHROMIUM --version\` failed)." >&2
  exit 1
fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  works "$candidate" && { echo "$candidate"; exit 0; }
done
found=$(playwright_chromium || true)
if [ -z "$found" ] && [ -x .venv/bin/python ]; then
  echo "connect: no system Chromium; fetching Playwright's (.venv/bin/python -m playwright install chromium)" >&2
  .venv/bin/python -m playwright install chromium >&2 || true
  found=$(playwright_chromium || true)
fi
if [ -n "$found" ] && works "$found"; then
  echo "$found"
  exit 0
fi
cat >&2 <<'MSG'
connect: the browser tests need a Chromium that Playwright can drive, and none was found. Do one of:
  - Debian: apt-get install chromium
  - Ubuntu (its chromium package is a snap, which Playwright cannot drive), or any machine with internet access:
      .venv/bin/python -m playwright install --with-deps chromium
  - point at a Chrome or Chromium you have: export CONNECT_TEST_CHROMIUM=/path/to/chrome
Then run `make test` again.
MSG
exit 1
