"""Outside agencies: a federal agency (warrant required by default), an in-state police department (not), a
prosecutor's office; their accounts; the legal reviewer; a case with clips from two owners' cameras."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agencies import services
from agencies.models import OutsideAgency, RequestKind
from common import roles
from requests_app.models import FootageRequest
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory, sealed_clip

WARRANT_PDF = b"%PDF-1.4 warrant of the US District Court, case 26-004512\n" * 50


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


def agency_user(agency: OutsideAgency, username: str, *, with_every_role: bool = False) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@agency.example")  # force_login: no hash
    services.agency_member_add(agency=agency, user=user, actor=None)
    user.refresh_from_db()
    if with_every_role:  # "by role alone": even given every role, the account reaches nothing of the program's
        roles_present()
        user.groups.set(Group.objects.filter(name__in=list(roles.ROLES)))
    return user


def roles_present() -> None:
    """Transactional tests flush the role groups the migrations made."""
    if not Group.objects.filter(name=roles.LEGAL_REVIEWER).exists():
        from django.apps import apps

        roles.roles_sync(apps)


@pytest.fixture
def federal(db):
    return OutsideAgency.objects.create(name="Federal Bureau of Examples", type=OutsideAgency.Type.FEDERAL,
                                        jurisdiction_state="DC")


@pytest.fixture
def police(db):
    return OutsideAgency.objects.create(name="Durham Police Department", type=OutsideAgency.Type.POLICE,
                                        jurisdiction_state="NC")


@pytest.fixture
def prosecutor(db):
    return OutsideAgency.objects.create(name="Wake County District Attorney", type=OutsideAgency.Type.PROSECUTOR,
                                        jurisdiction_state="NC")


@pytest.fixture
def federal_agent(federal):
    return agency_user(federal, "agent", with_every_role=True)


@pytest.fixture
def reviewer(db):
    roles_present()
    user = User.objects.create_user(username="lawyer", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.LEGAL_REVIEWER))
    return user


@pytest.fixture
def case(db):
    """Case 26-004512 with one clip from each of two owners' cameras."""
    incident = IncidentFactory(case_number="26-004512")
    clips = {}
    for who, email in (("alice", "alice@example.org"), ("bob", "bob@example.org")):
        camera = CameraFactory(label=f"{who}'s porch", owner=OwnerFactory(name=who.title(), email=email))
        request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                                nonce=f"nonce-{who}", state="answered")
        clip = sealed_clip(incident, f"video of {who}'s porch ".encode() * 1000, name=f"{who}.mp4")
        clip.request = request
        clip.save()
        clips[who] = clip
    return {"incident": incident, "clips": clips}


def warrant(**overrides) -> services.WarrantGiven:
    now = timezone.now()
    values = {"file": SimpleUploadedFile("warrant.pdf", WARRANT_PDF), "court": "US District Court, E.D.N.C.",
              "number": "5:26-mj-1234", "judge": "Hon. A. Example", "signed_on": now.date(),
              "scope": "Video of case 26-004512 held by the program", "scope_kinds": [RequestKind.CASE_FOOTAGE],
              "scope_case_number": "26-004512", "scope_starts_at": None, "scope_ends_at": None,
              "expires_at": now + timedelta(days=10), "notice_delayed_until": None}
    return services.WarrantGiven(**{**values, **overrides})


def file_case_request(user, *, case_number="26-004512", with_warrant=None, legal_basis="warrant"):
    return services.agency_request_file(user=user, kind=RequestKind.CASE_FOOTAGE, legal_basis=legal_basis,
                                        purpose="Federal case: robbery ring", case_number=case_number,
                                        warrant=with_warrant)
