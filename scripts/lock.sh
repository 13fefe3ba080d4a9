#!/usr/bin/env bash
# Writes the hash-pinned locks in requirements/ from pyproject.toml:
#   runtime.lock  the [project] dependencies: what production and the container image install
#   demo.lock     runtime + the demo extra (the mail sink, honcho): what `make run` installs
#   test.lock     runtime + demo + test: what `make test` installs
# Run it after changing dependencies in pyproject.toml (or after merging branches that did). Versions already
# in the locks are kept; `scripts/lock.sh --upgrade` moves everything to the newest allowed versions.
# uv resolves; it is installed into a throwaway virtual environment, never into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PYTHON=${PYTHON:-python3}
upgrade=()
case "${1:-}" in
  "") ;;
  --upgrade) upgrade=(--upgrade) ;;
  *) echo "usage: $0 [--upgrade]" >&2; exit 2 ;;
esac

tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install -q "uv==$UV_VERSION"

# One resolution for every Python connect supports (--universal writes markers where they differ), with a
# hash for every file of each pinned version, so pip's --require-hashes accepts them on any of those machines.
compile() {
  local out=$1
  shift
  "$tools/venv/bin/uv" pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
    --no-emit-package connect --custom-compile-command "scripts/lock.sh" --output-file "$out" "$@"
}

mkdir -p requirements
# The widest set first; the narrower locks are constrained to its versions, so run, test and the image
# install the same version of every package they share.
compile requirements/test.lock --extra demo --extra test "${upgrade[@]}"
compile requirements/demo.lock --extra demo --constraint requirements/test.lock
compile requirements/runtime.lock --constraint requirements/test.lock
echo "connect: wrote requirements/runtime.lock, demo.lock and test.lock"
