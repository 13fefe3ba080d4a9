# shellcheck shell=bash
# Sourced by run.sh and test.sh after bootstrap: on exit, stop the private services this run started, not those
# it found running (a `make test` in progress, say), even if start failed halfway (Redis's port taken after
# PostgreSQL started).
running_before=$(scripts/services.sh status)
stop_started() {
  local service started=()
  for service in $(scripts/services.sh status); do
    grep -qx "$service" <<<"$running_before" || started+=("$service")
  done
  [ ${#started[@]} -eq 0 ] || scripts/services.sh stop "${started[@]}"
}
trap stop_started EXIT
