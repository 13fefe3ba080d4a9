"""Retention with the clock moved forward: exactly the right rows and files go, and the right ones stay."""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from audit.ledger import purge as ledger_purge
from audit.ledger import record
from audit.ledger import verify as ledger_verify
from audit.models import AccessEntry, LedgerCheckpoint
from registry.models import OwnerLink
from registry.services import links_lapsed_purge
from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.audit.test_ledger import tamper
from tests.conftest import make_staff, parsed_mail
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


def shared_clip(client, *, keep_days=30, closed_days_ago=None, email="o@example.org"):
    incident = IncidentFactory()
    camera = CameraFactory(owner=OwnerFactory(email=email))
    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                            nonce=email, state="sent", expires_at=timezone.now() + timedelta(days=3))
    url = services.consent_link(request).replace("http://testserver", "")
    client.post(url + "upload/", {"clips": [SimpleUploadedFile("c.mp4", tiny_mp4())], "keep_days": str(keep_days)})
    if closed_days_ago is not None:
        incident.status, incident.closed_at = "closed", timezone.now() - timedelta(days=closed_days_ago)
        incident.save()
    return request.clips.get()


def test_expired_clips_are_crypto_shredded_with_a_receipt(client, evidence_dir, smtp_sink,
                                                          django_capture_on_commit_callbacks):
    expired = shared_clip(client, keep_days=30, closed_days_ago=31, email="gone@example.org")
    not_yet = shared_clip(client, keep_days=90, closed_days_ago=31, email="later@example.org")
    open_case = shared_clip(client, keep_days=30, email="open@example.org")
    held = shared_clip(client, keep_days=30, closed_days_ago=400, email="held@example.org")
    services.clip_legal_hold_set(clip=held, hold=True, reason="Court order 26-CR-1", user=make_staff("supervisor"))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.clips_expired_purge() == 1
    assert services.clips_expired_purge() == 0  # idempotent

    expired.refresh_from_db()
    assert expired.wrapped_key is None and expired.purged_at is not None
    assert sorted(p.name for p in evidence_dir.iterdir()) == sorted(
        c.stored_name for c in (not_yet, open_case, held))
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["gone@example.org"]
    assert expired.sha256 in parsed_mail(smtp_sink)[0].get_body(preferencelist=("plain",)).get_content()
    assert AccessEntry.objects.filter(action="clip.purged", target_code=str(expired.code)).exists()
    staff = client.__class__()
    staff.force_login(make_staff("auditor"))
    response = staff.get(f"/evidence/{expired.code}/download/")
    assert response.status_code == 410 and "deleted under the retention policy" in response.content.decode()


def test_a_receipt_lost_with_the_broker_or_the_mail_server_is_sent_by_the_sweep_once(
        client, evidence_dir, smtp_sink, django_capture_on_commit_callbacks, monkeypatch):
    from requests_app import tasks

    clip = shared_clip(client, keep_days=30, closed_days_ago=31, email="gone@example.org")
    with monkeypatch.context() as broker:
        broker.setattr(tasks.clip_deletion_receipts_task, "apply_async",
                       lambda *args, **kwargs: (_ for _ in ()).throw(OSError("broker unreachable")))
        with django_capture_on_commit_callbacks(execute=True):
            assert services.clips_expired_purge() == 1
    assert parsed_mail(smtp_sink) == []  # the purge itself went through

    assert services.clip_deletion_receipts_unsent() == []  # the purge's own task still has its grace period
    Clip.objects.filter(pk=clip.pk).update(purged_at=timezone.now() - timedelta(minutes=11))
    assert services.clip_deletion_receipts_unsent() == [clip.pk]

    assert "receipts resent 1" in tasks.footage_requests_sweep_task.apply().get()
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["gone@example.org"]
    assert services.clip_deletion_receipts_unsent() == []
    tasks.footage_requests_sweep_task.apply()
    assert services.clip_deletion_receipt_send(clip_id=clip.pk) == "already sent"
    assert len(parsed_mail(smtp_sink)) == 1  # never twice


