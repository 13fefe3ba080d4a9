"""The database part: pg_dump's custom format of connect's database, taken from one snapshot shared with the
manifest's facts (schema, ledger head, keys in use), and restored by pg_restore in one transaction (all or
nothing). The PostGIS extension is left as the target database has it: dropping it would pull the geography
type from under every open connection."""

import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

DUMP = "database.dump"


class DatabaseToolError(Exception):
    """pg_dump or pg_restore failed; the message carries what it said."""


def _conninfo_value(value) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _passfile_field(value) -> str:
    return str(value).replace("\\", "\\\\").replace(":", "\\:")


@contextmanager
def _conninfo():
    """A libpq connection string for connect's database. The password goes through a passfile readable by this
    user only, never onto the command line (where `ps` would show it)."""
    database = connection.settings_dict
    fields = {"host": database["HOST"], "port": database["PORT"], "user": database["USER"],
              "dbname": database["NAME"], "sslmode": database.get("OPTIONS", {}).get("sslmode", "")}
    with tempfile.TemporaryDirectory(prefix="connect-pg-") as folder:
        if database["PASSWORD"]:
            passfile = Path(folder) / "pgpass"
            passfile.write_text(":".join(_passfile_field(value or "*") for value in (
                fields["host"], fields["port"], fields["dbname"], fields["user"], database["PASSWORD"])) + "\n")
            passfile.chmod(0o600)
            fields["passfile"] = str(passfile)
        yield " ".join(f"{name}={_conninfo_value(value)}" for name, value in fields.items() if value)


def _run(arguments: list[str]) -> str:
    try:
        done = subprocess.run(arguments, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise DatabaseToolError(f"{arguments[0]} is not installed (apt install postgresql-client)") from None
    if done.returncode != 0:
        raise DatabaseToolError(f"{arguments[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def dump(target: Path, *, snapshot: str) -> None:
    """Writes the custom-format dump of the snapshot `snapshot` (pg_export_snapshot) to `target`."""
    with _conninfo() as conninfo:
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
              f"--file={target}", f"--dbname={conninfo}"])


def restore(source: Path) -> None:
    """Replaces connect's tables with the dump's, in one transaction: on any error nothing changes."""
    listing = _run(["pg_restore", "--list", str(source)])
    kept = [line for line in listing.splitlines()
            if not (" EXTENSION " in line or line.startswith(";"))]
    list_file = source.with_name(source.name + ".list")
    list_file.write_text("\n".join(kept) + "\n")
    try:
        with _conninfo() as conninfo:
            _run(["pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner",
                  "--no-privileges", f"--use-list={list_file}", f"--dbname={conninfo}", str(source)])
    finally:
        list_file.unlink(missing_ok=True)
