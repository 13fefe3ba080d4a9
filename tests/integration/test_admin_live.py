"""The admin's live-integration pages: training records are entered and recorded; an administrator can stop a
share and revoke or reissue a connector token, each cutting access at once and recorded."""

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AccessEntry
from integration import services
from integration.models import ConnectorToken, LiveShare, TrainingRecord
from integration.selectors import training_valid_until
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(make_staff("administrator"))
    return client


def test_an_administrator_records_training_and_the_ledger_says_so(admin_client):
    analyst = make_staff("analyst")
    response = admin_client.post("/admin/integration/trainingrecord/add/", {
        "user": analyst.pk, "course": "Live camera privacy", "completed_on": timezone.localdate().isoformat(),
        "hours": "4"})
    assert response.status_code == 302
    assert TrainingRecord.objects.get(user=analyst).recorded_by == "administrator"
    assert training_valid_until(analyst) is not None
    assert AccessEntry.objects.get(action="training.recorded").detail["user"] == "analyst"


def test_an_administrator_stops_a_share_and_revokes_a_token(admin_client, live_camera):
    token = services.connector_token_issue(camera=live_camera, by="owner")
    current = ConnectorToken.objects.get(camera=live_camera, revoked_at__isnull=True)
    admin_client.post("/admin/integration/connectortoken/", {"action": "revoke", "_selected_action": [current.pk]})
    assert services.connector_authenticate(camera_code=live_camera.code, token=token) is None
    share = LiveShare.objects.get(camera=live_camera)
    admin_client.post("/admin/integration/liveshare/", {"action": "stop_sharing", "_selected_action": [share.pk]})
    share.refresh_from_db()
    assert share.revoked_at is not None and share.revoked_by == "administrator"
    assert set(AccessEntry.objects.filter(actor_label="administrator").values_list("action", flat=True)) >= {
        "connector.token_revoked", "live.share_stopped"}


def test_others_cannot_reach_these_admin_pages(live_camera):
    investigator = Client()
    investigator.force_login(make_staff("investigator"))
    for path in ("trainingrecord/add/", "liveshare/", "connectortoken/"):
        assert investigator.get(f"/admin/integration/{path}").status_code == 403


def _session(analyst, camera, incident, reason):
    from datetime import timedelta

    from integration.models import LiveSession

    return LiveSession.objects.create(analyst=analyst, camera=camera, incident=incident, reason=reason,
                                      ends_by=timezone.now() + timedelta(minutes=30))


def test_an_analyst_sees_only_their_own_live_sessions_in_the_admin(live_camera, incident_near):
    me, colleague = make_staff("analyst"), make_staff("supervisor")
    colleague_analyst = type(me).objects.create_user("analyst2", password="correct-horse-battery-9", is_staff=True)
    colleague_analyst.groups.set(me.groups.all())
    mine = _session(me, live_camera, incident_near, "Watching the store for case A")
    theirs = _session(colleague_analyst, live_camera, incident_near, "Looking for a suspect of case B")
    client = Client()
    client.force_login(me)

    page = client.get("/admin/integration/livesession/").content.decode()
    assert "Watching the store for case A" in page and "Looking for a suspect of case B" not in page
    assert client.get(f"/admin/integration/livesession/{mine.pk}/change/").status_code == 200
    other = client.get(f"/admin/integration/livesession/{theirs.pk}/change/", follow=True)
    assert "Looking for a suspect of case B" not in other.content.decode()
    overseer = Client()
    overseer.force_login(colleague)  # supervisors oversee the program: every session
    page = overseer.get("/admin/integration/livesession/").content.decode()
    assert "Watching the store for case A" in page and "Looking for a suspect of case B" in page


def test_a_nul_in_the_live_session_search_gets_a_message_not_an_error(admin_client):
    response = admin_client.get("/admin/integration/livesession/", {"q": "case\x00B"}, follow=True)
    assert response.status_code == 200
    assert "NUL character" in response.content.decode()


def test_a_supervisor_pausing_a_shared_camera_in_the_admin_ends_its_live_views(live_camera, session):
    """The admin form changed the status without the pause's consequences: the view went on (issue 12 review)."""
    from integration.models import LiveSession

    client = Client()
    client.force_login(make_staff("supervisor"))
    url = f"/admin/registry/camera/{live_camera.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(status="paused", location=live_camera.location.geojson)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    session.refresh_from_db()
    assert session.ended_at is not None
    assert not LiveSession.objects.filter(camera=live_camera, ended_at__isnull=True).exists()
