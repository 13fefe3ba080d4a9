"""An outside agency's request end to end: refused without the warrant the policy requires, refused with an
expired warrant or one whose scope does not cover the ask; approved by the legal reviewer for one clip of the case
only; only that clip reachable, only until the approved date and never past the warrant; owners told (at once, or
when a court's delay ends); every step in the ledger and counted in the transparency report."""

import io
import re
import zipfile
import zlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies import services, tasks
from agencies.models import AgencyRequest, OwnerNotice, RequestKind
from audit import transparency
from audit.actions import Action
from audit.models import AccessEntry
from tests.agencies.conftest import WARRANT_PDF, agency_user, file_case_request, warrant
from tests.conftest import parsed_mail, wait_for

pytestmark = pytest.mark.django_db


def actions(**filters) -> list[str]:
    return list(AccessEntry.objects.filter(**filters).order_by("seq").values_list("action", flat=True))


def test_a_federal_request_without_a_warrant_is_refused_at_once_and_recorded(federal_agent, case):
    with pytest.raises(services.AgencyRequestRefused) as refused:
        file_case_request(federal_agent, legal_basis="subpoena")

    assert "requires a warrant or court order" in refused.value.reason
    kept = AgencyRequest.objects.get()
    assert kept.state == AgencyRequest.State.REFUSED and kept.warrant is None
    assert actions(target_code=str(kept.code)) == [Action.AGENCY_REQUEST_FILED, Action.AGENCY_REQUEST_REFUSED]
    refusal = AccessEntry.objects.get(action=Action.AGENCY_REQUEST_REFUSED)
    assert refusal.detail["agency_type"] == "federal (out of state)" and refusal.detail["legal_basis"] == "subpoena"


