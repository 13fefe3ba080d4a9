"""The yearly re-confirmation, on a moved clock: ask, remind, pause with a notice, purge with a notice; and the
owner's one click from the mail (through the real SMTP sink) that starts a new year."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from registry.models import Camera, Owner
from registry.reconfirmation import reconfirmations_advance
from tests.conftest import parsed_mail, sign_in_owner
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.registry.test_registration import camera_fields

pytestmark = pytest.mark.django_db


def days(n: float):
    return timezone.now() + timedelta(days=n)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def reconfirm_path(message) -> str:
    """The one-click link in a re-confirmation mail, as a path for the test client."""
    urls = re.findall(r"https?://\S+/owner/reconfirm/\S+/", text_of(message))
    assert len(urls) == 1, text_of(message)
    return "/" + urls[0].split("/", 3)[3]


def mails_to(sink, address: str) -> list:
    return [m for m in parsed_mail(sink) if m["To"] == address]


@pytest.fixture
def carol(db):
    owner = OwnerFactory(name="Carol Clark", email="carol@example.org")
    CameraFactory(owner=owner, label="Carol garage")
    CameraFactory(owner=owner, label="Carol side gate")
    return owner


def test_the_whole_cycle_asks_reminds_pauses_and_purges_with_a_notice_each_time(carol, smtp_sink, settings):
    assert reconfirmations_advance(now=days(settings.RECONFIRM_DAYS - 1))["asked"] == 0
    assert mails_to(smtp_sink, "carol@example.org") == []

    asked_on = settings.RECONFIRM_DAYS + 1
    assert reconfirmations_advance(now=days(asked_on))["asked"] == 1
    assert reconfirmations_advance(now=days(asked_on))["asked"] == 0  # a second run mails nobody twice
    [ask] = mails_to(smtp_sink, "carol@example.org")
    assert "still there" in ask["Subject"]
    assert "Carol garage" in text_of(ask) and "Carol side gate" in text_of(ask)
    assert set(carol.cameras.values_list("status", flat=True)) == {Camera.Status.ACTIVE}

    reconfirmations_advance(now=days(asked_on + settings.RECONFIRM_REMIND_DAYS + 1))
    reminder = mails_to(smtp_sink, "carol@example.org")[-1]
    assert reminder["Subject"].startswith("Reminder")
    assert set(carol.cameras.values_list("status", flat=True)) == {Camera.Status.ACTIVE}

    paused_on = asked_on + settings.RECONFIRM_PAUSE_DAYS + 1
    assert reconfirmations_advance(now=days(paused_on))["paused"] == 1
    notice = mails_to(smtp_sink, "carol@example.org")[-1]
    assert "paused" in notice["Subject"] and "police will not see them" in text_of(notice)
    assert set(carol.cameras.values_list("status", flat=True)) == {Camera.Status.PAUSED}

    assert reconfirmations_advance(now=days(paused_on + settings.RECONFIRM_PURGE_DAYS - 1))["purged"] == 0
    assert reconfirmations_advance(now=days(paused_on + settings.RECONFIRM_PURGE_DAYS + 1))["purged"] == 1
    gone = mails_to(smtp_sink, "carol@example.org")[-1]
    assert "deleted" in gone["Subject"] and "your registration and your contact details are deleted" in text_of(gone)
    assert not Owner.objects.filter(pk=carol.pk).exists()
    assert len(mails_to(smtp_sink, "carol@example.org")) == 4
    actions = list(AccessEntry.objects.filter(owner_code=str(carol.code)).values_list("action", flat=True))
    for action in (Action.RECONFIRMATION_ASKED, Action.RECONFIRMATION_REMINDED, Action.CAMERA_PAUSED_UNCONFIRMED,
                   Action.CAMERA_PURGED_UNCONFIRMED):
        assert actions.count(action) == 2, action  # one per camera


def test_one_click_from_the_mail_confirms_and_starts_a_new_year(carol, smtp_sink, settings):
    reconfirmations_advance(now=days(settings.RECONFIRM_DAYS + 1))
    client = Client()
    path = reconfirm_path(mails_to(smtp_sink, "carol@example.org")[-1])

    page = client.get(path)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Yes, my cameras are still there" in page.content.decode()
    assert all(c.awaits_reconfirmation for c in carol.cameras.all())

    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/owner/"
    portal = client.get("/owner/").content.decode()
    assert "confirmed for another year" in portal and "Carol garage" in portal
    assert "Are your cameras still there?" not in portal
    assert not any(c.awaits_reconfirmation for c in carol.cameras.all())
    assert client.post(path).status_code == 410  # single use

    # A new year: nothing is asked before it ends, and the pause that was coming never comes.
    sent = len(parsed_mail(smtp_sink))
    counts = reconfirmations_advance(now=days(settings.RECONFIRM_DAYS - 1))
    assert counts == {"purged": 0, "paused": 0, "reminded": 0, "asked": 0}
    assert len(parsed_mail(smtp_sink)) == sent
    assert reconfirmations_advance(now=days(settings.RECONFIRM_DAYS + 1))["asked"] == 1


def test_confirming_after_the_pause_makes_the_cameras_active_again(carol, smtp_sink, settings):
    owner_paused = CameraFactory(owner=carol, label="Carol shed", status=Camera.Status.PAUSED)
    asked_on = settings.RECONFIRM_DAYS + 1
    reconfirmations_advance(now=days(asked_on))
    reconfirmations_advance(now=days(asked_on + settings.RECONFIRM_PAUSE_DAYS + 1))
    notice = mails_to(smtp_sink, "carol@example.org")[-1]
    assert "paused" in notice["Subject"] and "Carol shed" not in text_of(notice)  # it was paused already

    client = Client()
    client.post(reconfirm_path(notice))

    statuses = dict(carol.cameras.values_list("label", "status"))
    assert statuses == {"Carol garage": "active", "Carol side gate": "active", "Carol shed": "paused"}
    owner_paused.refresh_from_db()
    assert owner_paused.reconfirmed_at is not None  # confirmed, and still paused as its owner wanted


def test_the_portal_asks_and_editing_a_camera_confirms_it(carol, smtp_sink, settings, client):
    reconfirmations_advance(now=days(settings.RECONFIRM_DAYS + 1))
    sign_in_owner(client, carol)
    portal = client.get("/owner/").content.decode()
    assert "Are your cameras still there?" in portal and "2 cameras are waiting for your answer" in portal

    garage = carol.cameras.get(label="Carol garage")
    data = {key.replace("cameras-0-", ""): value for key, value in camera_fields(label="Carol garage").items()}
    assert client.post(f"/owner/cameras/{garage.code}/", data).status_code == 302
    garage.refresh_from_db()
    assert not garage.awaits_reconfirmation
    assert "One camera is waiting for your answer" in client.get("/owner/").content.decode()

    client.post("/owner/reconfirm/")
    assert not carol.cameras.filter(reconfirm_asked_at__isnull=False).exists()
    history = client.get("/owner/history/").content.decode()
    assert "asked you to confirm your camera still exists" in history


def test_one_owners_link_never_confirms_or_reveals_another_owners_cameras(carol, smtp_sink, settings):
    dave = OwnerFactory(name="Dave Dunn", email="dave@example.org")
    CameraFactory(owner=dave, label="Dave backyard")
    reconfirmations_advance(now=days(settings.RECONFIRM_DAYS + 1))
    path = reconfirm_path(mails_to(smtp_sink, "carol@example.org")[-1])
    assert "Dave" not in text_of(mails_to(smtp_sink, "carol@example.org")[-1])

    client = Client()
    page = client.get(path).content.decode()
    assert "Dave" not in page and "Carol garage" not in page  # the page names no camera at all
    client.post(path)

    assert dave.cameras.get().awaits_reconfirmation
    portal = client.get("/owner/").content.decode()
    assert "Carol garage" in portal and "Dave backyard" not in portal
    # The token is good for re-confirmation only: not as a sign-in or a registration confirmation link.
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert Client().post(f"/owner/sign-in/{token}/").status_code == 410
    assert Client().post(f"/register/confirm/{token}/").status_code == 410


def test_the_mail_is_in_the_owners_language(smtp_sink, settings):
    owner = OwnerFactory(email="eva@example.org", language="es")
    CameraFactory(owner=owner, label="Entrada")
    reconfirmations_advance(now=days(settings.RECONFIRM_DAYS + 1))
    [ask] = mails_to(smtp_sink, "eva@example.org")
    assert "cámaras" in ask["Subject"]


def test_in_the_demo_the_resident_is_asked_about_the_driveway_and_confirms_from_the_mail(smtp_sink, settings):
    from django.core.management import call_command

    settings.DEMO = True
    call_command("seed_demo", residents=5, businesses=5, agency=2, addresses=50)
    call_command("advance_reconfirmations")
    [ask] = mails_to(smtp_sink, "resident@example.org")
    assert "Driveway" in text_of(ask) and "Front porch" not in text_of(ask)

    client = Client()
    assert client.post(reconfirm_path(ask)).status_code == 302
    assert not Camera.objects.filter(owner__email="resident@example.org", reconfirm_asked_at__isnull=False).exists()


def test_the_lapsed_links_purge_keeps_an_unused_link_for_the_whole_cycle(carol, smtp_sink, settings):
    from registry.models import OwnerLink
    from registry.services import links_lapsed_purge

    reconfirmations_advance(now=days(settings.RECONFIRM_DAYS + 1))
    path = reconfirm_path(mails_to(smtp_sink, "carol@example.org")[-1])
    OwnerLink.objects.update(created_at=days(-(settings.LINK_PURGE_DAYS + 10)))  # older than other links live
    links_lapsed_purge()
    assert Client().post(path).status_code == 302  # still confirms: the cycle is not over

    OwnerLink.objects.update(created_at=days(-(settings.LINK_PURGE_DAYS + settings.RECONFIRM_PAUSE_DAYS
                                               + settings.RECONFIRM_PURGE_DAYS + 1)))
    assert links_lapsed_purge() == 1
