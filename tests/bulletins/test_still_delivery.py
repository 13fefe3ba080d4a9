"""A new bulletin's still on its recipients' patrol sockets (bulletins.still_delivery): the frame goes only to a
recipient who may have it now, each delivery is in the ledger before its bytes leave, the still is decrypted once,
and its plaintext is kept few and briefly. A failed check or write sends nothing and tells the page to ask by
address instead."""

import uuid

import pytest
from django.test import Client

from agencies.models import OutsideAgency
from audit.actions import Action
from audit.models import AccessEntry
from bulletins import media, services, still_delivery
from bulletins.models import Recipient
from bulletins.services import Addressees, Still
from bulletins.still_delivery import Delivery, Plaintexts, deliveries_record
from tests.agencies.conftest import agency_user
from tests.bulletins.conftest import in_thread, jpeg, officer
from tests.bulletins.test_access import socket_for
from tests.conftest import wait_for
from tests.own_loop import run_async


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.session.session_key


def viewed_by(user) -> list[AccessEntry]:
    return list(AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED, actor_id=user.pk))


@pytest.fixture
def with_still(officers, analyst):
    """A bulletin with a still to both officers."""
    picture = jpeg(colour=(10, 200, 40))
    bulletin = services.bulletin_send(sender=analyst, description="grey sedan", still=Still(jpeg=picture),
                                      addressees=Addressees(units=["2B11", "4C22"]))
    return bulletin, picture


@pytest.mark.django_db
def test_each_recipient_who_may_have_it_gets_the_still_and_each_delivery_is_recorded(with_still, officers):
    bulletin, picture = with_still
    adams, baker = officers
    asked = [Delivery(code=str(bulletin.code), user_id=user.pk, session_key=session_of(user)) for user in officers]
    sent = deliveries_record(asked)
    assert sent == {asked[0]: picture, asked[1]: picture}
    for user in officers:
        [entry] = viewed_by(user)
        assert entry.target_code == str(bulletin.code) and entry.detail["via"] == "patrol socket"


@pytest.mark.django_db
def test_no_still_and_no_entry_for_whoever_may_not_have_it_now(with_still, officers):
    bulletin, picture = with_still
    adams, baker = officers
    code = str(bulletin.code)
    signed_out = Client()
    signed_out.force_login(baker)
    baker_session = signed_out.session.session_key
    signed_out.logout()  # the session's row is gone: its socket is about to close
    carter = officer("carter", "5D33", "Downtown", None)  # a patrol officer, not addressed
    agent = agency_user(OutsideAgency.objects.create(name="Federal Bureau of Examples", type="federal",
                                                     jurisdiction_state="DC"), "agent", with_every_role=True)
    agent.is_staff = True
    agent.save()
    Recipient.objects.create(bulletin=bulletin, user=agent, via="named")  # as if it had slipped in
    asked = [
        Delivery(code=code, user_id=baker.pk, session_key=baker_session),  # a recipient, signed out
        Delivery(code=code, user_id=carter.pk, session_key=session_of(carter)),  # not a recipient
        Delivery(code=code, user_id=agent.pk, session_key=session_of(agent)),  # an outside agency's person
        Delivery(code=str(uuid.uuid4()), user_id=adams.pk, session_key=session_of(adams)),  # no such bulletin
    ]
    assert deliveries_record(asked) == {}
    adams.groups.clear()  # the role removed after the bulletin was sent
    assert deliveries_record([Delivery(code=code, user_id=adams.pk, session_key=session_of(adams))]) == {}
    assert not AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED).exists()


@pytest.mark.django_db
def test_an_expired_still_is_not_delivered(with_still, officers):
    bulletin, _ = with_still
    services.bulletins_media_purge(now=bulletin.expires_at)
    adams = officers[0]
    assert deliveries_record([Delivery(code=str(bulletin.code), user_id=adams.pk,
                                       session_key=session_of(adams))]) == {}