def test_the_agency_sees_the_refusal_on_the_form_with_what_it_typed(client, federal_agent, case):
    client.force_login(federal_agent)
    response = client.post("/agency/requests/new/", {"kind": "case_footage", "legal_basis": "subpoena",
                                                     "purpose": "Robbery ring", "case_number": "26-004512"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "requires a warrant or court order" in page and "Robbery ring" in page


def test_an_in_state_police_department_needs_no_warrant_by_default(police, case):
    officer = agency_user(police, "officer")
    filed = file_case_request(officer, legal_basis="consent")
    assert filed.state == AgencyRequest.State.PENDING


def test_the_policy_setting_decides_which_agencies_need_a_warrant(settings, police, federal, case):
    settings.WARRANT_REQUIRED_TYPES = ["police"]
    with pytest.raises(services.AgencyRequestRefused):
        file_case_request(agency_user(police, "officer"), legal_basis="consent")
    assert file_case_request(agency_user(federal, "fed"), legal_basis="consent").state == "pending"


def test_an_expired_warrant_is_refused_and_nothing_is_kept(federal_agent, case, evidence_dir):
    with pytest.raises(services.AgencyRequestRefused) as refused:
        file_case_request(federal_agent, with_warrant=warrant(expires_at=timezone.now() - timedelta(hours=1)))
    assert "expired" in refused.value.reason
    assert not (evidence_dir / "warrants").exists() or not list((evidence_dir / "warrants").iterdir())


@pytest.mark.parametrize("change, words", [
    ({"scope_case_number": "26-000001"}, "names case 26-000001"),
    ({"scope_kinds": [RequestKind.LIVE_VIEW]}, "does not cover footage of a case"),
])
def test_a_warrant_whose_scope_does_not_cover_the_ask_is_refused(federal_agent, case, change, words):
    with pytest.raises(services.AgencyRequestRefused) as refused:
        file_case_request(federal_agent, with_warrant=warrant(**change))
    assert words in refused.value.reason
    assert AgencyRequest.objects.get().state == AgencyRequest.State.REFUSED


def test_a_window_outside_the_warrants_is_refused(federal_agent, case):
    from django.contrib.gis.geos import Point

    now = timezone.now()
    with pytest.raises(services.AgencyRequestRefused) as refused:
        services.agency_request_file(
            user=federal_agent, kind=RequestKind.CAMERAS_NEAR, legal_basis="warrant", purpose="x",
            location=Point(-78.6382, 35.7796, srid=4326), radius_m=300, starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(days=2),
            warrant=warrant(scope_kinds=[RequestKind.CAMERAS_NEAR], scope_starts_at=now - timedelta(days=1),
                            scope_ends_at=now))
    assert "outside the warrant's time window" in refused.value.reason


def test_the_warrant_is_sealed_at_rest_and_read_back_by_the_reviewer(client, federal_agent, reviewer, case,
                                                                     evidence_dir):
    filed = file_case_request(federal_agent, with_warrant=warrant())
    stored = (evidence_dir / "warrants" / filed.warrant.stored_name).read_bytes()
    assert b"District Court" not in stored  # ciphertext only

    client.force_login(reviewer)
    response = client.get(f"/agency/review/{filed.code}/warrant/")
    assert response.status_code == 200 and response.content == WARRANT_PDF
    assert Action.AGENCY_WARRANT_VIEWED in actions(target_code=str(filed.code))


def test_approved_for_one_clip_only_the_owner_is_told_and_nothing_else_is_reachable(
        client, federal_agent, reviewer, case, smtp_sink, django_capture_on_commit_callbacks):
    filed = file_case_request(federal_agent, with_warrant=warrant())
    alice, bob = case["clips"]["alice"], case["clips"]["bob"]

    client.force_login(reviewer)
    page = client.get(f"/agency/review/{filed.code}/").content.decode()
    assert "alice.mp4" in page and "bob.mp4" in page
    until = timezone.localtime(timezone.now() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):  # the notice is queued when the approval commits
        client.post(f"/agency/review/{filed.code}/decide/", {
            "approve-reason": "Warrant 5:26-mj-1234 covers the case; Alice's clip only", "approve-until": until,
            "approve-clips": [str(alice.code)]})
    filed.refresh_from_db()
    assert filed.state == AgencyRequest.State.APPROVED and list(filed.approved_clips.all()) == [alice]

    client.force_login(federal_agent)
    page = client.get(f"/agency/requests/{filed.code}/").content.decode()
    assert str(alice.code) in page and str(bob.code) not in page
    got = client.get(f"/agency/requests/{filed.code}/clips/{alice.code}/")
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"video of alice's porch")
    refused = client.get(f"/agency/requests/{filed.code}/clips/{bob.code}/")
    assert refused.status_code == 403 and "not within the approved scope" in refused.content.decode()

    wait_for(lambda: parsed_mail(smtp_sink), what="the owner's notice")
    (mail,) = parsed_mail(smtp_sink)
    assert mail["To"] == "alice@example.org" and "Federal Bureau of Examples" in mail["Subject"]
    told = AccessEntry.objects.get(action=Action.AGENCY_OWNER_TOLD)
    assert told.owner_code == str(alice.request.camera.owner.code)
    assert Action(told.action).owner_sees  # in Alice's history
    assert not OwnerNotice.objects.filter(sent_at__isnull=True).exists()
    assert set(actions(action__startswith="agency.")) >= {
        Action.AGENCY_REQUEST_FILED, Action.AGENCY_REQUEST_APPROVED, Action.AGENCY_CLIP_RELEASED,
        Action.AGENCY_CLIP_DOWNLOADED, Action.AGENCY_ACCESS_REFUSED, Action.AGENCY_OWNER_TOLD}


def test_a_court_delay_holds_the_notice_until_its_date_then_the_beat_sends_it(federal_agent, reviewer, case,
                                                                             smtp_sink, settings):
    delay = timezone.localdate() + timedelta(days=3)
    filed = file_case_request(federal_agent, with_warrant=warrant(notice_delayed_until=delay))
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5),
                                    clip_codes=[case["clips"]["alice"].code], notice_delayed_until=delay)
    assert tasks.owner_notices_due_send_task() == "0 owners told, 0 uploaders told"
    assert not parsed_mail(smtp_sink)
    assert not AccessEntry.objects.filter(action=Action.AGENCY_OWNER_TOLD).exists()  # not in the history yet

    OwnerNotice.objects.update(due_on=timezone.localdate())  # the date has come
    assert tasks.owner_notices_due_send_task() == "1 owners told, 0 uploaders told"
    (mail,) = parsed_mail(smtp_sink)
    assert "court order delayed this notice" in mail.get_body(("plain",)).get_content()


