from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from audit.actions import Action
from requests_app import mailing, services
from requests_app.models import FootageRequest
from requests_app.tasks import footage_requests_mail_task, footage_requests_sweep_task
from tests.audit.ledger_reads import recorded_targets
from tests.conftest import link_in, parsed_mail, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def connections_of(sink) -> list:
    """The client address of every message the sink accepts from here on: one per SMTP connection used."""
    peers = []
    delivered = sink.handle_DATA

    async def remember(server, session, envelope):
        status = await delivered(server, session, envelope)
        if status.startswith("250"):
            peers.append(session.peer)
        return status

    sink.handle_DATA = remember
    return peers


def mailed_entries(request) -> int:
    """Ledger entries saying this request was mailed (sealed or about to be)."""
    return len(recorded_targets(Action.REQUEST_MAILED, target_code=str(request.code)))


def send(incident, cameras, user, capture):
    with capture(execute=True):
        return services.footage_requests_send(incident=incident, camera_codes=[c.code for c in cameras], user=user)


def test_one_request_per_camera_mailed_with_everything_the_owner_needs(
    incident, street_cameras, investigator, smtp_sink, django_capture_on_commit_callbacks
):
    send(incident, street_cameras["near"], investigator, django_capture_on_commit_callbacks)

    assert set(FootageRequest.objects.values_list("state", flat=True)) == {"sent"}
    messages = parsed_mail(smtp_sink)
    assert sorted(m["To"] for m in messages) == ["near0@example.org", "near1@example.org", "near2@example.org"]
    message = messages[0]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    request = FootageRequest.objects.get(camera__owner__email=message["To"])
    for body in (text, html):
        assert incident.owner_summary in body
        assert request.camera_label in body and incident.case_number in body
        assert "Raleigh Police Department" in body and "cameras@police.example.org" in body
        assert f"{timezone.localtime(request.expires_at):%-d %B %Y}" in body
        assert "SECRET-NOTE" not in body  # internal notes never leave the building
    assert "/footage/" in link_in(message)


def test_a_batch_goes_over_one_smtp_connection_and_each_mail_is_in_the_ledger_once(
    incident, street_cameras, investigator, smtp_sink, django_capture_on_commit_callbacks
):
    peers = connections_of(smtp_sink)
    send(incident, street_cameras["near"], investigator, django_capture_on_commit_callbacks)

    assert len(peers) == 3 and len(set(peers)) == 1
    assert [mailed_entries(r) for r in FootageRequest.objects.all()] == [1, 1, 1]


def test_a_server_that_ends_a_working_connection_gets_a_new_one_and_nobody_is_skipped(
    incident, street_cameras, investigator, smtp_sink, django_capture_on_commit_callbacks
):
    peers = connections_of(smtp_sink)
    delivered = smtp_sink.handle_DATA
    per_connection = {}

    async def two_per_connection(server, session, envelope):  # as servers that limit messages per connection do
        if per_connection.get(session.peer, 0) == 2:
            return "421 4.7.0 Too many messages, closing connection"
        per_connection[session.peer] = per_connection.get(session.peer, 0) + 1
        return await delivered(server, session, envelope)

    smtp_sink.handle_DATA = two_per_connection
    cameras = [*street_cameras["near"], *[CameraFactory(owner=OwnerFactory(email=f"c{i}@example.org"))
                                          for i in range(2)]]
    send(incident, cameras, investigator, django_capture_on_commit_callbacks)

    assert sorted(m["To"] for m in parsed_mail(smtp_sink)) == sorted(c.owner.email for c in cameras)
    assert len(set(peers)) == 3
    assert set(FootageRequest.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_the_sweep_takes_over_a_claim_only_once_its_worker_is_gone(incident, street_cameras, smtp_sink):
    """However slow its mail server, a live worker's batch is never taken (it holds its claim's lock); a dead one's
    is taken at the next sweep, without waiting out a grace period (PostgreSQL freed the lock with its session)."""
    import psycopg
    from django.db import connection

    token = 4242
    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="x",
                                            nonce="n-live", state="sending", attempts=1, claim=token,
                                            claimed_at=timezone.now() - timedelta(hours=1))
    db = connection.settings_dict
    worker = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True)
    worker.execute("SELECT pg_advisory_lock(%s, %s)", [mailing.CLAIM_LOCKS, token])

    assert mailing.footage_requests_stuck() == []
    assert FootageRequest.objects.get(pk=request.pk).state == "sending"

    worker.close()  # the worker dies
    assert mailing.footage_requests_stuck() == [request.pk]
    assert FootageRequest.objects.get(pk=request.pk).state == "queued"


