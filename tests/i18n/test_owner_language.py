"""The owner's language: taken from the registration form, changeable in the portal, and used for every mail to
them, including the ones Celery tasks and the batched footage requests send, over a real SMTP server."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from registry import services as registry_services
from registry.models import Owner
from requests_app import mailing
from requests_app.models import FootageRequest
from tests.conftest import parsed_mail, sign_in_owner
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "kind": "resident", "name": "María López", "email": "maria@example.org", "phone": "", "address": "",
    "accept_terms": "on", "cameras-TOTAL_FORMS": "1", "cameras-INITIAL_FORMS": "0", "cameras-MIN_NUM_FORMS": "1",
    "cameras-MAX_NUM_FORMS": "10", "cameras-0-label": "Patio", "cameras-0-latitude": "35.7796",
    "cameras-0-longitude": "-78.6382", "cameras-0-placement": "outdoor", "cameras-0-faces_public": "on",
    "cameras-0-direction_deg": "90", "cameras-0-field_of_view_deg": "90", "cameras-0-range_m": "30",
    "cameras-0-records": "on", "cameras-0-retention_days": "7",
}


def spanish_client() -> Client:
    client = Client()
    client.post("/i18n/setlang/", {"language": "es", "next": "/register/"})  # the switch, as a visitor uses it
    return client


def test_the_switch_changes_the_language_and_returns_to_the_page():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/register/"})
    assert response.status_code == 302 and response["Location"] == "/register/"
    page = client.get("/register/").content.decode()
    assert 'lang="es"' in page and "Registre sus cámaras" in page
    assert 'value="en"' in page  # the way back, in the header
    assert "Register your cameras" in Client().get("/register/").content.decode()  # others are untouched


def test_a_spanish_registration_is_stored_and_confirmed_in_spanish(smtp_sink, django_capture_on_commit_callbacks):
    client = spanish_client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", REGISTRATION)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Owner.objects.get(email="maria@example.org").language == "es"
    [message] = parsed_mail(smtp_sink)
    assert str(message["Subject"]).strip().startswith("Confirme el registro de su cámara")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hola, María López:" in text and "Patio" in text and "Hello" not in text


def test_an_english_registration_stays_english(smtp_sink, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/register/", {**REGISTRATION, "email": "mary@example.org"})
    assert Owner.objects.get(email="mary@example.org").language == "en"
    [message] = parsed_mail(smtp_sink)
    assert str(message["Subject"]).strip().startswith("Confirm your camera registration")


def test_the_owner_changes_the_language_of_their_mail_in_the_portal(smtp_sink):
    owner = OwnerFactory(name="Ana Ruiz", email="ana@example.org", language="en")
    client = Client()
    sign_in_owner(client, owner)
    page = client.get("/owner/details/").content.decode()
    assert 'name="language"' in page and "Español" in page
    client.post("/owner/details/", {"name": owner.name, "phone": "", "address": "", "language": "es"})
    owner.refresh_from_db()
    assert owner.language == "es"

    registry_services.sign_in_link_send(owner_id=owner.pk)  # what the Celery task runs
    [message] = parsed_mail(smtp_sink)
    assert "enlace para iniciar sesión" in str(message["Subject"])
    assert "Hola, Ana Ruiz:" in message.get_body(preferencelist=("plain",)).get_content()


def test_an_unknown_language_is_refused_and_changes_nothing():
    owner = OwnerFactory(language="es")
    client = Client()
    sign_in_owner(client, owner)
    response = client.post("/owner/details/", {"name": owner.name, "phone": "", "address": "", "language": "xx"})
    assert response.status_code == 200 and "xx" in response.content.decode()  # the form again, with its error
    owner.refresh_from_db()
    assert owner.language == "es"


def test_one_batch_of_footage_requests_speaks_each_owners_language(smtp_sink):
    incident = IncidentFactory(case_number="26-004512")
    requests = []
    for i, language in enumerate(("es", "en", "es")):
        camera = CameraFactory(label=f"Cámara {i}", owner=OwnerFactory(name=f"Vecino {i}", language=language,
                                                                          email=f"n{i}@example.org"))
        requests.append(FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                                      nonce=f"i18n-{i}"))
    run = mailing.footage_requests_mail(request_ids=[r.pk for r in requests])
    assert run.sent == 3
    subjects = {str(m["To"]): str(m["Subject"]).strip() for m in parsed_mail(smtp_sink)}
    assert subjects["n0@example.org"].endswith("¿puede su cámara \"Cámara 0\" ayudar en el caso 26-004512?")
    assert subjects["n1@example.org"].endswith('can your camera "Cámara 1" help with case 26-004512?')
    assert subjects["n2@example.org"].endswith("¿puede su cámara \"Cámara 2\" ayudar en el caso 26-004512?")
    bodies = {str(m["To"]): m.get_body(preferencelist=("plain",)).get_content() for m in parsed_mail(smtp_sink)}
    assert "Hola, Vecino 0:" in bodies["n0@example.org"] and "Hello Vecino 1," in bodies["n1@example.org"]

    # The reminder, days later, in the same languages.
    FootageRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        sent_at=timezone.now() - timedelta(days=30), expires_at=timezone.now() + timedelta(days=1))
    smtp_sink.messages.clear()
    mailing.footage_reminders_send(due=[[r.pk, 0] for r in requests])
    reminders = {str(m["To"]): str(m["Subject"]).strip() for m in parsed_mail(smtp_sink)}
    assert reminders["n0@example.org"].startswith("Recordatorio:")
    assert reminders["n1@example.org"].startswith("Reminder:")
