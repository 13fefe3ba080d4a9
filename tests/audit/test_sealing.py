"""Batch sealing: record() writes a pending entry, sealing chains it. One chain under concurrent writers, nothing
from a rolled-back transaction, no lock held for a caller's transaction, and pending entries guarded like the
ledger's own."""

import threading
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.chain import PENDING_FIELDS, pending_mac
from audit.ledger import entry, locks, record, record_many, writing
from audit.ledger import pending as ledger_pending
from audit.ledger import seal as ledger_seal
from audit.ledger import verify as ledger_verify
from audit.models import AccessEntry, PendingEntry
from audit.tasks import ledger_seal_task
from tests.audit.test_ledger import tamper

pytestmark = pytest.mark.django_db


def audit_verify(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()


def actions() -> list[str]:
    return list(AccessEntry.objects.order_by("seq").values_list("action", flat=True))


@pytest.fixture
def no_sealing(monkeypatch):
    """A process that dies right after its entry is committed, before it seals."""
    monkeypatch.setattr(writing, "_seal_after_commit", lambda ids: None)


def pending_row(*, action="clip.viewed", at=None, mac=None) -> str:
    """A pending entry as record() writes it (or, with `mac`, as something else would)."""
    values = entry(actor="someone", action=action, target_code="c1") | {"at": at or timezone.now()}
    pending_id = str(uuid.uuid4())
    PendingEntry.objects.create(id=pending_id, **values, mac=mac or pending_mac(values, pending_id))
    return pending_id


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_chain_without_gaps():
    errors = []

    def writer(n: int):
        try:
            for i in range(40):
                if i % 10 == 3:  # inside a caller's transaction: sealed when it commits
                    with transaction.atomic():
                        record(actor=None, action="ledger.purged", target_code=f"w{n}-{i}")
                        record(actor=None, action="ledger.purged", target_code=f"w{n}-{i}b")
                elif i % 10 == 7:
                    record_many([entry(actor="owner", action="ledger.exported", target_code=f"w{n}-{i}-{k}")
                                 for k in range(5)])
                else:
                    record(actor=None, action="ledger.searched", target_code=f"w{n}-{i}")
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    per_writer = 32 + 4 * 2 + 4 * 5
    seqs = list(AccessEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 4 * per_writer + 1))
    assert PendingEntry.objects.count() == 0
    result = ledger_verify()
    assert result.ok and result.checked == 4 * per_writer
    codes = set(AccessEntry.objects.values_list("target_code", flat=True))
    assert {f"w{n}-{i}" for n in range(4) for i in range(40) if i % 10 != 7} <= codes
    assert AccessEntry.objects.filter(pending_id__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_entry_recorded_in_a_transaction_is_sealed_when_it_commits():
    with transaction.atomic():
        record(actor=None, action="camera.registered")
        assert (PendingEntry.objects.count(), AccessEntry.objects.count()) == (1, 0)
    assert (PendingEntry.objects.count(), actions()) == (0, ["camera.registered"])


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        record(actor=None, action="api.token_revoked")
        raise RuntimeError("the caller fails")
    with transaction.atomic():
        record(actor=None, action="api.token_created")
        try:
            with transaction.atomic():
                record(actor=None, action="mfa.recovery_code_used")
                raise RuntimeError("a savepoint fails")
        except RuntimeError:
            pass
    ledger_seal()
    assert actions() == ["api.token_created"]
    assert PendingEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_entry_recorded_after_a_rolled_back_savepoint_is_sealed_when_the_transaction_commits():
    """The seal the first entry asked for goes with its savepoint; the entry after it asks again."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record(actor=None, action="mfa.recovery_code_used")
                raise RuntimeError("a savepoint fails")
        except RuntimeError:
            pass
        record(actor=None, action="api.token_created")
    assert (PendingEntry.objects.count(), actions()) == (0, ["api.token_created"])


@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_does_not_hold_up_other_writers():
    """The camera import records inside its transaction: a sign-in meanwhile is not kept waiting."""
    recorded, release = threading.Event(), threading.Event()

    def importer():
        try:
            with transaction.atomic():
                record(actor=None, action="camera.registered")
                recorded.set()
                release.wait(10)
        finally:
            connection.close()

    def sign_in():
        try:
            record(actor=None, action="signin.succeeded")
        finally:
            connection.close()

    long_transaction = threading.Thread(target=importer)
    long_transaction.start()
    assert recorded.wait(10)
    other = threading.Thread(target=sign_in)
    other.start()
    other.join(5)
    done_meanwhile = not other.is_alive()
    release.set()
    long_transaction.join()
    other.join()
    assert done_meanwhile
    # Chain order is sealing order; `at` is when record() was called.
    first, second = AccessEntry.objects.order_by("seq")
    assert (first.action, second.action) == ("signin.succeeded", "camera.registered")
    assert second.at < first.at
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_finds_a_seal_in_progress_leaves_its_entry_to_it():
    """It does not wait; the seal in progress looks again after unlocking, finds the entry, and goes on."""
    import psycopg

    params = connection.settings_dict
    sealer = psycopg.connect(dbname=params["NAME"], host=params["HOST"], port=params["PORT"], user=params["USER"],
                             password=params["PASSWORD"], autocommit=True)
    try:
        sealer.execute("SELECT pg_advisory_lock(%s)", [locks.LEDGER_LOCK])
        started = time.monotonic()
        record(actor=None, action="mfa.enrolled")
        assert time.monotonic() - started < 2
        assert (PendingEntry.objects.count(), AccessEntry.objects.count()) == (1, 0)
        more, own_pending = sealer.execute("SELECT * FROM audit_ledger_seal_end('{}', NULL)").fetchone()
        assert (more, own_pending) == (True, False)
    finally:
        sealer.close()
    record(actor=None, action="user.roles_changed")  # what the sealer would do next: the lock is free, everything goes
    assert actions() == ["mfa.enrolled", "user.roles_changed"]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_seals_once_however_much_it_records():
    seals = []

    def count(execute, sql, params, many, context):
        seals.extend(name for name in ("INSERT INTO audit_pendingentry", "audit_ledger_seal_b") if name in sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        with transaction.atomic():
            for i in range(120):
                record(actor=None, action="camera.registered", target_code=i + 1)
    assert seals == ["INSERT INTO audit_pendingentry"] * 120 + ["audit_ledger_seal_b"]
    assert AccessEntry.objects.count() == 120
    # Entries recorded in one transaction keep their order in the chain.
    assert list(AccessEntry.objects.order_by("seq").values_list("target_code", flat=True)) == [
        str(i + 1) for i in range(120)]


@pytest.mark.django_db(transaction=True)
def test_entries_left_pending_by_a_crash_are_sealed_by_the_next_writer(monkeypatch):
    monkeypatch.setattr(writing, "_seal_after_commit", lambda ids: None)
    record(actor=None, action="user.changed")
    assert (PendingEntry.objects.count(), AccessEntry.objects.count()) == (1, 0)
    monkeypatch.undo()
    record(actor=None, action="user.roles_changed")
    assert actions() == ["user.changed", "user.roles_changed"]
    assert PendingEntry.objects.count() == 0 and ledger_verify().ok


def test_entries_left_pending_are_sealed_by_the_beat_task(no_sealing, settings):
    record(actor=None, action="user.changed")
    record(actor=None, action="user.created")
    assert (PendingEntry.objects.count(), AccessEntry.objects.count()) == (2, 0)
    assert ledger_seal_task() == "sealed 2 ledger entries"
    assert actions() == ["user.changed", "user.created"]
    assert ledger_seal_task() == "sealed 0 ledger entries"
    schedule = settings.CELERY_BEAT_SCHEDULE["ledger-seal"]
    assert schedule["task"] == "audit.tasks.ledger_seal_task" and schedule["schedule"] == timedelta(minutes=1)


def test_audit_verify_seals_what_is_pending_and_reports_what_waited_too_long(no_sealing):
    record(actor=None, action="account.disabled_inactive")
    pending_row(at=timezone.now() - timedelta(minutes=10))
    code, out, err = audit_verify("--no-seal")
    assert code == 1 and "LEDGER NOT SEALED: 1 entries recorded more than 300 s ago are still pending" in err
    assert AccessEntry.objects.count() == 0

    code, out, err = audit_verify()
    assert code == 0
    assert out == "sealed 2 pending entries\nledger intact: 2 entries verified\n"
    assert "WARNING: 1 entries had waited more than 300 s to be sealed" in err
    assert PendingEntry.objects.count() == 0
    assert audit_verify() == (0, "ledger intact: 2 entries verified\n", "")


@pytest.mark.parametrize("sql", ["UPDATE audit_pendingentry SET action = 'nothing.to.see'",
                                 "DELETE FROM audit_pendingentry"])
def test_the_database_refuses_to_change_or_drop_a_pending_entry(no_sealing, sql):
    record(actor=None, action="clip.downloaded")
    with pytest.raises(DatabaseError, match="UPDATE refused|leave only by being sealed"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql)
    assert PendingEntry.objects.get().action == "clip.downloaded"


def test_a_pending_entry_goes_only_with_an_identical_copy_in_the_chain(no_sealing):
    """Dropping a pending entry takes a chain entry naming it, with the same content; without the key that
    entry cannot carry a valid hash, so audit_verify names it."""
    record(actor=None, action="clip.downloaded", target_code="c1")
    pending = PendingEntry.objects.values().get()
    forged = {name: pending[name] for name in PENDING_FIELDS} | {
        "seq": 1, "prev_hash": "0" * 64, "entry_hash": "f" * 64, "pending_id": pending["id"]}
    with pytest.raises(DatabaseError, match="leave only by being sealed"), transaction.atomic():
        AccessEntry.objects.create(**forged | {"action": "clip.viewed"})  # a different entry does not do
        PendingEntry.objects.all().delete()
    with transaction.atomic():
        AccessEntry.objects.create(**forged)
        PendingEntry.objects.all().delete()
    code, _, err = audit_verify()
    assert code == 1 and "LEDGER TAMPERED: entry 1 was changed after it was written" in err


def test_a_pending_entry_not_written_by_record_is_never_sealed_and_is_named(no_sealing):
    forged = pending_row(action="clip.viewed", mac="0" * 64)
    record(actor=None, action="account.unlocked")
    assert ledger_seal() == 1
    assert actions() == ["account.unlocked"]
    code, _, err = audit_verify()
    assert code == 1 and f"LEDGER TAMPERED: pending entry {forged} (clip.viewed" in err and "no valid MAC" in err


@pytest.mark.django_db(transaction=True)
def test_a_seal_that_finds_only_forged_entries_chains_nothing_and_lets_the_lock_go():
    forged = pending_row(action="clip.viewed", mac="0" * 64)
    assert ledger_seal() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                       [locks.LEDGER_LOCK])
        assert cursor.fetchone()[0] == 0
    record(actor=None, action="account.unlocked")
    assert actions() == ["account.unlocked"]
    assert PendingEntry.objects.filter(id=forged).exists()


def test_a_copy_of_a_sealed_entry_is_not_sealed_again(no_sealing):
    record(actor=None, action="clip.viewed")
    original = PendingEntry.objects.values().get()
    ledger_seal()
    PendingEntry.objects.create(**original)  # replayed, MAC and all
    assert ledger_seal() == 0
    assert AccessEntry.objects.count() == 1
    code, _, err = audit_verify()
    assert code == 1 and "is a copy of entry 1, which is already sealed" in err


def test_an_entry_placed_before_the_start_of_the_chain_is_named():
    record(actor=None, action="account.locked")
    tamper("INSERT INTO audit_accessentry (seq, at, actor_label, action, target_type, target_code, camera_code, "
           "owner_code, incident_code, case_number, reason, detail, prev_hash, entry_hash) VALUES "
           "(0, now(), 'ghost', 'clip.downloaded', '', '', '', '', '', '', '', '{}', %s, %s)", ["0" * 64, "0" * 64])
    result = ledger_verify()
    assert not result.ok and result.seq == 0 and "before the start of the chain" in result.problem


def test_in_a_test_transaction_entries_are_sealed_at_once():
    """pytest-django's `db` never commits, so on_commit never fires: record() seals inside it instead."""
    with transaction.atomic():
        record(actor=None, action="signin.failed")
    record(actor=None, action="dispatch.live_opened")
    assert actions() == ["signin.failed", "dispatch.live_opened"] and ledger_pending(older_than=timedelta(0)).count == 0


def test_entries_recorded_together_keep_their_order():
    record_many([entry(actor=None, action="clip.purged", target_code=f"clip-{i}") for i in range(30)])
    assert list(AccessEntry.objects.order_by("seq").values_list("target_code", flat=True)) == [
        f"clip-{i}" for i in range(30)]
    assert AccessEntry.objects.values("at").distinct().count() == 1


def test_the_pending_tables_check_finds_chain_entries_by_key_whatever_the_statistics_say():
    """PL/pgSQL keeps a plan for the session. Planned on a small ledger, the check once probed the chain by
    `action` and read every entry of that action per sealed entry: seconds per seal under the ledger's lock
    (section 12 of docs/BENCHMARKS.md at e1565db). Its lookup is now by pending_id alone, fenced from the other
    columns, with scans off, so no statistics can send it elsewhere."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'audit_pending_sealed_only'")
        source, config = cursor.fetchone()
    lookup = " ".join(source.split())
    assert "FROM (SELECT * FROM audit_accessentry s WHERE s.pending_id = o.id OFFSET 0) e" in lookup
    assert "enable_seqscan=off" in config


@pytest.mark.django_db(transaction=True)
def test_a_seal_whose_batch_another_seal_took_meanwhile_leaves_it_to_that_seal(no_sealing, monkeypatch, caplog):
    """Once, in CI, a sealer's batch was sealed by another seal between its read and its commit, and the sealer took
    the chain's refusal for a lost database. Here the seal loses its lock after reading its batch, as a replaced
    connection would, and another seal takes the batch: this one writes nothing, raises nothing, says so."""
    from django.db import connections

    from audit.ledger import sealing

    record(actor=None, action="mfa.enrolled")
    record(actor=None, action="user.roles_changed")
    chain = sealing._chain

    def read_then_lose_the_batch(rows, skip):
        columns = chain(rows, skip)
        monkeypatch.setattr(sealing, "_chain", chain)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [locks.LEDGER_LOCK])

        def other_seal():
            try:
                assert ledger_seal() == 2
            finally:
                connections.close_all()

        other = threading.Thread(target=other_seal)
        other.start()
        other.join(timeout=30)
        return columns

    monkeypatch.setattr(sealing, "_chain", read_then_lose_the_batch)
    with caplog.at_level("WARNING", logger="audit.ledger.sealing"):
        assert ledger_seal() == 0
    assert actions() == ["mfa.enrolled", "user.roles_changed"]  # each once, in the order recorded
    assert PendingEntry.objects.count() == 0
    assert ledger_verify().ok
    assert "left its batch to another seal" in caplog.text
    assert ledger_seal() == 0  # and the next seal goes on as usual
