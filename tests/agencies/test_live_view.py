"""An outside agency's approved live view: its named person watches exactly the approved cameras for the approved
window, through every live-viewing rule (training, the owner's sharing, hours and limits, the program's policy),
recorded and shown to the owner as an outside agency's view; anything else is refused with the reason."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from agencies import services
from agencies.models import AgencyRequest, RequestKind
from audit.actions import Action
from audit.models import AccessEntry
from integration import services as live
from integration.models import LiveSession
from tests.agencies.conftest import agency_user
from tests.integration.conftest import (
    receive_json_type,
    run_async,
    session_cookie,
    share_camera,
    trained,
    viewer_socket,
)
from tests.registry.factories import CameraFactory, OwnerFactory

HERE = Point(-78.6382, 35.7796, srid=4326)
REASON = "Watching the parade route for the suspect"


@pytest.fixture
def shop(db):
    camera = CameraFactory(owner=OwnerFactory(kind="business", name="Corner Grocery", email="grocer@example.org"),
                           location=HERE, label="Store front")
    share_camera(camera, incident_required=False)
    camera.refresh_from_db()
    return camera


@pytest.fixture
def officer(police):
    return trained(agency_user(police, "durham-officer"))


def file_live(user, *, starts_at=None, ends_at=None) -> AgencyRequest:
    now = timezone.now()
    return services.agency_request_file(user=user, kind=RequestKind.LIVE_VIEW, legal_basis="exigent",
                                        purpose="Armed suspect on the move", location=HERE, radius_m=200,
                                        starts_at=starts_at or now - timedelta(minutes=5),
                                        ends_at=ends_at or now + timedelta(hours=4))


def approved(user, reviewer, **window) -> AgencyRequest:
    filed = file_live(user, **window)
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="Exigent, one street",
                                    until=timezone.now() + timedelta(hours=2), radius_m=200)
    filed.refresh_from_db()
    return filed


def watch(client, filed, camera, reason=REASON):
    return client.post(f"/agency/requests/{filed.code}/live/{camera.code}/", {"reason": reason})


def test_the_named_person_watches_an_approved_camera_and_the_owner_sees_the_agency(client, officer, reviewer, shop):
    filed = approved(officer, reviewer)
    client.force_login(officer)
    page = client.get(f"/agency/requests/{filed.code}/").content.decode()
    assert str(shop.code) in page and "Corner Grocery" not in page and "Store front" not in page
    response = watch(client, filed, shop)
    assert response.status_code == 200
    session = LiveSession.objects.get(camera=shop)
    assert f"/ws/live/{session.code}/" in response.content.decode()
    assert session.outside_agency == "Durham Police Department" and str(session.outside_request) == str(filed.code)
    assert session.ends_by <= filed.approved_until
    started = AccessEntry.objects.get(action=Action.LIVE_STARTED)
    assert started.owner_code == str(shop.owner.code) and started.detail["outside_agency"] == "Durham Police Department"

    # The owner is shown the view as an outside agency's, in their live page and their history.
    from registry.owner_history import history_rows

    live.live_session_end(session=session, reason=LiveSession.EndReason.VIEWER_CLOSED)
    rows = history_rows(owner=shop.owner)
    assert [row["who"] for row in rows if "watching live" in row["what"]] == [
        "Durham Police Department (an outside agency)"] * 2  # started and stopped
    from django.test import Client

    from tests.conftest import sign_in_owner

    owner_client = Client()
    sign_in_owner(owner_client, shop.owner)
    sessions = owner_client.get(f"/owner/cameras/{shop.code}/live/").content.decode()
    assert "Durham Police Department (an outside agency)" in sessions


def test_a_camera_outside_the_approved_scope_is_refused_and_recorded(client, officer, reviewer, shop):
    filed = approved(officer, reviewer)
    later = CameraFactory(owner=OwnerFactory(kind="business"), location=HERE)  # registered after the approval
    share_camera(later, incident_required=False)
    client.force_login(officer)
    response = watch(client, filed, later)
    assert response.status_code == 403 and "not within the approved scope" in response.content.decode()
    assert not LiveSession.objects.filter(camera=later).exists()
    assert AccessEntry.objects.filter(action=Action.AGENCY_ACCESS_REFUSED,
                                      detail__asked=f"live view of camera {later.code}").exists()
    # Nor through integration's own door: the staff endpoint and a session opened directly.
    assert client.post("/live/sessions/", {"camera": str(later.code)},
                       content_type="application/json").status_code in (302, 401, 403, 404)
    with pytest.raises(live.LiveRefused, match="No approved live-view request"):
        live.live_session_open(user=officer, camera=later, incident=None, reason=REASON)


def test_outside_the_window_is_refused_with_the_reason(client, officer, reviewer, shop):
    soon = approved(officer, reviewer, starts_at=timezone.now() + timedelta(hours=1))
    client.force_login(officer)
    response = watch(client, soon, shop)
    assert response.status_code == 403 and "opens at" in response.content.decode()

    over = approved(officer, reviewer)
    AgencyRequest.objects.filter(pk=over.pk).update(approved_until=timezone.now() - timedelta(seconds=1))
    response = watch(client, over, shop)
    assert response.status_code == 403 and "expired" in response.content.decode()
    assert not LiveSession.objects.exists()


def test_someone_else_of_the_agency_may_not_watch(client, officer, police, reviewer, shop):
    filed = approved(officer, reviewer)
    colleague = trained(agency_user(police, "colleague"))
    client.force_login(colleague)
    response = watch(client, filed, shop)
    assert response.status_code == 403 and "Only the person who filed" in response.content.decode()


def test_every_live_rule_still_applies(client, officer, police, reviewer, shop, settings):
    filed = approved(officer, reviewer)
    client.force_login(officer)
    # Training: none on record for this person.
    untrained = agency_user(police, "untrained")
    mine = approved(untrained, reviewer)
    client.force_login(untrained)
    assert "no privacy training" in watch(client, mine, shop).content.decode()
    # The owner paused, then stopped sharing.
    client.force_login(officer)
    live.live_share_pause(camera=shop, until=timezone.now() + timedelta(hours=1))
    assert "paused" in watch(client, filed, shop).content.decode()
    live.live_share_stop(camera=shop)
    assert "does not share this camera live" in watch(client, filed, shop).content.decode()
    assert not LiveSession.objects.exists()
    assert AccessEntry.objects.filter(action=Action.LIVE_REFUSED).count() == 3


def test_a_residential_ban_and_the_owners_incident_rule_hold(client, officer, reviewer, settings):
    home = CameraFactory(owner=OwnerFactory(kind="resident"), location=HERE)
    share_camera(home, incident_required=False)
    strict_shop = CameraFactory(owner=OwnerFactory(kind="business"), location=HERE)
    share_camera(strict_shop, incident_required=True)
    filed = approved(officer, reviewer)
    client.force_login(officer)
    settings.LIVE_RESIDENTIAL_ALLOWED = False  # Nashville's ordinance
    assert "residential" in watch(client, filed, home).content.decode()
    assert "not for an outside agency" in watch(client, filed, strict_shop).content.decode()
    assert not LiveSession.objects.exists()


def test_a_policy_without_agency_live_views_refuses_the_request_when_filed(officer, settings):
    settings.AGENCY_LIVE_VIEWS = False
    with pytest.raises(services.AgencyRequestRefused, match="does not allow outside agencies live views"):
        file_live(officer)
    refused = AgencyRequest.objects.get()
    assert refused.state == AgencyRequest.State.REFUSED
    assert AccessEntry.objects.filter(action=Action.AGENCY_REQUEST_REFUSED).exists()


@pytest.mark.django_db(transaction=True)
def test_the_socket_admits_the_agencys_person_to_their_own_view_only(officer, police, reviewer, shop):
    filed = approved(officer, reviewer)
    session = services.agency_live_open(user=officer, request=filed, camera_code=shop.code, reason=REASON)
    mine, colleagues = session_cookie(officer), session_cookie(trained(agency_user(police, "colleague2")))

    async def scenario():
        socket = viewer_socket(session.code, mine)
        connected, _ = await socket.connect(timeout=5)
        info = await receive_json_type(socket, "session")
        await socket.disconnect(code=1000)
        other = viewer_socket(session.code, colleagues)
        await other.connect(timeout=5)
        ended = await other.receive_output(timeout=5)
        await other.disconnect()
        return connected, info, ended

    connected, info, ended = run_async(scenario())
    assert connected and info["session"] == str(session.code)
    assert "has ended" in ended.get("text", "")  # a colleague's guess is answered as any stranger's
