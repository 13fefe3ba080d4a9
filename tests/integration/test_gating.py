"""The live-viewing rules: each one refuses with its own reason, and every refusal is recorded."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AccessEntry
from integration import services
from integration.gating import LiveRefused, live_view_check
from integration.models import LiveSession
from requests_app.models import Incident
from tests.conftest import make_staff
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db
REASON = "Following a suspect vehicle north"


def opened(user, camera, incident, reason=REASON, override=""):
    return services.live_session_open(user=user, camera=camera, incident=incident, reason=reason,
                                      override_reason=override)


def refused(user, camera, incident, reason=REASON, override="") -> str:
    before = AccessEntry.objects.filter(action="live.refused").count()
    with pytest.raises(LiveRefused) as info:
        opened(user, camera, incident, reason, override)
    assert AccessEntry.objects.filter(action="live.refused").count() == before + 1, "refusal not recorded"
    assert not LiveSession.objects.filter(analyst=user, camera=camera, ended_at__isnull=True).exists()
    return info.value.message


def test_a_trained_analyst_opens_a_view_for_an_incident_nearby(live_camera, analyst, incident_near):
    session = opened(analyst, live_camera, incident_near)
    assert session.ends_by - session.started_at <= timedelta(minutes=30, seconds=1)
    started = AccessEntry.objects.get(action="live.started")
    assert started.camera_code == str(live_camera.code) and started.owner_code == str(live_camera.owner.code)
    assert started.case_number == incident_near.case_number and started.reason == REASON


@pytest.mark.parametrize("role", ["investigator", "auditor", "administrator"])
def test_only_analysts_and_supervisors_may_open(live_camera, incident_near, role):
    user = trained(make_staff(role))
    assert "crime analysts only" in refused(user, live_camera, incident_near)


def test_training_must_be_on_record_and_current(live_camera, incident_near, settings):
    untrained = make_staff("analyst")
    assert "no privacy training" in refused(untrained, live_camera, incident_near)
    trained(untrained, days_ago=400)
    assert "expired on" in refused(untrained, live_camera, incident_near)
    settings.TRAINING_VALID_DAYS = 500
    assert opened(untrained, live_camera, incident_near)


def test_training_below_the_minimum_hours_does_not_count(live_camera, incident_near, settings):
    settings.TRAINING_MIN_HOURS = 2
    user = trained(make_staff("analyst"), hours=1)
    assert "no privacy training" in refused(user, live_camera, incident_near)


def test_an_incident_within_the_owners_radius_is_required(live_camera, analyst):
    assert "within 300 m" in refused(analyst, live_camera, None)
    far = IncidentFactory(location=Point(-78.6382, 35.7900, srid=4326))  # about 1.2 km north
    assert "farther than the 300 m" in refused(analyst, live_camera, far)
    closed = IncidentFactory(location=Point(-78.6382, 35.7797, srid=4326), status="closed")
    assert "is closed" in refused(analyst, live_camera, closed)


def test_an_owner_may_waive_the_incident_rule(analyst):
    camera = CameraFactory(owner=OwnerFactory(kind="business"))
    share_camera(camera, incident_required=False)
    session = opened(analyst, camera, None)
    assert AccessEntry.objects.get(action="live.started").detail["incident"] is None
    assert session.incident is None


def test_a_supervisor_overrides_alone_only_where_the_program_allows_it(live_camera, analyst, settings):
    assert "Only a supervisor" in refused(analyst, live_camera, None, override="Shots fired, no case yet")
    supervisor = trained(make_staff("supervisor"))
    assert "needs a second person" in refused(supervisor, live_camera, None, override="Shots fired, no case yet")
    settings.LIVE_SELF_OVERRIDE = True
    assert "at least 10 characters" in refused(supervisor, live_camera, None, override="urgent")
    session = opened(supervisor, live_camera, None, override="Shots fired call, case not yet made")
    override = AccessEntry.objects.get(action="live.override")
    assert override.detail["override_reason"] == "Shots fired call, case not yet made"
    assert override.detail["self_override"] is True, "the weekly review flags it"
    assert session.override_reason


def test_a_reason_is_required(live_camera, analyst, incident_near):
    assert "reason of at least" in refused(analyst, live_camera, incident_near, reason="  look ")


def test_outside_the_owners_hours_is_refused(live_camera, analyst, incident_near):
    share = live_camera.live_shares.get()
    now = timezone.localtime()
    closed_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    yesterday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(now.weekday() - 1) % 7]
    share.hours = {**share.hours, closed_day: None, yesterday: ["08:00", "09:00"]}
    share.save()
    assert "at this hour" in refused(analyst, live_camera, incident_near)


def test_a_paused_or_stopped_share_refuses(live_camera, analyst, incident_near):
    services.live_share_pause(camera=live_camera, until=timezone.now() + timedelta(hours=1))
    assert "paused live sharing until" in refused(analyst, live_camera, incident_near)
    services.live_share_pause(camera=live_camera, until=None)
    assert opened(analyst, live_camera, incident_near)
    services.live_share_stop(camera=live_camera)
    live_camera.refresh_from_db()
    assert live_camera.level == "registered"
    assert "does not share" in refused(analyst, live_camera, incident_near)
    # Stopping ended the open session, and recorded why.
    session = LiveSession.objects.get(analyst=analyst)
    assert session.end_reason == "owner_stopped"


def test_indoor_cameras_can_never_be_shared_and_residential_only_where_allowed(settings):
    indoor = CameraFactory(placement="indoor", faces_public=False)
    with pytest.raises(ValidationError, match="Indoor cameras can never"):
        share_camera(indoor)
    settings.LIVE_RESIDENTIAL_ALLOWED = False
    home = CameraFactory(owner=OwnerFactory(kind="resident"))
    with pytest.raises(ValidationError, match="residential cameras"):
        share_camera(home)
    unconfirmed = CameraFactory(owner=OwnerFactory(kind="business", confirmed_at=None))
    with pytest.raises(ValidationError, match="Confirm your registration"):
        share_camera(unconfirmed)


def test_a_residential_share_signed_before_the_ordinance_cannot_be_viewed(analyst, incident_near, settings):
    home = CameraFactory(owner=OwnerFactory(kind="resident"))
    share_camera(home)
    settings.LIVE_RESIDENTIAL_ALLOWED = False
    assert "residential cameras" in refused(analyst, home, incident_near)


def test_limits_tightened_end_views_that_break_them(live_camera, analyst, incident_near):
    session = opened(analyst, live_camera, incident_near)
    share = live_camera.live_shares.get()
    services.live_share_limits_set(share=share, limits={
        "hours": share.hours, "incident_required": True, "incident_radius_m": 300, "max_session_minutes": 5,
        "notify_each_view": False})
    session.refresh_from_db()
    assert session.ended_at is None and session.ends_by <= session.started_at + timedelta(minutes=5, seconds=1)
    services.live_share_limits_set(share=share, limits={
        "hours": share.hours, "incident_required": True, "incident_radius_m": 50, "max_session_minutes": 5,
        "notify_each_view": False})
    session.refresh_from_db()
    assert session.ended_at is not None and session.end_reason == "access_lost"


def test_sweep_ends_overdue_and_never_opened_sessions(live_camera, analyst, incident_near):
    overdue = opened(analyst, live_camera, incident_near)
    # Its server died 31 minutes into a 30-minute view.
    LiveSession.objects.filter(pk=overdue.pk).update(started_at=timezone.now() - timedelta(minutes=31),
                                                     ends_by=timezone.now() - timedelta(minutes=1),
                                                     watched_at=timezone.now() - timedelta(minutes=31))
    unopened = opened(analyst, live_camera, incident_near)
    LiveSession.objects.filter(pk=unopened.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    assert services.live_sessions_sweep() == 2
    overdue.refresh_from_db()
    unopened.refresh_from_db()
    assert overdue.end_reason == "time_limit" and unopened.end_reason == "never_opened"
    ended = AccessEntry.objects.filter(action="live.ended").order_by("seq")
    assert sorted(e.detail["end_reason"] for e in ended) == ["never_opened", "time_limit"]
    assert services.live_sessions_sweep() == 0  # idempotent


def test_a_case_found_closed_at_a_re_check_ends_the_view_as_case_closed(live_camera, analyst, incident_near):
    opened(analyst, live_camera, incident_near)
    Incident.objects.filter(pk=incident_near.pk).update(status="closed")  # closed without incident_close's signal
    incident_near.refresh_from_db()
    with pytest.raises(LiveRefused) as info:
        live_view_check(analyst, live_camera, incident_near, REASON, "", opening=False)
    assert info.value.end_reason == LiveSession.EndReason.CASE_CLOSED
