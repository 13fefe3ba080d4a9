from datetime import timedelta

import pytest
from django.utils import timezone

from public_requests import services
from requests_app import services as incident_services
from tests.conftest import make_staff
from tests.requests_app.factories import IncidentFactory


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def investigator(db):
    return make_staff("investigator")


@pytest.fixture
def supervisor(db):
    return make_staff("supervisor")


@pytest.fixture
def incident(investigator):
    incident = IncidentFactory(case_number="26-777001")
    incident_services.incident_investigators_set(incident=incident, users=[investigator])
    return incident


def post_request(investigator, incident, **extra):
    return services.public_request_post(
        user=investigator, incident=incident, starts_at=incident.starts_at, ends_at=incident.ends_at,
        answers_until=timezone.now() + timedelta(days=7), summary="A car was broken into near here.", **extra)


@pytest.fixture
def published(investigator, supervisor, incident):
    public_request = post_request(investigator, incident)
    services.public_request_approve(public_request=public_request, user=supervisor)
    public_request.refresh_from_db()
    return public_request
