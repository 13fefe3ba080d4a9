"""Invitation mail through the real SMTP sink: the recipient's language, RFC 2369 / RFC 8058 unsubscribe headers,
the address cleared once sent, one-click unsubscribe honoured by the next campaign."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from audit.actions import Action
from audit.models import AccessEntry
from invitations import codes, services
from invitations.models import Campaign, Recipient, Unsubscribe
from tests.conftest import parsed_mail
from tests.invitations.helpers import csv_upload, new_campaign

pytestmark = pytest.mark.django_db


def _sent(client, csv_text: str, capture, name: str = "Downtown spring") -> Campaign:
    new_campaign(client, name=name, email_list=csv_upload(csv_text))
    campaign = Campaign.objects.get(name=name)
    with capture(execute=True):
        assert client.post(f"/invitations/{campaign.code}/send/").status_code == 302
    campaign.refresh_from_db()
    return campaign


def _unsubscribe_link(message) -> str:
    return re.search(r"<(https?://[^>]+)>", "".join(message["List-Unsubscribe"].split())).group(1)


def test_mail_carries_unsubscribe_headers_and_goes_in_the_recipients_language(
        client, staff_user, smtp_sink, owner_a, django_capture_on_commit_callbacks):
    owner_a.language = "es"
    owner_a.save()
    client.force_login(staff_user("administrator"))

    campaign = _sent(client, "ana@example.org,es\nbo@example.org\nalice@example.org\n",
                     django_capture_on_commit_callbacks)

    by_address = {message["To"]: message for message in parsed_mail(smtp_sink)}
    assert sorted(by_address) == ["alice@example.org", "ana@example.org", "bo@example.org"]
    assert "invitation to register your camera" in by_address["bo@example.org"]["Subject"]
    assert "invitación" in by_address["ana@example.org"]["Subject"]  # the list said Spanish
    assert "invitación" in by_address["alice@example.org"]["Subject"]  # a registered owner who chose Spanish
    for message in by_address.values():
        header = " ".join(message["List-Unsubscribe"].split())  # a long header is folded
        assert re.fullmatch(r"<https?://\S+/invite/unsubscribe/\S+/>", header)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert _unsubscribe_link(message) in body and "/invite/" in body
    assert campaign.status == Campaign.Status.SENT
    assert not Recipient.objects.exclude(email="").exists()  # the list itself is not kept
    assert AccessEntry.objects.filter(action=Action.INVITATIONS_SENT, target_code=str(campaign.code)).exists()
    page = client.get(f"/invitations/{campaign.code}/").content.decode()
    assert '<dd id="sends">fewer than 5</dd>' in page


def test_sending_twice_sends_nothing_more(client, staff_user, smtp_sink, django_capture_on_commit_callbacks):
    client.force_login(staff_user("administrator"))
    campaign = _sent(client, "ana@example.org\n", django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/invitations/{campaign.code}/send/")
    services.campaign_mail(campaign_id=campaign.pk)  # a second copy of the task

    assert len(smtp_sink.messages) == 1


def test_one_click_unsubscribe_then_a_later_campaign_skips_the_address(
        client, staff_user, smtp_sink, django_capture_on_commit_callbacks):
    client.force_login(staff_user("administrator"))
    _sent(client, "ana@example.org\nbo@example.org\n", django_capture_on_commit_callbacks)
    [to_ana] = [message for message in parsed_mail(smtp_sink) if message["To"] == "ana@example.org"]

    # The mail program's one-click POST (RFC 8058): no session, no CSRF token.
    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(_unsubscribe_link(to_ana), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "no more invitations" in response.content.decode()
    assert Unsubscribe.objects.filter(email_hash=codes.email_hash("ANA@example.org ")).exists()
    assert AccessEntry.objects.filter(action=Action.INVITATIONS_UNSUBSCRIBED).count() == 1
    mail_program.post(_unsubscribe_link(to_ana), {"List-Unsubscribe": "One-Click"})  # again: still one entry
    assert AccessEntry.objects.filter(action=Action.INVITATIONS_UNSUBSCRIBED).count() == 1

    smtp_sink.messages.clear()
    second = _sent(client, "Ana@Example.org\nbo@example.org\n", django_capture_on_commit_callbacks, name="Autumn")

    assert [message["To"] for message in parsed_mail(smtp_sink)] == ["bo@example.org"]
    assert second.skipped_unsubscribed == 1


def test_the_kept_hash_of_an_address_is_keyed_so_a_guess_cannot_be_tested(
        client, staff_user, smtp_sink, django_capture_on_commit_callbacks, settings):
    import hashlib

    client.force_login(staff_user("administrator"))
    _sent(client, "ana@example.org\n", django_capture_on_commit_callbacks)
    [to_ana] = parsed_mail(smtp_sink)
    Client().post(_unsubscribe_link(to_ana))

    kept = {Unsubscribe.objects.get().email_hash, Recipient.objects.get().email_hash}
    unkeyed = hashlib.sha256(b"connect-invitations-unsubscribe:ana@example.org").hexdigest()
    assert unkeyed not in kept and hashlib.sha256(b"ana@example.org").hexdigest() not in kept
    settings.INVITE_HASH_KEY = "another-key-another-key-another-key"
    assert codes.email_hash("ana@example.org") not in kept  # the key, not the address alone, makes the hash


def test_an_unsubscribe_link_mailed_before_the_key_still_works_and_is_honoured(
        client, staff_user, smtp_sink, django_capture_on_commit_callbacks):
    old_link = f"/invite/unsubscribe/{codes.unsubscribe_token(codes.email_hash_legacy('ana@example.org'))}/"
    assert Client().post(old_link).status_code == 200

    client.force_login(staff_user("administrator"))
    campaign = _sent(client, "ana@example.org\nbo@example.org\n", django_capture_on_commit_callbacks)

    assert [message["To"] for message in parsed_mail(smtp_sink)] == ["bo@example.org"]
    assert campaign.skipped_unsubscribed == 1
    # Rekeyed once the address was seen again: no unkeyed hash of it is left.
    assert list(Unsubscribe.objects.values_list("email_hash", flat=True)) == [codes.email_hash("ana@example.org")]


def test_the_unsubscribe_link_asks_first_and_a_forged_one_is_not_found(client):
    token = codes.unsubscribe_token(codes.email_hash("ana@example.org"))

    page = client.get(f"/invite/unsubscribe/{token}/")
    assert page.status_code == 200 and "Send me no more invitations" in page.content.decode()
    assert not Unsubscribe.objects.exists()  # a mail scanner opening the link unsubscribes no one
    assert client.post(f"/invite/unsubscribe/{token[:-2]}xx/").status_code == 404
    assert client.get("/invite/unsubscribe/junk/").status_code == 404
    assert not Unsubscribe.objects.exists()


def test_a_list_never_sent_is_erased_after_the_keep_days(client, staff_user, settings):
    client.force_login(staff_user("administrator"))
    new_campaign(client, email_list=csv_upload("ana@example.org\nbo@example.org\n"))
    campaign = Campaign.objects.get()
    assert services.invitation_lists_purge() == 0  # a fresh list waits to be sent

    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=campaign.created_at - timedelta(days=settings.INVITE_LIST_KEEP_DAYS, minutes=1))

    assert services.invitation_lists_purge() == 2
    assert not Recipient.objects.exclude(email="").exists()
    assert AccessEntry.objects.filter(action=Action.INVITATION_LISTS_PURGED).count() == 1
