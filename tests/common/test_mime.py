"""The hand-built MIME (common.mime) is a well-formed message that a mail program reads exactly as it reads the
one Django's email package builds for the same content: parsed back by Python's email parser, folded within
RFC 5322's limits, non-ASCII headers as RFC 2047 encoded-words, nothing from a value able to add a header."""

import email
import email.policy
import email.utils
import re

import pytest
from django.core.mail import EmailMultiAlternatives

from common import mime

TEXT = "Hello José,\n\nA line with = and trailing space \nTabs\there.\n.\nFrom the start of a line.\n"
HTML = "<p>Hello Jos&eacute; &amp; “you”</p>\n<p>" + "long " * 300 + "</p>\n"


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def djangos(*, to, subject, text, html, from_email="Raleigh PD <pd@example.org>"):
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], from_email=from_email)
    message.attach_alternative(html, "text/html")
    return parsed(message.message().as_bytes(linesep="\r\n"))


def read(message) -> dict:
    """What a mail program shows of a message. (Django folds a non-ASCII subject onto a line of its own, which the
    parser reads as a leading space; mail programs drop it, and so does this.)"""
    return {"subject": str(message["Subject"]).strip(), "from": str(message["From"]), "to": str(message["To"]),
            "type": message.get_content_type(),
            "text": message.get_body(preferencelist=("plain",)).get_content(),
            "html": message.get_body(preferencelist=("html",)).get_content()}


def defects(message) -> list:
    return [defect for part in message.walk() for defect in part.defects]


SUBJECTS = [
    "Request for camera footage, case 26-000123",
    "A much longer subject line that goes past the seventy-eight characters a header line may take before it "
    "is folded, and then some more words so that it needs three lines",
    "Solicitud de vídeo de su cámara “Porche” — caso 26-000123 🙂",
    "A NUL \x00 and a bell \x07 in a subject",
    "Two  spaces",
    "x" * 1200,  # one word too long for any line: encoded-words, which may be cut anywhere
    "",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_mail_program_reads_what_djangos_message_would_show(subject, settings):
    settings.DEFAULT_FROM_EMAIL = "Raleigh PD <pd@example.org>"
    built = parsed(mime.alternative(to="ana@example.org", subject=subject, text=TEXT, html=HTML).data)

    assert read(built) == read(djangos(to="ana@example.org", subject=subject, text=TEXT, html=HTML))
    assert built.get_content_type() == "multipart/alternative"
    assert defects(built) == []


def test_text_that_looks_like_an_encoded_word_is_shown_as_typed():
    """Django passes such a subject through as it is, and mail programs decode it ("Hi"); here it is encoded."""
    subject = "Camera =?utf-8?b?SGk=?= porch"
    built = parsed(mime.alternative(to="a@example.org", subject=subject, text="t", html="h").data)

    assert str(built["Subject"]) == subject


def test_every_line_is_within_the_limits_and_the_bodies_are_seven_bit(settings):
    settings.DEFAULT_FROM_EMAIL = "Raleigh PD <pd@example.org>"
    data = mime.alternative(to="ana@example.org", subject=SUBJECTS[2] + " " + "ñ" * 200,
                            text=TEXT + "y" * 3000 + "\n", html=HTML).data

    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    head, body = data.decode().split("\r\n\r\n", 1)
    for line in head.split("\r\n"):
        assert len(line) <= (76 if "=?" in line else 78) or line.startswith("Message-ID:"), line
    assert max(len(line) for line in body.split("\r\n")) <= 76
    message = parsed(data)
    assert message.get_body(preferencelist=("plain",)).get_content().endswith("y" * 3000 + "\r\n")
    for part in message.iter_parts():
        assert part["Content-Transfer-Encoding"] == "quoted-printable"


def test_date_and_message_id_are_there_and_each_message_has_its_own(settings):
    one, two = (parsed(mime.alternative(to="a@example.org", subject="s", text="t", html="h").data)
                for _ in range(2))

    assert email.utils.parsedate_to_datetime(one["Date"]) is not None
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", one["Message-ID"])
    assert one["Message-ID"] != two["Message-ID"]


def test_a_value_cannot_add_a_header():
    line = mime.header("Subject", "Hi\r\nBcc: victim@example.org\nX-Evil: 1")

    message = email.message_from_string(line + "\r\n\r\nbody", policy=email.policy.default)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert str(message["Subject"]) == "Hi\r\nBcc: victim@example.org\nX-Evil: 1"  # the value, kept as text


@pytest.mark.parametrize("to", ["ana@bücher.example", "o'neil+cams@example.org", "Ana Núñez <ana@example.org>"])
def test_addresses_reach_the_envelope_and_header_as_djangos_backend_gives_them(to, settings):
    from django.core.mail.message import sanitize_address

    settings.DEFAULT_FROM_EMAIL = "Policía de Raleigh <pd@example.org>"
    outgoing = mime.alternative(to=to, subject="s", text="t", html="h")

    assert outgoing.recipients == [sanitize_address(to, "utf-8")]
    assert outgoing.sender == sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")
    built, django = parsed(outgoing.data), djangos(to=to, subject="s", text="t", html="h",
                                                  from_email=settings.DEFAULT_FROM_EMAIL)
    assert (str(built["To"]), str(built["From"])) == (str(django["To"]), str(django["From"]))