@pytest.mark.django_db
def test_the_still_is_decrypted_once_for_a_burst(with_still, officers, monkeypatch):
    bulletin, picture = with_still
    opened = []
    real_open = media.media_open
    monkeypatch.setattr(media, "media_open", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    monkeypatch.setattr(still_delivery, "plaintexts", Plaintexts())
    for user in officers:  # two batches, as two moments of one burst
        deliveries_record([Delivery(code=str(bulletin.code), user_id=user.pk, session_key=session_of(user))])
    assert len(opened) == 1
    assert all(len(viewed_by(user)) == 1 for user in officers)


def test_plaintexts_are_few_and_short_lived(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(still_delivery.time, "monotonic", lambda: now[0])
    kept = Plaintexts(kept=2, burst_s=30)
    for code in ("a", "b", "c"):
        kept.put(code, code.encode())
    assert kept.get("a") is None and kept.get("b") == b"b" and kept.get("c") == b"c"
    now[0] += 31
    assert kept.get("c") is None and len(kept) == 0


@pytest.mark.django_db(transaction=True)
def test_the_still_follows_the_bulletin_on_the_recipients_socket_only(officers, analyst):
    adams, baker = officers
    picture = jpeg(colour=(0, 0, 250))
    adams_socket, baker_socket = socket_for(adams), socket_for(baker)

    async def scenario():
        for socket in (adams_socket, baker_socket):
            connected, _ = await socket.connect(timeout=5)
            assert connected and (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        bulletin = await in_thread(services.bulletin_send, sender=analyst, description="blue van",
                                           still=Still(jpeg=picture), addressees=Addressees(units=["2B11"]))
        heard = await adams_socket.receive_json_from(timeout=5)
        assert heard["bulletin"]["code"] == str(bulletin.code) and heard["bulletin"]["still_on_socket"] is True
        frame = await adams_socket.receive_output(timeout=5)
        assert frame["bytes"] == bulletin.code.bytes + picture
        assert await baker_socket.receive_nothing(timeout=1)
        for socket in (adams_socket, baker_socket):
            await socket.disconnect()
        return bulletin

    bulletin = run_async(scenario())
    [entry] = viewed_by(adams)
    assert entry.target_code == str(bulletin.code)
    assert not viewed_by(baker)
    receipt = Recipient.objects.get(bulletin=bulletin, user=adams)
    wait_for(lambda: (receipt.refresh_from_db() or receipt).received_at, what="adams's receipt stamped received")


@pytest.mark.django_db(transaction=True)
def test_receipts_of_the_moment_are_stamped_once_together_and_the_sender_sees_them(with_still, officers, analyst):
    bulletin, _ = with_still
    adams, baker = officers
    follower = socket_for(analyst, f"/ws/bulletins/{bulletin.code}/")
    asked = [(str(bulletin.code), adams.pk), (str(bulletin.code), baker.pk)]

    async def scenario():
        connected, _ = await follower.connect(timeout=5)
        assert connected and (await follower.receive_json_from(timeout=5))["type"] == "receipts"
        await in_thread(services.receipts_mark_received, asked)
        heard = await follower.receive_json_from(timeout=5)
        assert heard["type"] == "receipts"
        assert sorted((r["user"], r["state"]) for r in heard["receipts"]) == [("adams", "received"),
                                                                            ("baker", "received")]
        await in_thread(services.receipts_mark_received, asked)  # again: nothing new
        assert await follower.receive_nothing(timeout=1)
        await follower.disconnect()

    run_async(scenario())
    stamped = {r.user_id: r.received_at for r in Recipient.objects.filter(bulletin=bulletin)}
    assert all(stamped.values()) and len(stamped) == 2


@pytest.mark.django_db(transaction=True)
def test_a_failed_check_sends_no_frame_and_the_page_asks_by_address(officers, analyst, monkeypatch):
    adams = officers[0]

    def database_away(deliveries):
        raise RuntimeError("the database is away")

    monkeypatch.setattr(still_delivery, "deliveries_record", database_away)
    socket = socket_for(adams)

    async def scenario():
        connected, _ = await socket.connect(timeout=5)
        assert connected and (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        bulletin = await in_thread(services.bulletin_send, sender=analyst, description="blue van",
                                           still=Still(jpeg=jpeg()), addressees=Addressees(units=["2B11"]))
        assert (await socket.receive_json_from(timeout=5))["type"] == "bulletin"
        told = await socket.receive_json_from(timeout=5)  # text, not a frame
        assert told == {"type": "still_by_page", "code": str(bulletin.code)}
        await socket.disconnect()

    run_async(scenario())
    assert not viewed_by(adams)
