#!/bin/sh
# Writes random keys for compose.yaml into deploy/compose/secrets/, keeping any that exist: the evidence and
# ledger keys must never change under existing data. Back the folder up apart from the data.
# The folder is the owner's alone (700); the files in it are readable (644) because compose mounts each one into
# its containers as it is, where connect's user and PostgreSQL's must read them.
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets
random() { python3 -c "import base64, os, sys; sys.stdout.write(base64.$1(os.urandom($2)).decode().rstrip('='))"; }
keep() {
  [ -s "secrets/$1" ] || { printf '%s' "$2" > "secrets/$1"; echo "wrote secrets/$1"; }
  chmod 644 "secrets/$1"
}
keep db_password "$(random urlsafe_b64encode 24)"
keep database_url "postgres://connect:$(cat secrets/db_password)@db:5432/connect"
keep secret_key "$(random urlsafe_b64encode 48)"
keep evidence_key "$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode(), end='')")"
keep ledger_key "$(random urlsafe_b64encode 32)"
keep channel_key "$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode(), end='')")"