def test_the_click_does_the_same_work_for_one_owner_or_many(incident, street_cameras, investigator,
                                                            django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    many = [street_cameras["near"][2], *[CameraFactory(owner=OwnerFactory(email=f"m{i}@example.org"))
                                         for i in range(5)]]
    statements = []
    for cameras in ([street_cameras["near"][0]], [street_cameras["near"][1]], many):  # the first fills caches
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks() as queued:
            services.footage_requests_send(incident=incident, camera_codes=[c.code for c in cameras],
                                           user=investigator)
        statements.append(len(captured))
        assert len(queued) == 1  # one task for the batch, and nothing mailed before the commit

    assert statements[1] == statements[2]
    assert FootageRequest.objects.filter(state="queued").count() == 8


def test_a_refused_address_fails_only_its_own_request(
    incident, street_cameras, investigator, smtp_sink, django_capture_on_commit_callbacks
):
    async def no_such_user(server, session, envelope, address, rcpt_options):
        if address == "near1@example.org":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_sink.handle_RCPT = no_such_user
    send(incident, street_cameras["near"], investigator, django_capture_on_commit_callbacks)

    assert sorted(m["To"] for m in parsed_mail(smtp_sink)) == ["near0@example.org", "near2@example.org"]
    refused = FootageRequest.objects.get(camera__owner__email="near1@example.org")
    assert refused.state == "failed" and "No such user" in refused.failure_reason
    assert refused.attempts == 1  # an address the server says does not exist is not tried for an hour
    assert set(FootageRequest.objects.exclude(pk=refused.pk).values_list("state", flat=True)) == {"sent"}
    assert mailed_entries(refused) == 0


def test_a_mail_server_lost_mid_batch_leaves_the_rest_queued_with_the_reason_and_the_retry_sends_them(
    incident, street_cameras, investigator, smtp_sink
):
    cameras = [*street_cameras["near"], *[CameraFactory(owner=OwnerFactory(email=f"more{i}@example.org"))
                                          for i in range(2)]]
    with_ids = [FootageRequest.objects.create(incident=incident, camera=c, camera_label=c.label, nonce=f"n{i}").pk
                for i, c in enumerate(cameras)]
    delivered = smtp_sink.handle_DATA

    async def dies_after_two(server, session, envelope):
        if len(smtp_sink.messages) >= 2:
            return "421 4.3.2 Service shutting down"
        return await delivered(server, session, envelope)

    smtp_sink.handle_DATA = dies_after_two
    run = mailing.footage_requests_mail(request_ids=with_ids)

    assert run.sent == 2 and run.retry == with_ids[2:]
    assert list(FootageRequest.objects.order_by("pk").values_list("state", flat=True)) == [
        "sent", "sent", "queued", "queued", "queued"]
    waiting = FootageRequest.objects.get(pk=with_ids[2])
    assert "unreachable" in waiting.failure_reason and "421" in waiting.failure_reason

    smtp_sink.handle_DATA = delivered  # the server is back; the task's retry takes the rest
    footage_requests_mail_task.apply(args=(run.retry,))

    assert set(FootageRequest.objects.values_list("state", "failure_reason")) == {("sent", "")}
    assert sorted(m["To"] for m in parsed_mail(smtp_sink)) == sorted(c.owner.email for c in cameras)


def test_sending_again_never_duplicates_and_paused_cameras_get_nothing(
    incident, street_cameras, investigator, smtp_sink, django_capture_on_commit_callbacks
):
    cameras = [*street_cameras["near"], street_cameras["paused"]]
    send(incident, cameras, investigator, django_capture_on_commit_callbacks)
    send(incident, cameras, investigator, django_capture_on_commit_callbacks)

    assert FootageRequest.objects.count() == 3
    assert len(smtp_sink.messages) == 3
    assert "p@example.org" not in [m["To"] for m in parsed_mail(smtp_sink)]


def test_a_refusing_smtp_server_ends_in_a_visible_failure(
    incident, street_cameras, investigator, smtp_sink, django_capture_on_commit_callbacks
):
    async def refuse(server, session, envelope):
        return "554 5.7.1 Relay access denied"

    smtp_sink.handle_DATA = refuse
    send(incident, street_cameras["near"][:1], investigator, django_capture_on_commit_callbacks)

    request = FootageRequest.objects.get()
    assert request.state == "failed"
    assert "Relay access denied" in request.failure_reason
    assert request.attempts == 9  # the first try and eight retries (about an hour with the real backoff)


def test_failed_requests_can_be_resent(incident, street_cameras, investigator, smtp_sink,
                                       django_capture_on_commit_callbacks):
    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0],
                                            camera_label="Near 0", nonce="n1", state="failed",
                                            failure_reason="SMTP was down")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.footage_requests_resend_failed(incident=incident, user=investigator) == 1
    request.refresh_from_db()
    assert request.state == "sent" and request.failure_reason == ""


