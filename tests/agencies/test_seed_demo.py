"""The demo shows issue 19's "Done when" for outside agencies: a federal agency's request without a warrant is
refused, one with a warrant approved for one of the case's clips only, and that owner told."""

import pytest
from django.core.management import call_command

from agencies.models import AgencyRequest, OutsideAgency
from audit.actions import Action
from audit.models import AccessEntry
from tests.conftest import parsed_mail

pytestmark = pytest.mark.django_db


def test_the_demo_refuses_without_a_warrant_and_approves_one_clip_with_one(smtp_sink,
                                                                          django_capture_on_commit_callbacks):
    call_command("seed_demo", residents=3, businesses=2, agency=1)
    call_command("seed_demo_incidents")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo_agencies")
    call_command("seed_demo_agencies")  # once only

    agency = OutsideAgency.objects.get()
    assert agency.type == "federal"
    refused, approved = AgencyRequest.objects.order_by("filed_at")
    assert refused.state == "refused" and "requires a warrant" in refused.decision_reason
    assert approved.state == "approved" and approved.warrant is not None
    assert approved.approved_clips.count() == 1 and approved.incident.clips.count() == 2
    (mail,) = parsed_mail(smtp_sink)
    assert mail["To"] == "resident@example.org" and agency.name in mail["Subject"]
    assert AccessEntry.objects.filter(action=Action.AGENCY_OWNER_TOLD).exists()
