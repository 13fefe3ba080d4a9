"""The database part: pg_dump's custom format of connect's database, taken from one snapshot shared with the
manifest's facts (schema, ledger head, keys in use), and restored by pg_restore in one transaction (all or
nothing). The PostGIS extension is left as the target database has it: dropping it would pull the geography
type from under every open connection."""

import os
import subprocess
from pathlib import Path

from django.db import connection

DUMP = "database.dump"


class DatabaseToolError(Exception):
    """pg_dump or pg_restore failed; the message carries what it said."""


def _environment() -> dict[str, str]:
    database = connection.settings_dict
    environment = dict(os.environ)  # PATH, locale: the client tools need them
    for variable, value in (("PGHOST", database["HOST"]), ("PGPORT", database["PORT"]),
                            ("PGUSER", database["USER"]), ("PGPASSWORD", database["PASSWORD"]),
                            ("PGDATABASE", database["NAME"]),
                            ("PGSSLMODE", database.get("OPTIONS", {}).get("sslmode", ""))):
        if value:
            environment[variable] = str(value)
    return environment


def _run(arguments: list[str]) -> str:
    try:
        done = subprocess.run(arguments, env=_environment(), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise DatabaseToolError(f"{arguments[0]} is not installed (apt install postgresql-client)") from None
    if done.returncode != 0:
        raise DatabaseToolError(f"{arguments[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def dump(target: Path, *, snapshot: str) -> None:
    """Writes the custom-format dump of the snapshot `snapshot` (pg_export_snapshot) to `target`."""
    _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
          f"--file={target}"])


def restore(source: Path) -> None:
    """Replaces connect's tables with the dump's, in one transaction: on any error nothing changes."""
    listing = _run(["pg_restore", "--list", str(source)])
    kept = [line for line in listing.splitlines()
            if not (" EXTENSION " in line or line.startswith(";"))]
    list_file = source.with_name(source.name + ".list")
    list_file.write_text("\n".join(kept) + "\n")
    try:
        _run(["pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner",
              "--no-privileges", f"--use-list={list_file}", f"--dbname={connection.settings_dict['NAME']}",
              str(source)])
    finally:
        list_file.unlink(missing_ok=True)
