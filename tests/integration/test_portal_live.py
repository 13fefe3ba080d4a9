"""The owner's live-sharing pages and the map's live endpoints: signing with limits, stopping, pausing,
tokens shown once, masks, per-view email, and that no owner or staff member reaches what is not theirs."""

import hashlib
import json

import pytest
from django.test import Client

from audit.models import AccessEntry
from integration import services
from integration.models import ConnectorToken, LiveShare, PrivacyMask
from tests.conftest import make_staff, parsed_mail, sign_in_owner, wait_for
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db
REASON = "Following a suspect vehicle north"


def sign_form(**changes) -> dict:
    data = {"agree": "on", "signed_name": "Casey Grocer", "incident_required": "on", "incident_radius_m": "250",
            "max_session_minutes": "20", "notify_each_view": "on"}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data[f"{day}_from"], data[f"{day}_to"] = "07:00", "22:00"
    data["sun_from"] = data["sun_to"] = ""  # no viewing on Sundays
    return {**data, **changes}


@pytest.fixture
def owner_client():
    owner = OwnerFactory(kind="business", name="Corner Grocery")
    camera = CameraFactory(owner=owner, label="Store front")
    client = Client()
    sign_in_owner(client, owner)
    return client, owner, camera


def test_an_owner_signs_the_terms_with_their_limits(owner_client):
    client, owner, camera = owner_client
    page = client.get(f"/owner/cameras/{camera.code}/live/")
    assert b"Live sharing terms" in page.content and b"Type your full name to sign" in page.content
    response = client.post(f"/owner/cameras/{camera.code}/live/", sign_form(), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    share = LiveShare.objects.get(camera=camera)
    assert share.signed_name == "Casey Grocer" and share.signed_ip == "203.0.113.9" and share.terms_version
    assert share.hours["mon"] == ["07:00", "22:00"] and share.hours["sun"] is None
    assert (share.incident_radius_m, share.max_session_minutes, share.notify_each_view) == (250, 20, True)
    camera.refresh_from_db()
    assert camera.level == "integrated"
    assert AccessEntry.objects.get(action="live.share_signed").owner_code == str(owner.code)
    page = client.get(f"/owner/cameras/{camera.code}/live/")
    assert b"Stop sharing now" in page.content and b"Nobody is viewing this camera" in page.content


@pytest.mark.parametrize("changes, message", [
    ({"agree": ""}, b"This field is required"),
    ({"signed_name": ""}, b"This field is required"),
    ({"mon_to": ""}, b"Give both times"),
    ({"tue_from": "25:00"}, b"is not a time of day"),
    ({"max_session_minutes": "600"}, b"less than or equal to 240"),
])
def test_a_bad_sign_form_says_what_is_wrong_and_signs_nothing(owner_client, changes, message):
    client, owner, camera = owner_client
    response = client.post(f"/owner/cameras/{camera.code}/live/", sign_form(**changes))
    assert response.status_code == 200 and message in response.content
    assert not LiveShare.objects.exists()


def test_indoor_cameras_get_no_form(owner_client):
    client, owner, camera = owner_client
    indoor = CameraFactory(owner=owner, placement="indoor", faces_public=False)
    page = client.get(f"/owner/cameras/{indoor.code}/live/")
    assert b"Indoor cameras can never be shared live" in page.content and b"signed_name" not in page.content
    client.post(f"/owner/cameras/{indoor.code}/live/", sign_form())
    assert not LiveShare.objects.exists()


def test_stop_and_pause_from_the_portal(owner_client):
    client, owner, camera = owner_client
    client.post(f"/owner/cameras/{camera.code}/live/", sign_form())
    client.post(f"/owner/cameras/{camera.code}/live/pause/", {"hours": "8"})
    assert LiveShare.objects.get(camera=camera).paused_until is not None
    client.post(f"/owner/cameras/{camera.code}/live/pause/", {"action": "resume"})
    assert LiveShare.objects.get(camera=camera).paused_until is None
    client.post(f"/owner/cameras/{camera.code}/live/stop/")
    assert LiveShare.objects.get(camera=camera).revoked_at is not None
    assert [e.action for e in AccessEntry.objects.filter(action__startswith="live.share").order_by("seq")] == [
        "live.share_signed", "live.share_paused", "live.share_resumed", "live.share_stopped"]
    # History shows the owner each step.
    history = client.get("/owner/history/").content.decode()
    assert "live sharing stopped" in history and "you signed the live-sharing terms" in history


def test_the_connector_token_is_shown_once_and_only_its_hash_is_kept(owner_client):
    client, owner, camera = owner_client
    client.post(f"/owner/cameras/{camera.code}/live/", sign_form())
    client.post(f"/owner/cameras/{camera.code}/live/token/", {"action": "issue"})
    page = client.get(f"/owner/cameras/{camera.code}/live/").content.decode()
    token = page.split('<pre id="token-value">')[1].split("</pre>")[0]
    assert token.startswith("cct_")
    settings = page.split('<pre id="connector-settings">')[1].split("</pre>")[0]  # for the connector's settings file
    assert f"CONNECTOR_CAMERA={camera.code}\nCONNECTOR_TOKEN={token}\n" in settings
    stored = ConnectorToken.objects.get(camera=camera)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.prefix + "…"
    assert token not in client.get(f"/owner/cameras/{camera.code}/live/").content.decode()  # once only
    assert services.connector_authenticate(camera_code=camera.code, token=token) == camera
    client.post(f"/owner/cameras/{camera.code}/live/token/", {"action": "revoke"})
    assert services.connector_authenticate(camera_code=camera.code, token=token) is None


def test_masks_are_saved_and_bad_ones_explained(owner_client):
    client, owner, camera = owner_client
    client.post(f"/owner/cameras/{camera.code}/live/", sign_form())
    url = f"/owner/cameras/{camera.code}/live/masks/"
    bad = client.post(url, {"masks": json.dumps([[[0, 0], [1.5, 0], [1, 1]]]), "action": "save"})
    assert b"reaches outside the picture" in bad.content and not PrivacyMask.objects.exists()
    bad = client.post(url, {"masks": "not json", "action": "save"})
    assert b"could not be read" in bad.content
    good = client.post(url, {"masks": json.dumps([[[0, 0], [0.3, 0], [0.3, 0.4], [0, 0.4]]]), "action": "save"})
    assert good.status_code == 302 and PrivacyMask.objects.get(camera=camera).points[2] == [0.3, 0.4]
    assert client.get(f"/owner/cameras/{camera.code}/live/still.jpg").status_code == 404  # no picture yet


def test_another_owner_reaches_none_of_it(owner_client):
    client, owner, camera = owner_client
    share_camera(camera)
    intruder = Client()
    sign_in_owner(intruder, OwnerFactory(email="mallory@example.org"))
    for path in ("", "status.json", "masks/", "still.jpg"):
        assert intruder.get(f"/owner/cameras/{camera.code}/live/{path}").status_code == 404
    for path in ("stop/", "pause/", "token/", "masks/"):
        assert intruder.post(f"/owner/cameras/{camera.code}/live/{path}", {"hours": "1"}).status_code == 404
    assert LiveShare.objects.get(camera=camera).revoked_at is None
    anonymous = Client().get(f"/owner/cameras/{camera.code}/live/")
    assert anonymous.status_code == 302


def test_the_owner_sees_who_is_viewing_now_and_gets_an_email(owner_client, smtp_sink, incident_near,
                                                              django_capture_on_commit_callbacks):
    client, owner, camera = owner_client
    client.post(f"/owner/cameras/{camera.code}/live/", sign_form(sun_from="00:00", sun_to="24:00",
                                                                     mon_from="00:00", mon_to="24:00",
                                                                     tue_from="00:00", tue_to="24:00",
                                                                     wed_from="00:00", wed_to="24:00",
                                                                     thu_from="00:00", thu_to="24:00",
                                                                     fri_from="00:00", fri_to="24:00",
                                                                     sat_from="00:00", sat_to="24:00"))
    analyst = trained(make_staff("analyst"))
    with django_capture_on_commit_callbacks(execute=True):
        services.live_session_open(user=analyst, camera=camera, incident=incident_near, reason=REASON)
    status = client.get(f"/owner/cameras/{camera.code}/live/status.json").json()
    assert status["viewing"][0]["case"] == incident_near.case_number
    assert status["viewing"][0]["who"] == "Crime analyst" and status["viewing"][0]["reason"] == REASON
    wait_for(lambda: smtp_sink.messages)
    mail = parsed_mail(smtp_sink)[0]
    assert mail["To"] == owner.email and "being viewed live" in mail["Subject"]
    assert REASON in mail.get_body(preferencelist=("plain",)).get_content()


def test_map_live_endpoints_deny_by_default(live_camera, incident_near):
    info, open_url = f"/live/cameras/{live_camera.code}.json", "/live/sessions/"
    body = json.dumps({"camera": str(live_camera.code), "incident": str(incident_near.code), "reason": REASON})
    assert Client().get(info).status_code == 401
    assert Client().post(open_url, body, content_type="application/json").status_code == 401
    investigator = Client()
    investigator.force_login(trained(make_staff("investigator")))
    assert investigator.get(info).status_code == 403
    assert investigator.post(open_url, body, content_type="application/json").status_code == 403
    analyst = Client()
    analyst.force_login(trained(make_staff("analyst")))
    data = analyst.get(info).json()
    assert data["incidents"][0]["case_number"] == incident_near.case_number and data["rules"]["incident_required"]
    assert "owner" not in json.dumps(data).lower() or live_camera.owner.email not in json.dumps(data)
    opened = analyst.post(open_url, body, content_type="application/json")
    assert opened.status_code == 201 and opened.json()["socket"].startswith("/ws/live/")
    refused = analyst.post(open_url, json.dumps({"camera": str(live_camera.code), "reason": REASON}),
                           content_type="application/json")
    assert refused.status_code == 403 and "within 300 m" in refused.json()["detail"]
    for junk in ("[1]", "{", json.dumps({"camera": "nope"})):
        response = analyst.post(open_url, junk, content_type="application/json")
        assert response.status_code in (400, 404) and response.json()["detail"]


def test_making_a_shared_camera_indoor_stops_the_share(owner_client):
    from registry import services as registry_services
    from registry.forms import camera_initial

    client, owner, camera = owner_client
    share_camera(camera)
    data = {**camera_initial(camera), "placement": "indoor", "faces_public": False}
    registry_services.camera_update(camera=camera, data=data)
    assert LiveShare.objects.get(camera=camera).revoked_at is not None
    camera.refresh_from_db()
    assert camera.level == "registered"


def test_pausing_from_a_stale_page_after_stopping_says_so(owner_client):
    client, owner, camera = owner_client
    share_camera(camera)
    services.live_share_stop(camera=camera)
    response = client.post(f"/owner/cameras/{camera.code}/live/pause/", {"hours": "1"}, follow=True)
    assert response.status_code == 200 and b"not shared live" in response.content
