"""Mail as an owner reads it: subjects and plain-text bodies are plain text, the HTML body stays escaped; and
the bytes are those Django's own policy would give."""

from email.policy import compat32

import pytest

from common.mail import TemplatedMessage
from registry.services import registration_confirmation_send
from tests.conftest import parsed_mail, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory


def test_apostrophes_and_angle_brackets_arrive_as_typed(db, settings, smtp_sink):
    settings.AGENCY_NAME = "Prince George's County <PD>"
    owner = OwnerFactory(name="Dan O'Neil <Jr>", confirmed_at=None)
    CameraFactory(owner=owner, label="Dan's porch <north>")

    assert registration_confirmation_send(owner_id=owner.pk) == "sent"

    message = wait_for(lambda: parsed_mail(smtp_sink))[0]
    assert message["Subject"] == "Confirm your camera registration with Prince George's County <PD>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Dan O'Neil <Jr>," in text
    assert "Dan's porch <north>" in text
    assert "&#x27;" not in text and "&lt;" not in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Dan O&#x27;Neil &lt;Jr&gt;" in html
    assert "<north>" not in html



@pytest.mark.parametrize("subject", [
    "Request for camera footage, case 26-000123",
    "A much longer subject line that goes past the seventy-eight characters a header line may take before folding",
    "Solicitud de vídeo de su cámara: caso 26-000123",
    "Two  spaces and\ta tab",
    " leading and trailing ",
])
def test_the_quick_header_folding_gives_the_bytes_djangos_policy_gives(subject):
    message = TemplatedMessage(subject=subject, body="Hello José,\n\nA line.\n", to=["José Núñez <jose@example.org>"],
                               from_email="Raleigh PD <pd@example.org>", headers={"X-Long": "x" * 120})
    message.attach_alternative("<p>Hello José</p>", "text/html")
    mime = message.message()
    quick = mime.as_bytes(linesep="\r\n")
    for part in mime.walk():
        part.policy = compat32
    assert quick == mime.as_bytes(linesep="\r\n")
