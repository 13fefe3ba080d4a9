"""An incident's request progress (issue 16, item 4): the summary and the rows agree, name the owner's kind, never
show a decline, and refresh by themselves while requests are going out; only those who may see the case get it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app.models import FootageRequest
from requests_app.services import incident_investigators_set
from tests.conftest import make_staff, make_staff_named
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    incident = IncidentFactory(case_number="26-004512")
    for n, (kind, state) in enumerate([("resident", "queued"), ("business", "sent"), ("agency", "declined")]):
        camera = CameraFactory(owner=OwnerFactory(kind=kind), label=f"Camera {n}")
        FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label, state=state,
                                      nonce=f"n{n}", sent_at=None if state == "queued" else timezone.now(),
                                      expires_at=timezone.now() + timedelta(days=5))
    return incident


def test_the_summary_and_the_rows_agree_and_a_decline_looks_like_waiting(client, case):
    investigator = make_staff("investigator")
    incident_investigators_set(incident=case, users=[investigator])
    client.force_login(investigator)
    page = client.get(f"/admin/requests_app/incident/{case.pk}/change/").content.decode()
    assert "2 of 3 sent · Queued: 1 · Sent, waiting for an answer: 2" in page
    assert "Declined" not in page
    kinds = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'field-owner_kind">(.*?)</td>', page, re.S)]
    assert kinds == ["Resident", "Business", "Agency (police or city)"]
    assert "requests_app/js/incident_progress.js" in page

    progress = client.get(f"/admin/requests_app/incident/{case.pk}/progress.json").json()
    assert progress == {"summary": "2 of 3 sent · Queued: 1 · Sent, waiting for an answer: 2",
                        "states": ["Queued", "Sent, waiting for an answer", "Sent, waiting for an answer"],
                        "settled": False}
    case.requests.filter(state="queued").update(state="sent", sent_at=timezone.now())
    progress = client.get(f"/admin/requests_app/incident/{case.pk}/progress.json").json()
    assert progress["summary"].startswith("3 of 3 sent") and progress["settled"]


def test_only_those_who_may_see_the_case_get_its_progress(client, case):
    client.force_login(make_staff_named("investigator", "not-on-the-case"))
    assert client.get(f"/admin/requests_app/incident/{case.pk}/progress.json").status_code in (403, 404)
    client.force_login(make_staff("analyst"))
    assert client.get(f"/admin/requests_app/incident/{case.pk}/progress.json").status_code in (302, 403, 404)
    client.logout()
    assert client.get(f"/admin/requests_app/incident/{case.pk}/progress.json").status_code == 302
