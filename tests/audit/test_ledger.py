"""The ledger is append-only in the database, and audit_verify finds the first entry that was tampered with."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.ledger import record
from audit.ledger import verify as ledger_verify
from audit.models import AccessEntry

pytestmark = pytest.mark.django_db


def write(n: int):
    for i in range(n):
        record(actor=None, action="ledger.searched", target_type="thing", target_code=f"t{i}", reason=f"entry {i}",
               note={"i": i})


def tamper(sql: str, params=()):
    """What an attacker with the database's superuser could do: switch the triggers off and edit."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def verify() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
        return 0, out.getvalue()
    except SystemExit as exit:
        return exit.code, err.getvalue()


def test_entries_chain_and_verify():
    write(5)
    entries = list(AccessEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    assert verify() == (0, "ledger intact: 5 entries verified\n")


@pytest.mark.parametrize("sql", ["UPDATE audit_accessentry SET reason = 'nothing to see' WHERE seq = 2",
                                 "DELETE FROM audit_accessentry WHERE seq = 2"])
def test_the_database_refuses_updates_and_deletes(sql):
    write(3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AccessEntry.objects.get(seq=2).reason == "entry 1"


def test_the_orm_cannot_edit_either():
    write(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEntry.objects.update(action="rewritten")


def test_an_edited_entry_is_named():
    write(6)
    tamper("UPDATE audit_accessentry SET actor_label = 'someone-else' WHERE seq = 4")
    code, message = verify()
    assert code == 1 and "entry 4 was changed" in message and "3 entries verified" in message


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link():
    write(6)
    from audit.chain import entry_digest

    row = AccessEntry.objects.filter(seq=3).values().get()
    row["reason"] = "forged"
    tamper("UPDATE audit_accessentry SET reason = 'forged', entry_hash = %s WHERE seq = 3",
           [entry_digest(row, row["prev_hash"])])
    assert "entry 4 does not follow entry 3" in verify()[1]


def test_a_removed_entry_is_named():
    write(6)
    tamper("DELETE FROM audit_accessentry WHERE seq = 3")
    assert "entries 3 to 3 were removed" in verify()[1]


def test_an_inserted_entry_is_named():
    write(4)
    tamper("UPDATE audit_accessentry SET seq = -seq WHERE seq >= 3")
    tamper("UPDATE audit_accessentry SET seq = 1 - seq WHERE seq < 0")
    first = AccessEntry.objects.filter(seq=1).values().get()
    tamper("INSERT INTO audit_accessentry (seq, at, actor_label, action, target_type, target_code, camera_code, "
           "owner_code, incident_code, case_number, reason, detail, prev_hash, entry_hash) VALUES "
           "(3, now(), 'ghost', 'clip.downloaded', '', '', '', '', '', '', '', '{}', %s, %s)",
           [first["entry_hash"], "0" * 64])
    result = ledger_verify()
    assert not result.ok and result.seq == 3


def test_four_concurrent_writers_keep_one_chain(transactional_db):
    def writer():
        write(25)
        connection.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert AccessEntry.objects.count() == 100
    assert ledger_verify().ok and ledger_verify().checked == 100
