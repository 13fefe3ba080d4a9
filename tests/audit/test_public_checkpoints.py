"""Public checkpoints of the ledger (issue 19, item 4): signed daily over a Merkle tree, each extending the last;
owners' receipts check with `python -m audit.verify_receipt` against a real server, and fail once a row is
changed in the database; purges keep every checkpoint provable; nobody gets another owner's receipt."""

import base64
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection
from django.utils import timezone

from audit import publishing
from audit.ledger import purge, record
from audit.models import AccessEntry, LedgerTreeBlock, PublishedCheckpoint
from audit.receipt_format import parse_statement
from tests.conftest import make_staff, sign_in_owner

ROOT = Path(__file__).resolve().parents[2]


def write(n: int, **fields):
    for i in range(n):
        record(actor=None, action="ledger.searched", target_type="thing", target_code=f"t{i}", reason=f"entry {i}",
               **fields)


def tamper(sql: str, params=()):
    """What an attacker with the database's superuser could do: switch the triggers off and edit."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def viewed(owner, staff, n=1):
    camera = owner.cameras.get()
    for _ in range(n):
        record(actor=staff, action="clip.viewed", target_type="clip", target_code="c1", camera_code=camera.code,
               owner_code=owner.code, case_number="26-004512", reason="burglary follow-up")
    return AccessEntry.objects.filter(owner_code=owner.code).order_by("-seq").first()


def verify(*args) -> subprocess.CompletedProcess:
    """The verifier as an owner runs it: its own process, no Django, the standard library and cryptography."""
    return subprocess.run([sys.executable, "-m", "audit.verify_receipt", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


@pytest.mark.django_db
def test_a_checkpoint_is_signed_over_the_tree_and_the_next_extends_it(client):
    write(5)
    first = publishing.publish()
    assert publishing.publish() is None, "nothing new, nothing published"
    write(3)
    second = publishing.publish()
    assert (first.tree_size, second.tree_size) == (5, 8)
    assert second.chain_head == AccessEntry.objects.order_by("-seq").first().entry_hash

    listing = client.get("/transparency/checkpoints.json").json()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(listing["public_key"]))
    for checkpoint in listing["checkpoints"]:
        key.verify(base64.b64decode(checkpoint["signature"]), checkpoint["statement"].encode())  # raises if not
    assert [parse_statement(c["statement"])["tree-size"] for c in listing["checkpoints"]] == [5, 8]
    proof = client.get("/transparency/ledger/consistency/", {"from": 5, "to": 8}).json()
    assert proof["proof"], "a proof that 8 extends 5"
    page = client.get("/transparency/").content.decode()
    assert listing["public_key"] in page and "8 entries" in page


@pytest.mark.django_db
def test_a_broken_chain_is_not_published():
    write(4)
    publishing.publish()
    write(2)
    tamper("UPDATE audit_accessentry SET reason = 'nothing to see' WHERE seq = 5")
    with pytest.raises(publishing.ChainBroken, match="entry 5"):
        publishing.publish()
    assert PublishedCheckpoint.objects.count() == 1 and LedgerTreeBlock.objects.filter(level=0).count() == 4


@pytest.mark.django_db
def test_bad_proof_requests_get_a_clear_answer(client):
    write(3)
    publishing.publish()
    assert client.get("/transparency/ledger/proof/2/", {"size": 7}).status_code == 404
    assert "whole number" in client.get("/transparency/ledger/proof/2/", {"size": "x"}).json()["error"]
    assert "not in the checkpoint" in client.get("/transparency/ledger/proof/9/", {"size": 3}).json()["error"]
    assert client.get("/transparency/ledger/consistency/", {"from": 3, "to": 1}).status_code == 404


@pytest.mark.django_db
def test_an_owner_gets_receipts_for_their_own_entries_only(client, owner_a, owner_b):
    staff = make_staff("investigator")
    mine, theirs = viewed(owner_a, staff), viewed(owner_b, staff)
    sign_in_owner(client, owner_a)
    pending = client.get(f"/owner/history/receipt/{mine.seq}/")
    assert pending.status_code == 409 and "next one" in pending.content.decode()
    publishing.publish()
    history = client.get("/owner/history/").content.decode()
    assert f"/owner/history/receipt/{mine.seq}/" in history
    assert f"/owner/history/receipt/{theirs.seq}/" not in history
    receipt = client.get(f"/owner/history/receipt/{mine.seq}/")
    assert receipt["Content-Disposition"] == f'attachment; filename="ledger-receipt-{mine.seq}.json"'
    assert receipt.json()["entry"]["reason"] == "burglary follow-up"
    assert "detective" not in receipt.content.decode() and staff.username not in receipt.content.decode()
    assert client.get(f"/owner/history/receipt/{theirs.seq}/").status_code == 404
    client.logout()
    assert client.get(f"/owner/history/receipt/{mine.seq}/").status_code in (302, 403)


@pytest.mark.django_db(transaction=True)
def test_a_receipt_verifies_against_the_server_until_its_row_is_changed(live_server, client, owner_a, tmp_path):
    staff = make_staff("investigator")
    entry = viewed(owner_a, staff)
    write(6)
    publishing.publish()
    sign_in_owner(client, owner_a)
    receipt = tmp_path / "receipt.json"
    receipt.write_bytes(client.get(f"/owner/history/receipt/{entry.seq}/").content)
    key = client.get("/transparency/checkpoints.json").json()["public_key"]
    write(4)
    publishing.publish()  # a later checkpoint: the receipt's must be extended by it

    good = verify(receipt, "--public-key", key, "--server", live_server.url)
    assert good.returncode == 0, good.stderr
    assert "2 published checkpoints are signed and each extends the one before" in good.stdout
    assert "still in the ledger, unchanged" in good.stdout

    other_key = base64.b64encode(bytes(32)).decode()
    assert verify(receipt, "--public-key", other_key).returncode == 1

    tamper("UPDATE audit_accessentry SET reason = 'routine' WHERE seq = %s", [entry.seq])
    bad = verify(receipt, "--public-key", key, "--server", live_server.url)
    assert bad.returncode == 1
    assert f"entry {entry.seq} is no longer in the ledger as your receipt records it" in bad.stderr

    forged = json.loads(receipt.read_text())
    forged["entry"]["reason"] = "routine"
    receipt.write_text(json.dumps(forged))
    offline = verify(receipt, "--public-key", key)
    assert offline.returncode == 1 and "is not in the checkpoint" in offline.stderr


@pytest.mark.django_db(transaction=True)
def test_a_rewritten_history_fails_the_checkpoint_check(live_server):
    write(5)
    publishing.publish()
    write(2)
    publishing.publish()
    key = publishing.published_list()["public_key"]
    assert verify("--server", live_server.url, "--public-key", key).returncode == 0
    # The first four entries' subtree, as a history rewritten and re-hashed would hold it
    tamper("UPDATE audit_ledgertreeblock SET hash = %s WHERE level = 2 AND index = 0", [b"\x00" * 32])
    failed = verify("--server", live_server.url, "--public-key", key)
    assert failed.returncode == 1 and "the ledger was rewritten in between" in failed.stderr


@pytest.mark.django_db
def test_purged_entries_stay_provable(client, settings, owner_a):
    staff = make_staff("investigator")
    old = viewed(owner_a, staff)
    write(3)
    publishing.publish()
    sign_in_owner(client, owner_a)
    receipt = client.get(f"/owner/history/receipt/{old.seq}/").json()
    tamper("UPDATE audit_accessentry SET at = %s WHERE seq <= %s", [timezone.now() - timedelta(days=800), old.seq + 1])
    assert purge() == old.seq + 1
    write(2)
    latest = publishing.publish()
    proof = client.get(f"/transparency/ledger/proof/{old.seq}/", {"size": latest.tree_size}).json()
    assert proof["status"] == "purged"
    from audit import merkle
    from audit.receipt_format import leaf_bytes
    leaf = merkle.leaf_hash(leaf_bytes(receipt["entry"]))
    assert proof["leaf_hash"] == leaf.hex()
    assert merkle.verify_inclusion(leaf, proof["leaf_index"], latest.tree_size,
                                   [bytes.fromhex(h) for h in proof["inclusion"]], bytes.fromhex(latest.root))
