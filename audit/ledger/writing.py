"""Writing the ledger: `record()` and `record_many()` insert pending entries in the caller's transaction, without
any lock, and ask for a seal once that transaction has committed (`transaction.on_commit`, which in autocommit
runs at once). A rolled-back transaction leaves nothing behind, and its seal never runs."""

import functools
import json
import os
import re
import time
import uuid
import weakref

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from audit.actions import Action
from audit.chain import PENDING_FIELDS, pending_mac
from audit.ledger import sealer, sealing

_INSERT_CHUNK = 1000  # rows per multi-row INSERT
_TEXT = ("actor_label", "action", "target_type", "target_code", "camera_code", "owner_code", "incident_code",
         "case_number", "reason")
# The staff member's role(s) at the time ("unit"), read by the INSERT itself (audit/sql/audit_actor_unit.sql):
# it saves the round trip a query from here would cost.
_ROW = f"({', '.join(['%s'] * (len(PENDING_FIELDS) + 2))}, audit_actor_unit(%s))"
_ROW_NO_USER = f"({', '.join(['%s'] * (len(PENDING_FIELDS) + 2))}, '')"  # the system, 'owner': no roles
# The SQL types of _ROW's parameters, in order (pending_insert_select).
_PARAMETER_TYPES = ("uuid", "timestamptz", "bigint", *["text"] * 9, "jsonb", "text", "bigint")
_INSERT = f"INSERT INTO audit_pendingentry (id, {', '.join(PENDING_FIELDS)}, mac, unit) VALUES "

# Per connection, the ids recorded in its current transaction and not yet sealed: every record() in a transaction
# asks for a seal after commit, and the first of those to run seals them all (the list leaves this map), so a
# transaction seals once however much it records. A list left by a rolled-back transaction is taken over by the
# next one: its ids are simply never pending.
_unsealed: "weakref.WeakKeyDictionary[object, list[str]]" = weakref.WeakKeyDictionary()


def entry(
    *, actor, action: Action, target_type: str = "", target_code="", camera_code="", owner_code="",
    incident_code="", case_number: str = "", reason: str = "", **detail,
) -> dict:
    """The values of one ledger entry, not yet written: for `record_many`. The actor's role ("unit" in
    `detail`) is added when it is written."""
    actor_id, actor_label = _label(actor)
    values = {
        "actor_id": actor_id, "actor_label": actor_label, "action": Action(action).value,  # undeclared: ValueError
        "target_type": target_type, "target_code": str(target_code or ""), "camera_code": str(camera_code or ""),
        "owner_code": str(owner_code or ""), "incident_code": str(incident_code or ""), "case_number": case_number,
        "reason": reason, "detail": detail,
    }
    # Looking is cheaper than rebuilding every entry.
    if any(isinstance(values[name], str) and "\x00" in values[name] for name in _TEXT):
        values = _nul_free(values)
    return values


def record(*, actor, action: Action, **fields) -> None:
    """Records one entry. `actor` is a user, a label such as 'owner', or None for the system.

    Returns nothing: the entry gets its place in the chain (`seq`, hashes) only when sealed. Read the ledger
    through audit.selectors."""
    record_many([entry(actor=actor, action=action, **fields)])


def record_many(entries: list[dict]) -> None:
    """Records entries in one go (purges write thousands): multi-row INSERTs, sealed together."""
    ids, statements = _inserts(entries)
    if not ids:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)
    _seal_after_commit(ids)


async def record_many_on_loop(connection, entries: list[dict], *, run) -> None:
    """record_many() on an event loop's own autocommit psycopg connection (api.loop_database): the same rows,
    committed when this returns, without a thread hop. The seal is asked for as record_many()'s commit asks for it;
    its lookups, when this process's last look for the sealer is stale, on `run(function, *args)` (a database
    thread, awaitable)."""
    ids, statements = _inserts(entries)
    if not ids:
        return
    # Django's cursors bind parameters on the client: the same here, so the rows are the same.
    async with psycopg.AsyncClientCursor(connection) as cursor:
        if len(statements) == 1:  # autocommit: one round trip, committed
            await cursor.execute(*statements[0])
        else:
            async with connection.transaction():
                for statement, params in statements:
                    await cursor.execute(statement, params)
    await seal_after_loop_write(ids, run=run)