def test_the_owner_is_told_in_their_language(federal_agent, reviewer, case, smtp_sink,
                                            django_capture_on_commit_callbacks):
    owner = case["clips"]["alice"].request.camera.owner
    owner.language = "es"
    owner.save()
    filed = file_case_request(federal_agent, with_warrant=warrant())
    with django_capture_on_commit_callbacks(execute=True):
        services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                        until=timezone.now() + timedelta(days=5),
                                        clip_codes=[case["clips"]["alice"].code])
    wait_for(lambda: parsed_mail(smtp_sink), what="the notice")
    (mail,) = parsed_mail(smtp_sink)
    assert mail["Subject"] == "Sus grabaciones se entregaron a Federal Bureau of Examples"
    assert "Fundamento legal: Orden de registro" in mail.get_body(("plain",)).get_content()


def test_approval_cannot_outlast_the_warrant(federal_agent, reviewer, case):
    filed = file_case_request(federal_agent, with_warrant=warrant(expires_at=timezone.now() + timedelta(days=2)))
    with pytest.raises(ValidationError, match="cannot outlast the warrant"):
        services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                        until=timezone.now() + timedelta(days=5),
                                        clip_codes=[case["clips"]["alice"].code])
    assert AgencyRequest.objects.get().state == AgencyRequest.State.PENDING


def test_once_the_warrant_expires_nothing_is_reachable(client, federal_agent, reviewer, case):
    filed = file_case_request(federal_agent, with_warrant=warrant())
    alice = case["clips"]["alice"]
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5), clip_codes=[alice.code])
    filed.warrant.expires_at = timezone.now() - timedelta(minutes=1)
    filed.warrant.save()

    client.force_login(federal_agent)
    response = client.get(f"/agency/requests/{filed.code}/clips/{alice.code}/")
    assert response.status_code == 403 and "warrant or court order of this request has expired" in (
        response.content.decode())
    assert str(alice.code) not in client.get(f"/agency/requests/{filed.code}/").content.decode()


