"""Sealing: moving pending entries into the hash chain, oldest first, in batches under the ledger's lock.

A round is two statements, each one function (audit/sql/): audit_ledger_seal_begin takes (or tries) the lock and
returns the chain's head with the batch; this module checks each entry's MAC and chains it with an HMAC under
the ledger's key, which the database never sees; audit_ledger_seal_commit moves the batch into the chain.

In autocommit (a writer after its commit, the sealer process, the beat task) the lock is the session's, held from
the first statement to the second, which releases it and says whether entries are still pending. A writer that
finds the lock taken returns at once and leaves its entries to the seal in progress, which looks again after
unlocking and goes on while there are any (for at most SEAL_EXTRA_S once the writer's own are in). Inside a
transaction (a test's, or a caller's own) the lock is the transaction's, waited for.
"""

import json
import logging
import time

from django.db import OperationalError, connection, transaction

from audit.chain import GENESIS, PENDING_FIELDS, entry_digest, pending_mac
from audit.ledger.locks import LEDGER_LOCK
from audit.models import AccessEntry, LedgerCheckpoint

log = logging.getLogger(__name__)

SEAL_BATCH = 1000  # pending entries chained per round
SEAL_EXTRA_S = 0.02  # how long a writer goes on sealing others' entries once its own are in the chain
SEAL_DRAIN_S = 30.0  # the same for the beat task, the sealer process and audit_verify
_BATCH_TAKEN = "40001"  # audit_ledger_seal_commit: another seal took this batch's entries meanwhile
_BEGIN = "SELECT * FROM audit_ledger_seal_begin(%s, %s, %s, %s::uuid[])"
_COMMIT = ("SELECT * FROM audit_ledger_seal_commit(%s, %s::bigint[], %s::uuid[], %s::text[], %s::text[], "
           "%s::uuid[], %s::uuid[])")


def seal() -> int:
    """Seals everything pending (the sealer process, the beat task every minute, audit_verify), waiting for the
    lock if need be; returns how many entries it sealed. Call it outside a transaction: inside one, the lock is
    the transaction's and stays taken until it ends."""
    return _seal(wait=True, extra_s=SEAL_DRAIN_S)


def seal_quietly(*, own: list[str]) -> None:
    """A writer's seal after its commit. A failure is logged, not raised: the entries are committed in the pending
    table, and the next seal (the next writer's, the beat task's) takes them."""
    try:
        _seal(own=own)
    except Exception:
        log.exception("the access ledger could not seal %d entries now; they stay pending for the next seal",
                      len(own))


def chain_head() -> tuple[int, str]:
    """The last entry's seq and hash (or the last checkpoint's, or the genesis)."""
    last = AccessEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    if last:
        return last
    checkpoint = LedgerCheckpoint.objects.order_by("-upto_seq").values_list("upto_seq", "last_hash").first()
    return checkpoint or (0, GENESIS)


def _seal(*, own: list[str] | None = None, wait: bool = False, extra_s: float = SEAL_EXTRA_S) -> int:
    if connection.in_atomic_block or not connection.get_autocommit():
        return _seal_in_transaction()
    sealed, skip, own_done_at = 0, [], None
    with connection.cursor() as cursor:
        while True:
            try:
                result = _seal_round(cursor, wait=wait, skip=skip, own=own)
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != _BATCH_TAKEN:
                    raise
                _log_batch_taken(cursor, exc)
                return sealed  # that seal goes on with whatever is pending
            wait = False  # later rounds only try: a seal in progress takes what is pending
            if result is None:
                return sealed
            count, more, own_pending = result
            sealed += count
            if not more:
                return sealed
            if not own_pending:
                own_done_at = own_done_at or time.monotonic()
                if time.monotonic() - own_done_at > extra_s:
                    return sealed  # the next writer takes the rest (or the beat task)


