"""At approval the warrant's time window covers every clip released (a clip recorded outside it, or at an unknown
time, is refused) and a request filed without a warrant is refused once the policy requires one; only the legal
reviewer reads a warrant; an agency's account sees no dashboard panel and is rate-limited on address search."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies import services
from agencies.models import AgencyRequest
from tests.agencies.conftest import agency_user, file_case_request, warrant
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def _approve(filed, reviewer, *clips):
    return services.agency_request_approve(request=filed, reviewer=reviewer, reason="Warrant covers it",
                                           until=timezone.now() + timedelta(days=5),
                                           clip_codes=[str(clip.code) for clip in clips])


def test_clips_recorded_outside_the_warrants_window_or_at_an_unknown_time_are_refused(federal_agent, reviewer, case):
    now = timezone.now()
    filed = file_case_request(federal_agent, with_warrant=warrant(scope_starts_at=now - timedelta(days=3),
                                                                  scope_ends_at=now - timedelta(days=2)))
    alice, bob = case["clips"]["alice"], case["clips"]["bob"]
    alice.recorded_at = now - timedelta(days=2, hours=12)  # inside
    alice.save(update_fields=["recorded_at"])
    bob.recorded_at = now - timedelta(days=1)  # after the window
    bob.save(update_fields=["recorded_at"])
    with pytest.raises(ValidationError, match="bob.mp4"):
        _approve(filed, reviewer, alice, bob)
    bob.recorded_at = None  # not known
    bob.save(update_fields=["recorded_at"])
    with pytest.raises(ValidationError, match="time window does not cover bob.mp4"):
        _approve(filed, reviewer, bob)
    assert AgencyRequest.objects.get().state == AgencyRequest.State.PENDING
    _approve(filed, reviewer, alice)
    filed.refresh_from_db()
    assert filed.state == AgencyRequest.State.APPROVED and list(filed.approved_clips.all()) == [alice]


def test_a_request_without_a_warrant_is_refused_at_approval_once_the_policy_requires_one(
        settings, police, reviewer, case):
    filed = file_case_request(agency_user(police, "officer"), legal_basis="consent")
    settings.WARRANT_REQUIRED_TYPES = ["police"]
    with pytest.raises(ValidationError, match="now requires a warrant"):
        _approve(filed, reviewer, case["clips"]["alice"])
    assert AgencyRequest.objects.get().state == AgencyRequest.State.PENDING


def test_an_auditor_sees_the_request_but_does_not_read_its_warrant(client, federal_agent, reviewer, case):
    filed = file_case_request(federal_agent, with_warrant=warrant())
    auditor = make_staff("auditor")
    assert auditor.has_perm("agencies.view_agencyrequest")
    client.force_login(auditor)
    assert client.get(f"/agency/review/{filed.code}/").status_code == 200
    assert client.get(f"/agency/review/{filed.code}/warrant/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.warrant_read(request=filed, user=auditor)
    client.force_login(reviewer)
    assert client.get(f"/agency/review/{filed.code}/warrant/").status_code == 200


def test_an_agency_account_given_every_role_sees_no_dashboard_panel(federal_agent):
    from connect.dashboard import panels_for

    assert panels_for(federal_agent) == []


def test_an_agency_account_is_rate_limited_on_address_search(client, settings, federal_agent):
    cache.clear()
    settings.RATE_LIMITS_ENABLED = True
    settings.ADDRESS_SEARCH_PER_MINUTE = 3
    client.force_login(federal_agent)
    for _ in range(3):
        assert client.get("/addresses/search.json", {"q": "oak"}).status_code == 200
    assert client.get("/addresses/search.json", {"q": "oak"}).status_code == 429