def test_approved_access_ends_at_its_date_and_on_revocation(client, federal_agent, reviewer, case):
    filed = file_case_request(federal_agent, with_warrant=warrant())
    alice = case["clips"]["alice"]
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5), clip_codes=[alice.code])
    client.force_login(federal_agent)
    url = f"/agency/requests/{filed.code}/clips/{alice.code}/"
    assert client.get(url).status_code == 200

    AgencyRequest.objects.filter(pk=filed.pk).update(approved_until=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 403

    AgencyRequest.objects.filter(pk=filed.pk).update(approved_until=timezone.now() + timedelta(days=1))
    services.agency_request_revoke(request=filed, reviewer=reviewer, reason="case dismissed")
    assert client.get(url).status_code == 403


def test_guessed_ids_reach_nothing_and_are_recorded(client, federal_agent, police, reviewer, case):
    """Another agency's request, a random code, a clip of the case not approved, a clip of another case."""
    import uuid

    other = file_case_request(agency_user(police, "officer"), legal_basis="consent")
    services.agency_request_approve(request=other, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5),
                                    clip_codes=[case["clips"]["bob"].code])
    mine = file_case_request(federal_agent, with_warrant=warrant())
    services.agency_request_approve(request=mine, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5),
                                    clip_codes=[case["clips"]["alice"].code])
    client.force_login(federal_agent)
    for url in (f"/agency/requests/{other.code}/", f"/agency/requests/{other.code}/clips/{case['clips']['bob'].code}/",
                f"/agency/requests/{uuid.uuid4()}/", f"/agency/requests/{mine.code}/clips/{uuid.uuid4()}/",
                f"/agency/requests/{mine.code}/clips/{case['clips']['bob'].code}/",
                f"/agency/requests/{other.code}/warrant/", f"/agency/packets/{uuid.uuid4()}/"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert b"video of" not in b"".join(getattr(response, "streaming_content", [response.content]))
    assert AccessEntry.objects.filter(action=Action.AGENCY_ACCESS_REFUSED).count() >= 5


def test_only_the_legal_reviewer_decides(client, federal_agent, case):
    from tests.conftest import make_staff

    filed = file_case_request(federal_agent, with_warrant=warrant())
    for role in ("investigator", "supervisor", "administrator"):
        client.force_login(make_staff(role))
        client.post(f"/agency/review/{filed.code}/decide/", {"refuse": "", "refuse-reason": "no"})
    client.force_login(federal_agent)
    client.post(f"/agency/review/{filed.code}/decide/", {"refuse": "", "refuse-reason": "no"})
    assert AgencyRequest.objects.get().state == AgencyRequest.State.PENDING


def test_refusal_with_a_reason_the_agency_reads(client, federal_agent, reviewer, case):
    filed = file_case_request(federal_agent, with_warrant=warrant())
    client.force_login(reviewer)
    client.post(f"/agency/review/{filed.code}/decide/", {"refuse": "", "refuse-reason": "Not our case's scope"})
    client.force_login(federal_agent)
    page = client.get(f"/agency/requests/{filed.code}/").content.decode()
    assert "Refused: Not our case&#x27;s scope" in page or "Refused: Not our case's scope" in page


def test_cameras_near_only_within_the_approved_radius_and_without_owners(client, police, reviewer, case):
    from django.contrib.gis.geos import Point

    from tests.registry.factories import CameraFactory, OwnerFactory

    here = Point(-78.6382, 35.7796, srid=4326)
    near = CameraFactory(location=here, owner=OwnerFactory(name="Near Neighbour", email="near@example.org"))
    farther = CameraFactory(location=Point(-78.6382, 35.7826, srid=4326),  # about 330 m north
                            owner=OwnerFactory(name="Farther Neighbour", email="far@example.org"))
    officer = agency_user(police, "officer")
    now = timezone.now()
    filed = services.agency_request_file(user=officer, kind=RequestKind.CAMERAS_NEAR, legal_basis="exigent",
                                         purpose="Shooting", location=here, radius_m=500,
                                         starts_at=now - timedelta(hours=2), ends_at=now)
    with pytest.raises(ValidationError, match="cannot exceed"):
        services.agency_request_approve(request=filed, reviewer=reviewer, reason="x", until=now + timedelta(days=1),
                                        radius_m=900)
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="narrowed",
                                    until=now + timedelta(days=1), radius_m=200)
    client.force_login(officer)
    page = client.get(f"/agency/requests/{filed.code}/").content.decode()
    assert str(near.code) in page and str(farther.code) not in page
    assert "Near Neighbour" not in page and "near@example.org" not in page
    assert AccessEntry.objects.filter(action=Action.AGENCY_CAMERAS_LISTED, camera_code=str(near.code)).exists()


def test_the_transparency_report_counts_by_agency_type_and_legal_basis(client, federal_agent, reviewer, case):
    with pytest.raises(services.AgencyRequestRefused):
        file_case_request(federal_agent, legal_basis="subpoena")
    filed = file_case_request(federal_agent, with_warrant=warrant())
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5),
                                    clip_codes=[case["clips"]["alice"].code])
    table = transparency.outside_agencies()
    assert table[("federal (out of state)", "subpoena")] == {"requests": 1, "approved": 0, "refused": 1}
    assert table[("federal (out of state)", "warrant")] == {"requests": 1, "approved": 1, "refused": 0}
    page = client.get("/transparency/").content.decode()
    assert "Requests from outside agencies" in page and "federal agency, out of state" in page
    assert "search warrant" in page


def pdf_contents(pdf: bytes) -> bytes:
    """The PDF's metadata and its pages' drawing operators, inflated: every piece of text it shows."""
    # Up to "endstream", the end of line left to zlib: a stream may end in a carriage return (see pdf_text.py)
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    return pdf + b"".join(zlib.decompress(stream) for stream in streams if stream.startswith(b"x"))


