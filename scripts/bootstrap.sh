#!/usr/bin/env bash
# Installs what connect needs and is missing: Debian packages, the virtual environment, the project.
# Safe to run again: every step checks first and skips what is done (no apt, no pip when nothing is missing).
#   scripts/bootstrap.sh                 for `make run`: runtime + demo packages (requirements/demo.lock)
#   scripts/bootstrap.sh --test          for `make test`: runtime + demo + test (requirements/test.lock)
#   scripts/bootstrap.sh --missing [--test]   only prints the system packages that would be installed
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
mode="demo"
print_only=false
for arg in "$@"; do
  case "$arg" in
    --test) mode="test" ;;
    --missing) print_only=true ;;
    *) echo "usage: $0 [--test] [--missing]" >&2; exit 2 ;;
  esac
done

# Version-free names, so Debian 12/13 and Ubuntu 22.04/24.04 each get their own PostgreSQL's PostGIS. Some are
# virtual on some releases (postgresql-contrib on Debian 13 is provided by postgresql-17): a package counts as
# present when it, or an installed package that provides it, is installed.
DEB_PACKAGES=(python3 python3-venv postgresql postgresql-postgis postgresql-contrib redis-server gdal-bin libgdal-dev
              libgeos-dev libproj-dev)
# Browser tests drive Chromium; only `make test` needs it. Ubuntu's chromium package is a snap, which neither
# works in containers nor under Playwright: there, scripts/chromium.sh finds another (Playwright's own).
# The deployment tests build and run the container image (podman, runc, iptables for its networks, and mmdebstrap
# for a Debian base where no registry answers), bring compose.yaml up (podman-compose, with the CNI plugin that
# gives a compose network its DNS: containers find `db` and `redis` by name) and check it (docker-compose), and
# lint the shell (shellcheck). None starts a service.
# nginx is not installed for them: Debian's package starts a server on port 80 (tests/deploy/test_nginx.py skips,
# saying so, without it).
# The camera connector's tests read a real RTSP camera: GStreamer's RTSP server run by Debian's python3
# (videotestsrc, x264enc, rtph264pay).
TEST_PACKAGES=(fonts-dejavu-core podman runc iptables mmdebstrap podman-compose
               golang-github-containernetworking-plugin-dnsname docker-compose shellcheck
               python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
               gstreamer1.0-plugins-ugly)
if [ "$mode" = test ]; then
  DEB_PACKAGES+=("${TEST_PACKAGES[@]}")
  # The accessibility tests inject axe-core from the npm registry (tests/browser/package-lock.json): npm from
  # Debian unless a Node.js with its own npm (NodeSource's, say) is already there.
  command -v npm >/dev/null || DEB_PACKAGES+=(npm)
  grep -qx 'ID=ubuntu' /etc/os-release 2>/dev/null || DEB_PACKAGES+=(chromium)
fi

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
  - Chromium (browser tests only; or set CONNECT_TEST_CHROMIUM to a Chrome or Chromium binary)
MSG
    exit 1
  fi
}

# Every installed package's name and what it provides, one name a line.
installed_names() {
  dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null |
    awk -F'|' '$1 ~ /^ii/ { print $2; n = split($3, provided, /, */); for (i = 1; i <= n; i++) { sub(/ .*/, "", provided[i]); if (provided[i] != "") print provided[i] } }'
}

missing_packages() {
  local have
  have=$(installed_names)
  for pkg in "${DEB_PACKAGES[@]}"; do
    grep -qxF "$pkg" <<<"$have" || echo "$pkg"
  done
}

install_system_packages() {
  need_debian
  local missing
  mapfile -t missing < <(missing_packages)
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "connect: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  # Installing postgresql or redis-server starts Debian's own services (ports 5432, 6379): connect neither uses
  # nor stops them; they stay as apt left them.
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_env() {
  if [ ! -x .venv/bin/python ]; then
    say "creating the virtual environment (.venv)"
    "$PYTHON" -m venv .venv
  fi
  # Reinstall only when the lock or the project description changed. test.lock holds every version demo.lock
  # does, so a test install also stands for a demo one.
  local lock=requirements/$mode.lock
  local want
  want=$(cat "$lock" pyproject.toml connector/pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ "$(cat ".venv/.connect-installed-$mode" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages from $lock"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q --require-hashes -r "$lock"
    .venv/bin/python -m pip install -q --no-deps -e .
    # The camera connector is its own package (connector/, what owners install); the server runs it from here.
    .venv/bin/python -m pip install -q --no-deps -e ./connector
    echo "$want" > ".venv/.connect-installed-$mode"
    if [ "$mode" = test ]; then
      cat requirements/demo.lock pyproject.toml connector/pyproject.toml | sha256sum | cut -d' ' -f1 > .venv/.connect-installed-demo
    fi
  fi
}

if $print_only; then
  missing_packages
  exit 0
fi
# axe-core for the browser tests, exactly as locked (npm ci checks each file's integrity hash); again only when the
# lock changed.
install_browser_test_packages() {
  local want
  want=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
  if [ "$(cat tests/browser/node_modules/.connect-installed 2>/dev/null)" != "$want" ]; then
    say "installing the browser tests' npm packages (axe-core)"
    npm ci --prefix tests/browser --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
    echo "$want" > tests/browser/node_modules/.connect-installed
  fi
}

install_system_packages
install_python_env
if [ "$mode" = test ]; then
  install_browser_test_packages
fi