async def seal_after_loop_write(ids: list[str], *, run) -> None:
    """The seal a committed write on an event loop's connection asks for, as record_many()'s commit does: none while
    the sealer process runs (it chains them within milliseconds). Lookups and the seal on `run` (a database
    thread), the first only when this process's last look for the sealer is stale."""
    running = sealer.sealer_running_known()
    if running is None:
        running = await run(sealer.sealer_running)
    if not running:
        await run(functools.partial(sealing.seal_quietly, own=ids))


def pending_insert_select(values: dict, *, condition: str, prefix: str = "ledger_") -> tuple[str, dict, str]:
    """One entry (entry()'s values) as `INSERT INTO ... SELECT ... WHERE <condition>`, with named parameters
    (`%(<prefix>N)s`), for a caller that writes it in the same statement as what decides whether it is written (the
    staff map's fast route: its checks and its read). Returns (the statement, its parameters, the pending id). The
    row is record_many()'s; once the statement has committed, ask for the seal (seal_after_loop_write) if it wrote."""
    pending_id = _time_ordered_uuid()
    template, params = _row(values, pending_id, timezone.now())
    statement = f"{_INSERT.removesuffix(' VALUES ')} SELECT {_typed_select_list(template, prefix)} WHERE {condition}"
    return statement, dict(zip(_parameter_names(prefix, len(params)), params, strict=True)), pending_id


@functools.cache  # two row templates (with a user or not), one prefix per caller: built once, not per request
def _typed_select_list(template: str, prefix: str) -> str:
    """`template`'s values with named parameters, typed, as a SELECT's parameters get no type from the columns they
    go into (a VALUES row's do): so the statement can be bound on the server and prepared once."""
    names = iter(enumerate(_PARAMETER_TYPES))
    return re.sub(r"%s", lambda _: "%({}{})s::{}".format(prefix, *next(names)), template[1:-1])


@functools.cache
def _parameter_names(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(count))


def _inserts(entries: list[dict]) -> tuple[list[str], list[tuple[str, list]]]:
    """(the new pending ids, the INSERT statements with their parameters) that write `entries`."""
    if not entries:
        return [], []
    now = timezone.now()  # the time of the event, whenever it is sealed
    # Sealing takes entries in (at, id) order; sorted ids keep these, which share `at`, in the order given.
    ids = sorted(_time_ordered_uuid() for _ in entries)
    rows = [_row(values, pending_id, now) for values, pending_id in zip(entries, ids, strict=True)]
    statements = []
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start:start + _INSERT_CHUNK]
        statements.append((_INSERT + ", ".join(template for template, _ in chunk),
                           [param for _, params in chunk for param in params]))
    return ids, statements


def _row(values: dict, pending_id: str, now) -> tuple[str, list]:
    # JSON round trip so the MAC and the hash cover exactly what the database will give back.
    detail_json = json.dumps(values["detail"], default=str)
    if "\\u0000" in detail_json:  # a NUL somewhere in it (or a user's literal "\u0000": harmless)
        detail_json = json.dumps(_nul_free(json.loads(detail_json)))
    values = {**values, "at": now, "detail": json.loads(detail_json)}
    params = [pending_id, *[values[name] for name in PENDING_FIELDS[:-1]], detail_json,
              pending_mac(values, pending_id)]
    if values["actor_id"] is None:
        return _ROW_NO_USER, params
    return _ROW, [*params, values["actor_id"]]


def _seal_after_commit(ids: list[str]) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block and not connection.get_autocommit():
        return  # the caller manages its transaction by hand: the next seal after its commit takes them
    unsealed = _unsealed.setdefault(connection, [])
    unsealed.extend(ids)
    # robust: the caller's transaction has committed; a failed seal leaves the entries pending for the next.
    transaction.on_commit(functools.partial(_seal_once, connection, unsealed), robust=True)


def _seal_once(connection, unsealed: list[str]) -> None:
    if _unsealed.get(connection) is not unsealed:
        return  # an earlier callback of the same transaction sealed them
    del _unsealed[connection]
    if not sealer.sealer_running():  # else the sealer process chains them within milliseconds
        sealing.seal_quietly(own=unsealed)


def _time_ordered_uuid() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (the layout of UUIDv7): new pending entries, and
    the chain's `pending_id`, go at the end of their indexes instead of at random places in them, which
    spares the database a page write (and a full-page image in the WAL) per entry."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def _label(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def _nul_free(value):
    """PostgreSQL text and JSONB cannot hold NUL characters, and entries often quote what a user typed (a
    search, a query string): a NUL becomes U+FFFD, so the entry is kept and shows something was there."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_nul_free(key): _nul_free(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nul_free(item) for item in value]
    return value