def test_a_request_a_killed_worker_left_sending_is_sent_once(incident, street_cameras, smtp_sink):
    # What a worker killed between claiming and finishing leaves behind.
    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="x",
                                            nonce="n2", state="sending", attempts=1,
                                            claimed_at=timezone.now() - timedelta(minutes=11))
    FootageRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(minutes=30))

    footage_requests_sweep_task.apply()
    footage_requests_sweep_task.apply()

    request.refresh_from_db()
    assert request.state == "sent" and request.attempts == 2
    assert len(smtp_sink.messages) == 1


def test_mail_a_killed_worker_had_delivered_is_recorded_by_the_sweep_and_not_sent_again(
    incident, street_cameras, smtp_sink
):
    # The server had accepted this message (sent_at) when the worker died, before the end of its batch.
    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="x",
                                            nonce="n3", state="sending", attempts=1,
                                            claimed_at=timezone.now() - timedelta(minutes=11),
                                            sent_at=timezone.now() - timedelta(minutes=11))

    footage_requests_sweep_task.apply()
    footage_requests_sweep_task.apply()

    request.refresh_from_db()
    assert request.state == "sent" and request.attempts == 1
    assert smtp_sink.messages == []
    assert mailed_entries(request) == 1


def test_reminders_follow_the_schedule_and_stop_when_answered(incident, street_cameras, smtp_sink, settings):
    settings.REQUEST_REMINDER_HOURS = [24, 72]
    peers = connections_of(smtp_sink)
    sent = timezone.now() - timedelta(hours=25)
    waiting = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="a",
                                            nonce="a", state="sent", sent_at=sent,
                                            expires_at=timezone.now() + timedelta(days=9))
    FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][1], camera_label="b",
                                  nonce="b", state="declined", sent_at=sent,
                                  expires_at=timezone.now() + timedelta(days=9))
    FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][2], camera_label="c",
                                  nonce="c", state="opened", sent_at=sent,
                                  expires_at=timezone.now() + timedelta(days=9))

    footage_requests_sweep_task.apply()
    footage_requests_sweep_task.apply()  # the 72 h reminder is not due yet

    assert sorted(m["To"] for m in parsed_mail(smtp_sink)) == ["near0@example.org", "near2@example.org"]
    assert len(set(peers)) == 1  # the due reminders went out together
    assert all("Reminder" in m["Subject"] for m in parsed_mail(smtp_sink))
    waiting.refresh_from_db()
    assert waiting.reminders_sent == 1


def test_unanswered_requests_lapse(incident, street_cameras):
    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="a",
                                            nonce="a", state="opened", expires_at=timezone.now())
    footage_requests_sweep_task.apply()
    request.refresh_from_db()
    assert request.state == "lapsed"


def test_a_real_worker_delivers_a_batch(celery_worker, smtp_sink):
    from tests.conftest import make_staff
    from tests.registry.factories import CameraFactory
    from tests.requests_app.factories import IncidentFactory

    user = make_staff("investigator")
    incident = IncidentFactory()
    cameras = [CameraFactory() for _ in range(5)]
    services.footage_requests_send(incident=incident, camera_codes=[c.code for c in cameras], user=user)

    wait_for(lambda: len(smtp_sink.messages) == 5, timeout=20)
    wait_for(lambda: set(FootageRequest.objects.values_list("state", flat=True)) == {"sent"})


def test_requests_go_only_to_cameras_inside_the_incident_radius(investigator, django_capture_on_commit_callbacks):
    incident = IncidentFactory(radius_m=300)
    services.incident_investigators_set(incident=incident, users=[investigator])
    near = CameraFactory()
    far = CameraFactory(location=Point(-78.55, 35.90, srid=4326))
    with django_capture_on_commit_callbacks(execute=True):
        services.footage_requests_send(incident=incident, camera_codes=[near.code, far.code], user=investigator)
    assert list(FootageRequest.objects.values_list("camera__label", flat=True)) == [near.label]
