from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tasks import footage_requests_sweep_task
from tests.conftest import link_in, parsed_mail, wait_for
from tests.registry.factories import CameraFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


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


def test_reminders_follow_the_schedule_and_stop_when_answered(incident, street_cameras, smtp_sink, settings):
    settings.REQUEST_REMINDER_HOURS = [24, 72]
    sent = timezone.now() - timedelta(hours=25)
    waiting = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="a",
                                            nonce="a", state="sent", sent_at=sent,
                                            expires_at=timezone.now() + timedelta(days=9))
    FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][1], camera_label="b",
                                  nonce="b", state="declined", sent_at=sent,
                                  expires_at=timezone.now() + timedelta(days=9))

    footage_requests_sweep_task.apply()
    footage_requests_sweep_task.apply()  # the 72 h reminder is not due yet

    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["near0@example.org"]
    assert "Reminder" in parsed_mail(smtp_sink)[0]["Subject"]
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
