"""Footage requests are rendered once per batch and built without the email package (common.mail_batch,
common.mime): each owner still reads exactly the mail the per-message path (render_templated, Django's
EmailMultiAlternatives) gave them, whatever their name holds, in the language the mail is sent in."""

import email
import email.policy
import logging
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from common.mail import render_templated
from common.mail_batch import MailBatch
from requests_app import mailing
from requests_app.models import FootageRequest
from tests.conftest import parsed_mail
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db

NAMES = [
    "Dan O'Neil <Jr> & \"Sons\"",
    "José Núñez-Ærøskøbing 李",
    "Ana\nBcc: victim@example.org\r\nX-Evil: 1",
    "{{ incident.internal_notes }} {% now 'Y' %}",
    "<script>alert(1)</script>",
    "   spaced   out   ",
    "\ue0000\ue001 looks like a slot",
]
LABELS = ["Porch <north> & \"gate\"", "Cámara del patio", "Line\nbreak\r\nlabel", "{{ url }}", "   ", "x" * 120,
          "Garage ☂"]


def one_kind_of_newline(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read(data: bytes) -> dict:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert [defect for part in message.walk() for defect in part.defects] == []
    # Django folds a non-ASCII subject onto a line of its own, read back as a leading space mail programs drop.
    return {"subject": str(message["Subject"]).strip(), "from": str(message["From"]), "to": str(message["To"]),
            "text": message.get_body(preferencelist=("plain",)).get_content(),
            "html": message.get_body(preferencelist=("html",)).get_content()}


@pytest.fixture
def owners_requests(incident):
    requests = []
    for i, (name, label) in enumerate(zip(NAMES, LABELS, strict=True)):
        camera = CameraFactory(label=label, owner=OwnerFactory(name=name, email=f"batch{i}@example.org"))
        requests.append(FootageRequest.objects.create(incident=incident, camera=camera, camera_label=label,
                                                      nonce=f"batch-{i}"))
    return list(FootageRequest.objects.filter(pk__in=[r.pk for r in requests])
                .select_related("incident", "camera__owner").order_by("pk"))


def both_ways(requests, name="footage-request"):
    """(batched, per message) as an owner reads them, for each request."""
    batch = MailBatch(name=name, slots=mailing.MAIL_SLOTS)
    expires_at = timezone.now() + timedelta(days=14)
    pairs = []
    for request in requests:
        context = mailing._mail_context(request, expires_at=expires_at)
        batched = batch.mail(to=request.camera.owner.email, context=context).data
        alone = render_templated(to=request.camera.owner.email, name=name, context=context)
        pairs.append((read(batched), read(alone.message().as_bytes(linesep="\r\n"))))
    return pairs


@pytest.mark.parametrize("name", ["footage-request", "footage-reminder"])
def test_the_batched_mail_is_what_each_owner_got_from_the_per_message_path(owners_requests, name):
    pairs = both_ways(owners_requests, name)

    for batched, alone in pairs:
        assert batched == alone
    names = [pair[0]["text"] for pair in pairs]
    assert "Hello Dan O'Neil <Jr> & \"Sons\"," in names[0]
    assert "Dan O&#x27;Neil &lt;Jr&gt; &amp; &quot;Sons&quot;" in pairs[0][0]["html"]
    assert "José Núñez-Ærøskøbing 李" in names[1]
    assert "{{ incident.internal_notes }} {% now 'Y' %}" in names[3] and "SECRET-NOTE" not in names[3]
    assert "&lt;script&gt;" in pairs[4][0]["html"] and "<script>" not in pairs[4][0]["html"]
    assert "Hello \ue0000\ue001 looks like a slot," in names[6]
    assert len({pair[0]["text"] for pair in pairs}) == len(pairs)  # each owner their own link and name


def test_a_name_or_label_with_line_breaks_stays_inside_its_header(owners_requests):
    pairs = both_ways(owners_requests)

    subject = pairs[2][0]["subject"]
    assert subject == pairs[2][1]["subject"] and "\n" not in subject and "\r" not in subject
    assert '"Line break label"' in subject


def test_a_label_that_looks_like_an_encoded_word_is_shown_as_typed(owners_requests):
    """Django passed such a subject through unencoded and mail programs showed "Hi"; now it arrives as typed."""
    request = owners_requests[0]
    request.camera_label = "=?utf-8?b?SGk=?="

    batched, _alone = both_ways([request])[0]

    assert '"=?utf-8?b?SGk=?="' in batched["subject"]


def test_the_mail_speaks_the_language_it_is_sent_in(owners_requests):
    with translation.override("es"):
        spanish = both_ways(owners_requests[:2])
    english = both_ways(owners_requests[:2])

    for batched, alone in spanish:
        assert batched == alone
    month = f"{timezone.localtime(owners_requests[0].incident.starts_at):%B}"
    assert month in english[0][0]["text"] and month not in spanish[0][0]["text"]  # Django's Spanish dates


def test_a_template_that_reads_more_than_the_slots_is_rendered_message_by_message(owners_requests, caplog):
    """A slot on `incident` while the templates read other fields of it: the batch cannot cut one rendering
    into pieces, so it renders each message on its own, as before, and says so."""
    batch = MailBatch(name="footage-request", slots=("incident.case_number",))
    request = owners_requests[0]
    context = mailing._mail_context(request, expires_at=timezone.now())

    with caplog.at_level(logging.WARNING, logger="common.mail_batch"):
        batched = read(batch.mail(to=request.camera.owner.email, context=context).data)

    alone = render_templated(to=request.camera.owner.email, name="footage-request", context=context)
    assert batched == read(alone.message().as_bytes(linesep="\r\n"))
    assert "rendered message by message" in caplog.text


def test_owners_of_a_batch_receive_their_own_mail_over_smtp(owners_requests, smtp_sink):
    run = mailing.footage_requests_mail(request_ids=[r.pk for r in owners_requests])

    assert run.sent == len(owners_requests)
    received = {str(m["To"]): m for m in parsed_mail(smtp_sink)}
    assert sorted(received) == sorted(r.camera.owner.email for r in owners_requests)
    for request in owners_requests:
        text = received[request.camera.owner.email].get_body(preferencelist=("plain",)).get_content()
        assert one_kind_of_newline(f"Hello {request.camera.owner.name},") in one_kind_of_newline(text)


def test_a_backend_other_than_smtp_gets_the_same_mail(owners_requests, settings, mailoutbox):
    """The in-memory backend (and the console one) take Django messages: the built bytes reach them unchanged."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    run = mailing.footage_requests_mail(request_ids=[r.pk for r in owners_requests[:2]])

    assert run.sent == 2 and len(mailoutbox) == 2
    first = mailoutbox[0]
    assert first.to == [owners_requests[0].camera.owner.email]
    assert f"Hello {owners_requests[0].camera.owner.name}," in first.body
    assert read(first.message().as_bytes())["subject"] == first.subject