def _seal_round(cursor, *, wait: bool, skip: list[str], own: list[str] | None) -> tuple[int, bool, bool] | None:
    """One batch with the lock held for the session. Returns None if a seal was in progress, else (how many
    sealed, whether entries are pending after the unlock, whether `own` are)."""
    try:
        cursor.execute(_BEGIN, [wait, True, SEAL_BATCH, skip])
        rows = cursor.fetchall()
        if not rows:
            return None  # its audit_ledger_seal_end will see our entries
        cursor.execute(_COMMIT, [True, *_chain(rows, skip), skip, own])
        return cursor.fetchone()
    except BaseException:
        _unlock(cursor)
        raise


def _seal_in_transaction() -> int:
    """Inside a transaction: the lock for the transaction, waited for; batches until one is short."""
    sealed, skip = 0, []
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_BEGIN, [True, False, SEAL_BATCH, skip])
            rows = cursor.fetchall()
            chain = _chain(rows, skip)
            if chain[0]:
                cursor.execute(_COMMIT, [False, *chain, skip, None])
                sealed += cursor.fetchone()[0]
        if sum(1 for row in rows if row[2] is not None) < SEAL_BATCH:
            return sealed


def _chain(rows: list[tuple], skip: list[str]) -> tuple[list[int], list[str], list[str], list[str]]:
    """The chain's columns for a batch from audit_ledger_seal_begin: each entry chained to the one before with
    entry_digest, after its MAC is checked (an entry without a valid one goes to `skip`, never sealed)."""
    seq, prev_hash = rows[0][0], rows[0][1]
    seqs, ids, prev_hashes, entry_hashes = [], [], [], []
    for pending_id, *content, mac, unit in (row[2:] for row in rows if row[2] is not None):
        values = dict(zip(PENDING_FIELDS, content, strict=True))
        detail_text = values["detail"]  # jsonb comes back as text (Django's loader)
        values["detail"] = json.loads(detail_text) if isinstance(detail_text, str) else detail_text
        pending_id = str(pending_id)
        if mac != pending_mac(values, pending_id):
            log.error("pending ledger entry %s does not carry this server's MAC: not sealed (audit_verify reports "
                      "it)", pending_id)
            skip.append(pending_id)
            continue
        if unit:  # as audit_ledger_seal_commit merges it
            values["detail"] = {"unit": unit, **values["detail"]}
        seq += 1
        entry_hash = entry_digest({**values, "seq": seq}, prev_hash)
        seqs.append(seq)
        ids.append(pending_id)
        prev_hashes.append(prev_hash)
        entry_hashes.append(entry_hash)
        prev_hash = entry_hash
    return seqs, ids, prev_hashes, entry_hashes


def _log_batch_taken(cursor, exc: OperationalError) -> None:
    """Says so, with who holds the ledger's lock now: it should not happen, and when it did the log had no clue."""
    cursor.execute("SELECT pg_backend_pid(), current_setting('application_name'), "
                   "(SELECT string_agg(l.pid || ' ' || COALESCE(a.application_name, ''), ', ') "
                   " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                   " AND l.granted AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1)", [LEDGER_LOCK])
    pid, name, holders = cursor.fetchone()
    log.warning("the access ledger's seal on backend %s (%s) left its batch to another seal: %s; the ledger's lock is "
                "held now by: %s", pid, name or "no application name", exc.__cause__, holders or "nobody")


def _unlock(cursor) -> None:
    """After an error: ends the transaction and releases the session's ledger lock, if it holds it."""
    from psycopg.pq import TransactionStatus

    if connection.is_usable():
        if connection.connection.info.transaction_status != TransactionStatus.IDLE:
            cursor.execute("ROLLBACK")
        cursor.execute("SELECT pg_advisory_unlock(%s) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND pid = pg_backend_pid() AND classid = 0 AND objid = %s AND objsubid = 1",
                       [LEDGER_LOCK, LEDGER_LOCK])
