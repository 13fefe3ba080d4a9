"""The ledger's SQL lives in audit/sql/, one file per function: the database runs exactly what the files say, and
a file edited without a migration that loads it again is caught here."""

import re

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from audit.ledger.locks import COMMIT_LOCK, LEDGER_LOCK
from audit.ledger.sql import SQL_DIR, LoadSQL, digest

pytestmark = pytest.mark.django_db

FUNCTION = re.compile(r"CREATE OR REPLACE FUNCTION\s+(\w+)\s*\(.*?\bAS \$\$(.*?)\$\$(.*?);", re.S)
TRIGGER = re.compile(r"CREATE OR REPLACE TRIGGER\s+(\w+)\s.*?\bON\s+(\w+)\s.*?EXECUTE FUNCTION\s+(\w+)\(", re.S)
VOLATILITY = {"STABLE": "s", "IMMUTABLE": "i"}


def normalised(text: str) -> str:
    return " ".join(text.split())


def files() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted(SQL_DIR.glob("*.sql"))}


def declared_functions() -> dict[str, tuple[str, list[str], str]]:
    """name -> (body, settings, volatility) as the files declare them."""
    functions = {}
    for text in files().values():
        for name, body, tail in FUNCTION.findall(text):
            tail = re.sub(r"--[^\n]*", "", tail)
            settings = [f"{key}={value}" for key, value in re.findall(r"\bSET\s+(\w+)\s*=\s*(\w+)", tail)]
            volatility = next((code for word, code in VOLATILITY.items() if word in tail.split()), "v")
            functions[name] = (normalised(body), settings, volatility)
    return functions


def test_every_ledger_function_in_the_database_is_the_one_its_file_declares():
    with connection.cursor() as cursor:
        cursor.execute("SELECT p.proname, p.prosrc, coalesce(p.proconfig, '{}'), p.provolatile FROM pg_proc p "
                       "JOIN pg_namespace n ON n.oid = p.pronamespace "
                       "WHERE n.nspname = current_schema() AND p.proname LIKE 'audit\\_%%'")
        in_database = {name: (normalised(source), list(config), volatility)
                       for name, source, config, volatility in cursor.fetchall()}
    declared = declared_functions()
    assert len(declared) == len(list(SQL_DIR.glob("*.sql")))  # one function per file
    assert in_database == declared


def test_every_ledger_trigger_in_the_database_is_declared_in_a_file():
    declared = {(name, table, function) for text in files().values() for name, table, function in TRIGGER.findall(text)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT t.tgname, c.relname, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND c.relname LIKE 'audit\\_%%'")
        in_database = set(cursor.fetchall())
    assert in_database == declared
    assert {name for name, _, _ in declared} >= {"audit_ledger_append_only", "audit_ledger_no_truncate",
                                                 "audit_pending_no_truncate", "audit_pending_sealed_only",
                                                 "audit_pending_no_update"}


def test_each_sql_file_is_loaded_by_a_migration_at_its_current_content():
    """Edit a file in audit/sql/ and add a migration with LoadSQL({name: new digest}): existing databases only
    get the new definition through a migration."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaf = max(node for node in loader.graph.leaf_nodes() if node[0] == "audit")
    loaded = {}
    for key in loader.graph.forwards_plan(leaf):
        if key[0] != "audit":
            continue
        for operation in loader.graph.nodes[key].operations:
            if isinstance(operation, LoadSQL):
                loaded.update(operation.files)
    current = {name: digest(name) for name in files()}
    stale = {name: f"loaded at {loaded.get(name, 'no migration')[:12]}, now {sha[:12]}"
             for name, sha in current.items() if loaded.get(name) != sha}
    assert not stale, f"audit/sql files changed without a migration that loads them again: {stale}"


def test_the_sql_takes_the_locks_python_names():
    numbers = {int(n) for text in files().values() for n in re.findall(r"pg_\w*advisory\w*\((\d+)\)", text)}
    assert numbers == {LEDGER_LOCK, COMMIT_LOCK}