@pytest.mark.django_db(transaction=True)
def test_a_receipt_being_sent_by_one_worker_is_not_sent_again_by_another(client, evidence_dir, smtp_sink):
    from django.db import connection

    clip = shared_clip(client, closed_days_ago=31, email="once@example.org")
    services.clips_expired_purge()
    smtp_sink.messages.clear()
    Clip.objects.filter(pk=clip.pk).update(receipt_sent_at=None)  # as if its receipt had not got through yet
    sending, done = threading.Event(), threading.Event()

    def first_worker():  # holds the clip as a worker mid-way through the SMTP conversation would
        try:
            with transaction.atomic():
                Clip.objects.select_for_update().get(pk=clip.pk)
                sending.set()
                done.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    try:
        assert sending.wait(10)
        assert services.clip_deletion_receipt_send(clip_id=clip.pk) == "being sent"
    finally:
        done.set()
        worker.join(10)
    assert parsed_mail(smtp_sink) == []
    assert services.clip_deletion_receipt_send(clip_id=clip.pk) == "sent"
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["once@example.org"]


def test_an_interrupted_purge_is_finished_by_the_next_run(client, evidence_dir):
    clip = shared_clip(client, closed_days_ago=31)
    Clip.objects.filter(pk=clip.pk).update(wrapped_key=None, purged_at=timezone.now())  # stopped here
    assert (evidence_dir / clip.stored_name).exists()
    services.clips_expired_purge()
    assert not (evidence_dir / clip.stored_name).exists()


def test_the_legal_hold_shows_in_the_owners_history(client):
    from tests.conftest import sign_in_owner

    clip = shared_clip(client, closed_days_ago=400, email="h@example.org")
    services.clip_legal_hold_set(clip=clip, hold=True, reason="Court order", user=make_staff("supervisor"))
    sign_in_owner(client, clip.request.camera.owner)
    assert "legal hold" in client.get("/owner/history/").content.decode()


def test_ledger_entries_older_than_a_year_go_leaving_a_checkpoint(settings):
    for i in range(6):
        record(actor=None, action="ledger.purged", reason=str(i))
    tamper("UPDATE audit_accessentry SET at = now() - interval '400 days' WHERE seq <= 4")

    assert ledger_purge() == 4
    assert ledger_purge() == 0
    assert list(AccessEntry.objects.order_by("seq").values_list("seq", flat=True))[:2] == [5, 6]
    assert LedgerCheckpoint.objects.get().upto_seq == 4
    result = ledger_verify()
    assert result.ok, result.problem
    record(actor=None, action="ledger.exported")
    assert ledger_verify().ok


def test_the_purge_stops_before_the_first_entry_still_too_young(monkeypatch):
    """`at` is the time of the event and `seq` the order of sealing: an entry sealed late sits among older ones."""
    now = timezone.now()
    with monkeypatch.context() as clock:
        for i, days_ago in enumerate([400, 400, 0, 400, 0, 0]):
            clock.setattr(timezone, "now", lambda days_ago=days_ago: now - timedelta(days=days_ago))
            record(actor=None, action="ledger.purged", reason=str(i))

    assert ledger_purge() == 2
    assert list(AccessEntry.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4, 5, 6, 7]
    assert ledger_verify().ok


def test_a_forged_checkpoint_is_caught():
    record(actor=None, action="ledger.searched")
    LedgerCheckpoint.objects.create(upto_seq=0, last_hash="0" * 64, purged=0, signature="f" * 64)
    assert "not signed by this server" in ledger_verify().problem


def test_young_ledger_entries_cannot_be_purged_even_by_the_purge():
    from django.db import DatabaseError, connection, transaction

    record(actor=None, action="api.token_revoked")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('connect.ledger_purge', 'on', true), "
                       "set_config('connect.ledger_keep_days', '1', true)")
        cursor.execute("DELETE FROM audit_accessentry")


def test_the_ledger_keeps_at_least_a_year():
    import subprocess
    import sys

    from tests.connect.test_env import PRODUCTION

    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "connect.settings",
                                            **PRODUCTION, "CONNECT_LEDGER_KEEP_DAYS": "30"})
    assert result.returncode != 0 and "CONNECT_LEDGER_KEEP_DAYS must be at least 365" in result.stderr


def test_lapsed_links_are_purged(settings):
    owner = OwnerFactory()
    old = OwnerLink.objects.create(owner=owner, purpose="sign_in", nonce="old")
    fresh = OwnerLink.objects.create(owner=owner, purpose="sign_in", nonce="fresh")
    OwnerLink.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    assert links_lapsed_purge() == 1
    assert list(OwnerLink.objects.values_list("pk", flat=True)) == [fresh.pk]
