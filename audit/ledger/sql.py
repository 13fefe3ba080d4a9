"""The ledger's SQL (functions and triggers), one file per function under audit/sql/, and the migration operation
that loads them."""

import hashlib
from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def definition(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def digest(name: str) -> str:
    return hashlib.sha256((SQL_DIR / f"{name}.sql").read_bytes()).hexdigest()


class LoadSQL(migrations.RunSQL):
    """Creates or replaces functions and triggers from audit/sql/<name>.sql.

    `files` maps each name to the file's SHA-256 when the migration was written. A test holds the newest
    migration loading each file to its current digest, so an edited file needs a new migration that loads it
    again. (On a new database an older migration runs the file as it is now; the newer one then loads it again.)"""

    def __init__(self, files: dict[str, str], reverse_sql=None):
        self.files = dict(files)
        super().__init__([definition(name) for name in self.files], reverse_sql)

    def deconstruct(self):
        kwargs = {"files": self.files}
        if self.reverse_sql is not None:
            kwargs["reverse_sql"] = self.reverse_sql
        return self.__class__.__name__, [], kwargs