def test_prosecutor_packets_expire_count_downloads_and_can_be_revoked(client, prosecutor, reviewer, case):
    from agencies.models import CasePacket

    lawyer = agency_user(prosecutor, "ada")
    filed = file_case_request(lawyer, legal_basis="subpoena")
    alice = case["clips"]["alice"]
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=30), clip_codes=[alice.code])
    client.force_login(reviewer)
    client.post(f"/agency/review/{filed.code}/packet/")
    packet = CasePacket.objects.get()
    assert packet.expires_at <= timezone.now() + timedelta(days=14, minutes=1)

    client.force_login(lawyer)
    url = f"/agency/packets/{packet.code}/"
    assert "Download the packet" in client.get(url).content.decode()  # GET only shows it (mail scanners)
    packet.refresh_from_db()
    assert packet.downloads == 0
    zipped = zipfile.ZipFile(io.BytesIO(b"".join(client.post(url).streaming_content)))
    names = zipped.namelist()
    assert f"custody/{alice.code}.pdf" in names and "SHA256SUMS" in names
    assert zipped.read("SHA256SUMS").decode().startswith(alice.sha256)
    assert zipped.read(next(n for n in names if n.startswith("clips/"))).startswith(b"video of alice's porch")
    # The custody report keeps the chain and the hashes, not the owner's words: her file name and camera's label.
    report = pdf_contents(zipped.read(f"custody/{alice.code}.pdf"))
    assert alice.sha256.encode() in report and b"alice" not in report.lower()
    packet.refresh_from_db()
    assert packet.downloads == 1
    assert AccessEntry.objects.filter(action=Action.AGENCY_PACKET_DOWNLOADED).count() == 1

    services.packet_revoke(packet=packet, user=reviewer)
    response = client.post(url)
    assert response.status_code == 403 and "revoked" in response.content.decode()

    second = services.packet_issue(request=filed, user=reviewer)
    CasePacket.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.post(f"/agency/packets/{second.code}/").status_code == 403


def test_a_packet_is_for_its_prosecutors_office_only(client, prosecutor, federal_agent, reviewer, case):
    lawyer = agency_user(prosecutor, "ada")
    filed = file_case_request(lawyer, legal_basis="subpoena")
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=30),
                                    clip_codes=[case["clips"]["alice"].code])
    packet = services.packet_issue(request=filed, user=reviewer)
    client.force_login(federal_agent)
    assert client.post(f"/agency/packets/{packet.code}/").status_code == 403
    client.logout()
    assert client.post(f"/agency/packets/{packet.code}/").status_code == 302  # to sign in


def test_the_owner_reads_it_in_their_history_only_once_told(client, federal_agent, reviewer, case, smtp_sink):
    from tests.conftest import sign_in_owner

    owner = case["clips"]["alice"].request.camera.owner
    delay = timezone.localdate() + timedelta(days=2)
    filed = file_case_request(federal_agent, with_warrant=warrant(notice_delayed_until=delay))
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5),
                                    clip_codes=[case["clips"]["alice"].code], notice_delayed_until=delay)
    assert tasks.owner_notices_due_send_task() == "0 owners told, 0 uploaders told"
    sign_in_owner(client, owner)
    words = "gave your footage to an outside agency on a legal basis"
    assert words not in client.get("/owner/history/").content.decode()  # the court delayed it

    OwnerNotice.objects.update(due_on=timezone.localdate())
    tasks.owner_notices_due_send_task()
    history = client.get("/owner/history/").content.decode()
    assert words in history and "Federal Bureau of Examples" in history  # which agency, not only that one did


def test_administrators_tie_accounts_to_an_agency_in_the_admin(client, federal):
    from django.contrib.auth.models import User

    from tests.conftest import make_staff

    client.force_login(make_staff("administrator"))
    person = User.objects.create_user("newagent")
    root = User.objects.create_superuser("root9", "root9@example.org", None)
    refused = client.post("/admin/agencies/agencymember/add/", {"user": root.pk, "agency": federal.pk})
    assert refused.status_code == 200 and "superuser cannot be tied" in refused.content.decode()

    client.post("/admin/agencies/agencymember/add/", {"user": person.pk, "agency": federal.pk})
    person.refresh_from_db()
    assert person.outside_agency.agency == federal and person.is_staff
    assert AccessEntry.objects.filter(action=Action.AGENCY_MEMBER_ADDED, target_code=str(person.pk)).exists()


