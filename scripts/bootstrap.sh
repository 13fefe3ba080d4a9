#!/usr/bin/env bash
# Installs what connect needs and is missing: Debian packages, the virtual environment, the project.
# Safe to run again: every step checks first and skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# Version-free names, so Debian 12/13 and Ubuntu 22.04/24.04 each get their own PostgreSQL's PostGIS.
DEB_PACKAGES=(python3 python3-venv postgresql postgresql-postgis postgresql-contrib redis-server gdal-bin libgdal-dev
              libgeos-dev libproj-dev)
# Browser tests drive Debian's Chromium; the camera connector's tests read a real RTSP camera, GStreamer's RTSP
# server run by Debian's python3 (videotestsrc, x264enc, rtph264pay). Only `make test` needs them.
TEST_PACKAGES=(chromium fonts-dejavu-core
               python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
               gstreamer1.0-plugins-ugly)
[ "${1:-}" = "--test" ] && DEB_PACKAGES+=("${TEST_PACKAGES[@]}")

say() { printf '\033[1mconnect:\033[0m %s\n' "$*"; }

need_debian() {
  if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then
    cat >&2 <<MSG
connect: this is not a Debian or Ubuntu system, so 'make' cannot install system packages for you.
Install these yourself, then run the command again:
  - Python 3.11 or newer with venv
  - PostgreSQL 15 with PostGIS 3 (or set CONNECT_DATABASE_URL to an existing PostGIS database)
  - Redis 7 (or set CONNECT_REDIS_URL)
  - GDAL, GEOS and PROJ libraries (GeoDjango needs them)
  - Chromium at /usr/bin/chromium (browser tests only)
MSG
    exit 1
  fi
}

install_system_packages() {
  need_debian
  local missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "connect: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_env() {
  if [ ! -x .venv/bin/python ]; then
    say "creating the virtual environment (.venv)"
    "$PYTHON" -m venv .venv
  fi
  # Reinstall only when the lock or the project description changed.
  local stamp=.venv/.connect-installed
  local want
  want=$(cat requirements.lock pyproject.toml connector/pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Python packages from requirements.lock"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r requirements.lock
    .venv/bin/python -m pip install -q --no-deps -e .
    # The camera connector is its own package (connector/, what owners install); the server runs it from here.
    .venv/bin/python -m pip install -q --no-deps -e ./connector
    echo "$want" > "$stamp"
  fi
}

install_system_packages
install_python_env
