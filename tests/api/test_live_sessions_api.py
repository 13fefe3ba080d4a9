"""GET /api/v1/live-sessions/: analysts see their own live sessions, overseers see all, tokens and other roles
nothing; listing is recorded."""

import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from audit.models import AccessEntry
from integration import services
from tests.conftest import make_staff
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/live-sessions/"


@pytest.fixture
def sessions():
    camera = CameraFactory(owner=OwnerFactory(kind="business"))
    share_camera(camera)
    incident = IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326))
    mine = trained(make_staff("analyst"))
    other = trained(make_staff("supervisor"))
    own = services.live_session_open(user=mine, camera=camera, incident=incident, reason="Suspect car heading north")
    theirs = services.live_session_open(user=other, camera=camera, incident=incident, reason="Checking the crowd now")
    return mine, own, theirs


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_an_analyst_lists_only_their_own_sessions(sessions):
    analyst, own, theirs = sessions
    body = client_for(analyst).get(URL).json()
    assert [row["code"] for row in body["results"]] == [str(own.code)]
    assert body["results"][0]["case_number"] == own.incident.case_number and body["results"][0]["ended_at"] is None
    assert client_for(analyst).get(f"{URL}{theirs.code}/").status_code == 404
    assert AccessEntry.objects.filter(action="live.sessions_viewed", actor_label=analyst.username).exists()


@pytest.mark.parametrize("role", ["supervisor", "auditor", "administrator"])
def test_those_who_oversee_the_program_see_every_session(sessions, role):
    user = make_staff(role) if role != "supervisor" else sessions[2].analyst
    body = client_for(user).get(URL, {"open": "true", "ordering": "started_at"}).json()
    assert len(body["results"]) == 2


def test_investigators_tokens_and_strangers_get_nothing(sessions, token_client):
    assert client_for(make_staff("investigator")).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)
    assert token_client("registry:read", "dispatch:read").get(URL).status_code == 403


def test_bad_filters_get_a_400(sessions):
    response = client_for(sessions[0]).get(URL, {"camera": "not-a-uuid"})
    assert response.status_code == 400


def test_junk_query_parameters_never_break_the_listing(sessions):
    response = client_for(sessions[0]).get(URL + "?%00=x&%C3%81%00=null&page_size=5")
    assert response.status_code == 200