def _public_clip(case, email="walker@example.org"):
    """A clip a member of the public shared in answer to the case's public request."""
    from public_requests import area
    from public_requests import services as public_services
    from public_requests.models import AnswerClip, PublicRequest
    from tests.requests_app.factories import sealed_clip

    incident = case["incident"]
    now = timezone.now()
    public_request = PublicRequest.objects.create(
        incident=incident, public_area=area.around(incident.location, incident.radius_m), starts_at=now - timedelta(
            days=1), ends_at=now, answers_until=now + timedelta(days=5), summary="A car was broken into",
        state=PublicRequest.State.PUBLISHED, published_at=now)
    answer = public_services.public_answer_start(public_request=public_request, email=email, language="es",
                                                 wants_to_register=False)
    public_services.public_answer_confirm(answer=answer)
    clip = sealed_clip(incident, b"video from the street " * 1000, name="street.mp4")
    AnswerClip.objects.create(answer=answer, clip=clip)
    return answer, clip


def test_a_public_uploader_is_told_as_owners_are_and_their_page_shows_it(
        client, federal_agent, reviewer, case, smtp_sink, django_capture_on_commit_callbacks):
    from public_requests import links

    answer, clip = _public_clip(case)
    filed = file_case_request(federal_agent, with_warrant=warrant())
    with django_capture_on_commit_callbacks(execute=True):
        services.agency_request_approve(request=filed, reviewer=reviewer, reason="Warrant covers the street clip",
                                        until=timezone.now() + timedelta(days=5), clip_codes=[clip.code])

    wait_for(lambda: parsed_mail(smtp_sink), what="the uploader's notice")
    (mail,) = parsed_mail(smtp_sink)
    text = mail.get_body(("plain",)).get_content()
    assert mail["To"] == "walker@example.org" and "Federal Bureau of Examples" in mail["Subject"]
    assert "Fundamento legal: Orden de registro" in text  # in the language they answered in
    assert links.access_link(answer) in text
    page = client.get(links.access_path(answer)).content.decode()
    assert "outside agency" in page or "agencia externa" in page
    assert tasks.owner_notices_due_send_task() == "0 owners told, 0 uploaders told"  # sent once


def test_a_court_delay_holds_the_uploaders_notice_too(federal_agent, reviewer, case, smtp_sink):
    from agencies.models import UploaderNotice

    _answer, clip = _public_clip(case)
    delay = timezone.localdate() + timedelta(days=3)
    filed = file_case_request(federal_agent, with_warrant=warrant(notice_delayed_until=delay))
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5), clip_codes=[clip.code],
                                    notice_delayed_until=delay)  # confirmed by the reviewer, as owners' delays are
    assert tasks.owner_notices_due_send_task() == "0 owners told, 0 uploaders told"
    UploaderNotice.objects.update(due_on=timezone.localdate())
    assert tasks.owner_notices_due_send_task() == "0 owners told, 1 uploaders told"
    (mail,) = parsed_mail(smtp_sink)
    assert "orden judicial" in mail.get_body(("plain",)).get_content().lower() or \
        "court order" in mail.get_body(("plain",)).get_content()


def test_administrators_untie_an_account_in_the_admin_and_it_is_recorded(client, federal):
    from django.contrib.auth.models import User

    from agencies.models import AgencyMember
    from tests.conftest import make_staff

    client.force_login(make_staff("administrator"))
    person = User.objects.create_user("leaving")
    services.agency_member_add(agency=federal, user=person, actor=None)
    member = AgencyMember.objects.get(user=person)
    response = client.post(f"/admin/agencies/agencymember/{member.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not AgencyMember.objects.filter(user=person).exists()
    person.refresh_from_db()
    assert not person.is_staff  # the tie gave the flag; untied, the account cannot sign in as anyone's staff
    removed = AccessEntry.objects.get(action=Action.AGENCY_MEMBER_REMOVED, target_code=str(person.pk))
    assert removed.detail["agency"] == federal.name


def test_the_cameras_near_list_is_frozen_at_approval(client, police, reviewer, case):
    from django.contrib.gis.geos import Point

    from tests.registry.factories import CameraFactory

    here = Point(-78.6382, 35.7796, srid=4326)
    there = CameraFactory(location=here)
    officer = agency_user(police, "officer2")
    now = timezone.now()
    filed = services.agency_request_file(user=officer, kind=RequestKind.CAMERAS_NEAR, legal_basis="exigent",
                                         purpose="Shooting", location=here, radius_m=300,
                                         starts_at=now - timedelta(hours=2), ends_at=now)
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok", until=now + timedelta(days=1),
                                    radius_m=300)
    later = CameraFactory(location=here)  # registered after the approval, in the same spot
    client.force_login(officer)
    page = client.get(f"/agency/requests/{filed.code}/").content.decode()
    assert str(there.code) in page and str(later.code) not in page
    assert not AccessEntry.objects.filter(action=Action.AGENCY_CAMERAS_LISTED, camera_code=str(later.code)).exists()
    approved = AccessEntry.objects.get(action=Action.AGENCY_REQUEST_APPROVED)
    assert str(there.code) in approved.detail["cameras"] and str(later.code) not in approved.detail["cameras"]


