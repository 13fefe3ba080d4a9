"""Issue 19, outside agencies, in a browser: a federal agent files a request without a warrant and is refused on
the form; files it again with the warrant attached; the legal reviewer approves one of the case's two clips; the
agent sees and downloads that clip only."""

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from agencies.models import AgencyRequest
from common import roles
from tests.agencies.conftest import WARRANT_PDF, agency_user, case, evidence_dir, federal, roles_present  # noqa: F401 (fixtures)
from tests.browser.conftest import staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_federal_request_refused_then_approved_for_one_clip(page, federal, case, tmp_path):  # noqa: F811
    roles_present()
    agent = agency_user(federal, "agent")
    agent.set_password("correct-horse-battery-9")
    agent.save()
    lawyer = User.objects.create_user("lawyer", password="correct-horse-battery-9", is_staff=True)
    lawyer.groups.add(Group.objects.get(name=roles.LEGAL_REVIEWER))
    alice, bob = case["clips"]["alice"], case["clips"]["bob"]

    staff_sign_in(page, "agent", next_path="/agency/requests/new/")
    page.select_option("#id_kind", "case_footage")
    page.select_option("#id_legal_basis", "subpoena")
    page.fill("#id_purpose", "Interstate robbery ring")
    page.fill("#id_case_number", "26-004512")
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("form[enctype]")).to_contain_text("requires a warrant or court order")
    expect(page.locator("#id_purpose")).to_have_value("Interstate robbery ring")  # nothing typed is lost

    warrant = tmp_path / "warrant.pdf"
    warrant.write_bytes(WARRANT_PDF)
    page.select_option("#id_legal_basis", "warrant")
    page.set_input_files("#id_warrant_file", str(warrant))
    page.fill("#id_court", "US District Court, E.D.N.C.")
    page.fill("#id_number", "5:26-mj-1234")
    page.fill("#id_judge", "Hon. A. Example")
    page.fill("#id_signed_on", "2026-12-01")
    page.fill("#id_scope", "Video of case 26-004512")
    page.check("input[name=scope_kinds][value=case_footage]")
    page.fill("#id_scope_case_number", "26-004512")
    page.fill("#id_expires_at", "2099-01-01T12:00")
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("#state")).to_contain_text("Waiting for the legal reviewer")
    filed = AgencyRequest.objects.get(state="pending")

    page.context.clear_cookies()
    staff_sign_in(page, "lawyer", next_path=f"/agency/review/{filed.code}/")
    page.uncheck(f"input[name=approve-clips][value='{bob.code}']")
    page.fill("#id_approve-reason", "The warrant covers the case; Alice's clip only")
    page.fill("#id_approve-until", "2098-12-31T12:00")
    page.click("button[name=approve]")
    expect(page.locator("#state")).to_contain_text("Approved")

    page.context.clear_cookies()
    staff_sign_in(page, "agent", next_path=f"/agency/requests/{filed.code}/")
    expect(page.locator("#clips")).to_contain_text(str(alice.code))
    expect(page.locator("#clips")).not_to_contain_text(str(bob.code))
    with page.expect_download() as download:
        page.click(f"a[href$='/clips/{alice.code}/']")
    assert open(download.value.path(), "rb").read().startswith(b"video of alice's porch")
