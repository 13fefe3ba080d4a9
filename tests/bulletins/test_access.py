"""Who sees a bulletin: its recipients, its sender, supervisors and auditors; nobody else (another patrol officer,
an investigator who did not send it, a camera's owner, an outside agency's account even given every role,
anonymous visitors). Over the pages, the still and the websockets."""


import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from agencies.models import OutsideAgency
from bulletins import services
from bulletins.services import Addressees, Still
from connect.asgi import application
from tests.agencies.conftest import agency_user
from tests.bulletins.conftest import in_thread, jpeg
from tests.conftest import make_staff, sign_in_owner
from tests.own_loop import run_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(officers, analyst, owner_a):
    camera = owner_a.cameras.get()
    return services.bulletin_send(sender=analyst, description="white hat, grey backpack", addressees=Addressees(
        units=["2B11"]), still=Still(jpeg=jpeg(), camera_code=str(camera.code), owner_code=str(owner_a.code)))


def browser(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def people(officers, analyst):
    outsider = agency_user(OutsideAgency.objects.create(name="Federal Bureau of Examples", type="federal",
                                                        jurisdiction_state="DC"), "agent", with_every_role=True)
    outsider.is_staff = True
    outsider.save()
    return {"recipient": officers[0], "other_officer": officers[1], "sender": analyst,
            "supervisor": make_staff("supervisor"), "auditor": make_staff("auditor"),
            "investigator": make_staff("investigator"), "outsider": outsider, "anonymous": None}


SEES = {"recipient", "sender", "supervisor", "auditor"}
FOLLOWS = {"sender", "supervisor", "auditor"}  # the receipts page


def test_only_recipients_the_sender_supervisors_and_auditors_get_the_still(sent, people):
    for who, user in people.items():
        response = browser(user).get(f"/bulletins/{sent.code}/still.jpg")
        if who in SEES:
            assert response.status_code == 200 and response["Content-Type"] == "image/jpeg", who
            assert response.content.startswith(b"\xff\xd8"), who
        else:
            assert response.status_code in (401, 404), who


def test_only_the_sender_supervisors_and_auditors_follow_the_receipts(sent, people):
    for who, user in people.items():
        response = browser(user).get(f"/bulletins/{sent.code}/")
        if who in FOLLOWS:
            assert response.status_code == 200 and b"white hat" in response.content, who
            assert b"adams" in response.content, who
        else:
            assert response.status_code in (302, 404), who
            assert b"white hat" not in response.content, who


def test_the_owner_signed_in_to_the_portal_sees_neither_still_nor_content(client, sent, owner_a):
    sign_in_owner(client, owner_a)
    assert client.get(f"/bulletins/{sent.code}/still.jpg").status_code == 401
    assert client.get(f"/bulletins/{sent.code}/").status_code == 302
    history = client.get("/owner/history/").content.decode()
    assert "shared a still from your camera with patrol units" in history
    assert "white hat" not in history and "adams" not in history


def test_only_those_with_the_role_open_the_patrol_page_and_compose(people):
    for who, user in people.items():
        patrol = browser(user).get("/patrol/")
        assert (patrol.status_code == 200) == (who in {"recipient", "other_officer", "investigator"}), who
        compose = browser(user).get("/bulletins/new/")
        assert (compose.status_code == 200) == (who in {"sender", "investigator"}), who


def socket_for(user, path="/ws/patrol/") -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={browser(user).cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def test_patrol_sockets_hear_only_their_own_bulletins(people, analyst):
    adams, baker = people["recipient"], people["other_officer"]
    adams_socket, baker_socket = socket_for(adams), socket_for(baker)

    async def scenario():
        for socket in (adams_socket, baker_socket):
            connected, _ = await socket.connect(timeout=5)
            assert connected
            assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        bulletin = await in_thread(
            services.bulletin_send, sender=analyst, description="red hoodie", addressees=Addressees(units=["2B11"]))
        heard = await adams_socket.receive_json_from(timeout=5)
        assert heard["type"] == "bulletin" and heard["bulletin"]["code"] == str(bulletin.code)
        assert heard["bulletin"]["description"] == "red hoodie"
        assert await baker_socket.receive_nothing(timeout=1)
        # Baker cannot act on Adams's bulletin either.
        await baker_socket.send_json_to({"type": "ack", "code": str(bulletin.code)})
        assert (await baker_socket.receive_json_from(timeout=5))["type"] == "error"
        await adams_socket.send_json_to({"type": "ack", "code": str(bulletin.code)})
        answer = await adams_socket.receive_json_from(timeout=5)
        assert answer == {"type": "receipt", "code": str(bulletin.code), "state": "acknowledged"}
        for socket in (adams_socket, baker_socket):
            await socket.disconnect()

    run_async(scenario())


def test_patrol_socket_refuses_strangers_and_roles_without_it(people):
    expected = {"anonymous": 4401, "outsider": 4401, "sender": 4403, "supervisor": 4403, "auditor": 4403}

    async def scenario():
        for who, code in expected.items():
            socket = socket_for(people[who])
            connected, closed = await socket.connect(timeout=5)
            assert not connected and closed == code, who

    run_async(scenario())


def test_the_receipts_socket_is_for_the_sender_supervisors_and_auditors_and_goes_live(sent, people):
    path = f"/ws/bulletins/{sent.code}/"

    async def scenario():
        for who in ("recipient", "other_officer", "investigator", "outsider", "anonymous"):
            socket = socket_for(people[who], path)
            connected, _ = await socket.connect(timeout=5)
            assert not connected, who
        follower = socket_for(people["sender"], path)
        connected, _ = await follower.connect(timeout=5)
        assert connected
        snapshot = await follower.receive_json_from(timeout=5)
        assert [(r["user"], r["state"]) for r in snapshot["receipts"]] == [("adams", "sent")]
        await in_thread(services.receipt_mark, user=people["recipient"], code=sent.code, step="acknowledged")
        heard = await follower.receive_json_from(timeout=5)
        assert heard["receipt"]["user"] == "adams" and heard["receipt"]["state"] == "acknowledged"
        await follower.disconnect()

    run_async(scenario())


def test_a_patrol_socket_closes_when_the_officer_loses_the_role(people):
    adams = people["recipient"]
    socket = socket_for(adams)

    async def scenario():
        connected, _ = await socket.connect(timeout=5)
        assert connected and (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        await in_thread(adams.groups.clear)
        closed = await socket.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4401

    run_async(scenario())


@pytest.fixture
def clip_sent(officers, analyst, clip_of_case):
    from bulletins import clip_segments

    bulletin = clip_segments.bulletin_clip_compose(sender=analyst, description="white hat, grey backpack",
                                                   addressees=Addressees(units=["2B11"]), clip_code=clip_of_case.code,
                                                   in_s=0, out_s=2)
    bulletin.refresh_from_db()  # the task ran when the compose committed (eager here)
    assert bulletin.state == bulletin.State.SENT
    return bulletin


def test_only_recipients_the_sender_supervisors_and_auditors_get_the_clip_segment(clip_sent, people):
    from audit.actions import Action
    from audit.models import AccessEntry

    for who, user in people.items():
        response = browser(user).get(f"/bulletins/{clip_sent.code}/clip.mp4")
        if who in SEES:
            assert response.status_code == 200 and response["Content-Type"] == "video/mp4", who
            assert response.content[4:8] == b"ftyp" and response["Accept-Ranges"] == "bytes", who
            assert AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED, actor_id=user.pk).count() == 1, who
        else:
            assert response.status_code in (401, 404), who
            assert b"ftyp" not in response.content, who
        assert browser(user).get(f"/bulletins/{clip_sent.code}/still.jpg").status_code in (401, 404), who


def test_a_phone_player_gets_ranges_and_one_viewing_is_one_entry(clip_sent, people):
    from audit.actions import Action
    from audit.models import AccessEntry

    phone = browser(people["recipient"])
    whole = phone.get(f"/bulletins/{clip_sent.code}/clip.mp4").content
    first = phone.get(f"/bulletins/{clip_sent.code}/clip.mp4", HTTP_RANGE="bytes=0-1")
    assert first.status_code == 206 and first.content == whole[:2]
    assert first["Content-Range"] == f"bytes 0-1/{len(whole)}"
    rest = phone.get(f"/bulletins/{clip_sent.code}/clip.mp4", HTTP_RANGE="bytes=2-")
    assert rest.status_code == 206 and first.content + rest.content == whole
    assert phone.get(f"/bulletins/{clip_sent.code}/clip.mp4",
                     HTTP_RANGE=f"bytes={len(whole)}-").status_code == 416
    viewings = AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED, actor_id=people["recipient"].pk)
    assert viewings.count() == 2  # the whole read and the player's first range; not its later ones


def test_the_owner_sees_the_clip_segment_shared_but_not_its_content(client, clip_sent, owner_a):
    sign_in_owner(client, owner_a)
    assert client.get(f"/bulletins/{clip_sent.code}/clip.mp4").status_code == 401
    history = client.get("/owner/history/").content.decode()
    assert "shared a clip segment from your camera with patrol units" in history
    assert "white hat" not in history and "adams" not in history
