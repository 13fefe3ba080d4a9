"""Mail as an owner reads it: subjects and plain-text bodies are plain text, the HTML body stays escaped."""

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