def test_only_the_legal_reviewer_delays_owner_notice_and_never_past_the_order(federal_agent, reviewer, case,
                                                                             smtp_sink):
    ordered = timezone.localdate() + timedelta(days=30)
    filed = file_case_request(federal_agent, with_warrant=warrant(notice_delayed_until=ordered))
    alice = [case["clips"]["alice"].code]
    until = timezone.now() + timedelta(days=5)
    with pytest.raises(ValidationError, match="until .* at most"):
        services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok", until=until, clip_codes=alice,
                                        notice_delayed_until=ordered + timedelta(days=1))
    # The reviewer confirms a shorter delay than the order allows: that date holds, recorded.
    confirmed = timezone.localdate() + timedelta(days=10)
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok", until=until, clip_codes=alice,
                                    notice_delayed_until=confirmed)
    assert OwnerNotice.objects.get().due_on == confirmed
    approved = AccessEntry.objects.get(action=Action.AGENCY_REQUEST_APPROVED)
    assert approved.detail["notice_delayed_until"] == confirmed.isoformat()


def test_the_agencys_word_alone_delays_no_notice(federal_agent, reviewer, case, smtp_sink):
    filed = file_case_request(federal_agent, with_warrant=warrant(
        notice_delayed_until=timezone.localdate() + timedelta(days=365)))
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=5),
                                    clip_codes=[case["clips"]["alice"].code])
    assert OwnerNotice.objects.get().due_on == timezone.localdate()  # told now


def test_no_delay_without_an_order_that_gives_one(police, reviewer, case):
    officer = agency_user(police, "durham")
    filed = file_case_request(officer, legal_basis="subpoena")
    with pytest.raises(ValidationError, match="only by a court order"):
        services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                        until=timezone.now() + timedelta(days=5),
                                        clip_codes=[case["clips"]["alice"].code],
                                        notice_delayed_until=timezone.localdate() + timedelta(days=3))


def test_a_packet_streams_with_flat_memory_however_large_its_clip(client, prosecutor, reviewer, case):
    import hashlib
    import os
    import tracemalloc

    from tests.requests_app.factories import sealed_clip

    big = os.urandom(1 << 20) * 24  # 24 MiB
    clip = sealed_clip(case["incident"], big, name="long.mp4")
    lawyer = agency_user(prosecutor, "ada2")
    filed = file_case_request(lawyer, legal_basis="subpoena")
    services.agency_request_approve(request=filed, reviewer=reviewer, reason="ok",
                                    until=timezone.now() + timedelta(days=30), clip_codes=[clip.code])
    packet = services.packet_issue(request=filed, user=reviewer)
    client.force_login(lawyer)
    tracemalloc.start()
    try:
        response = client.post(f"/agency/packets/{packet.code}/")
        assert response.streaming, "the packet is sent as it is written"
        digest, size, path = hashlib.sha256(), 0, f"{os.environ.get('TMPDIR', '/tmp')}/packet-{packet.code}.zip"
        with open(path, "wb") as out:
            for piece in response.streaming_content:
                out.write(piece)
                size += len(piece)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > len(big) and peak < 8 * (1 << 20), f"peak {peak} bytes for a {len(big)}-byte clip"
    with zipfile.ZipFile(path) as zipped:
        (name,) = [n for n in zipped.namelist() if n.startswith("clips/")]
        with zipped.open(name) as stored:
            while piece := stored.read(1 << 20):
                digest.update(piece)
        assert zipped.read("SHA256SUMS").decode().startswith(clip.sha256)
    os.unlink(path)
    assert digest.hexdigest() == clip.sha256
