#!/bin/sh
# Writes random keys for compose.yaml into deploy/compose/secrets/ (mode 600), keeping any that exist:
# the evidence and ledger keys must never change under existing data. Back the folder up apart from the data.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
random() { python3 -c "import base64, os, sys; sys.stdout.write(base64.$1(os.urandom($2)).decode().rstrip('='))"; }
keep() { [ -s "secrets/$1" ] || { printf '%s' "$2" > "secrets/$1"; echo "wrote secrets/$1"; }; }
keep db_password "$(random urlsafe_b64encode 24)"
keep database_url "postgres://connect:$(cat secrets/db_password)@db:5432/connect"
keep secret_key "$(random urlsafe_b64encode 48)"
keep evidence_key "$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode(), end='')")"
keep ledger_key "$(random urlsafe_b64encode 32)"
keep channel_key "$(python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode(), end='')")"
