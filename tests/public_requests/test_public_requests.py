"""Public area requests: posting and approval, the public page (never the exact spot), answers from people who
never registered (email confirmed first, rate limits, honeypot, fake video), the uploader's rights, and what police
see of it all."""

import base64
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client

from audit.models import AccessEntry
from public_requests import links, services
from public_requests.models import PublicAnswer, PublicRequest
from requests_app.models import Clip
from tests.conftest import link_in, make_staff, parsed_mail
from tests.public_requests.conftest import post_request
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db
TUS = {"Tus-Resumable": "1.0.0"}


def answer_via_form(client, public_request, email="walker@example.org", **extra):
    return client.post(f"/requests/{public_request.code}/", {"email": email, **extra})


def confirmed_answer(public_request, email="walker@example.org") -> PublicAnswer:
    answer = services.public_answer_start(public_request=public_request, email=email, language="en",
                                          wants_to_register=False)
    services.public_answer_confirm(answer=answer)
    answer.refresh_from_db()
    return answer


def upload(client, answer, content: bytes, name="porch.mp4", keep_days="30"):
    base = links.access_path(answer) + "uploads/"
    created = client.post(base, headers={**TUS, "Upload-Length": str(len(content)),
                                         "Upload-Metadata": f"filename {base64.b64encode(name.encode()).decode()}"})
    assert created.status_code == 201, created.content
    location = created["Location"]
    patched = client.patch(location, data=content, content_type="application/offset+octet-stream",
                           headers={**TUS, "Upload-Offset": "0"})
    assert patched.status_code == 204
    return client.post(base + "finish/", headers={"X-Uploads": location.rsplit("/", 1)[1], "X-Keep-Days": keep_days})


# --- posting and approval ------------------------------------------------------------------------------

def test_a_posted_request_waits_for_another_supervisor_and_is_not_public_until_then(
        client, investigator, supervisor, incident):
    public_request = post_request(investigator, incident)
    assert public_request.state == PublicRequest.State.PENDING
    assert client.get("/requests/").content.count(b"/requests/" + str(public_request.code).encode()) == 0
    assert client.get(f"/requests/{public_request.code}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.public_request_approve(public_request=public_request, user=investigator)
    services.public_request_approve(public_request=public_request, user=supervisor)
    page = client.get("/requests/").content.decode()
    assert f"/requests/{public_request.code}/" in page and "Burglary" in page and "Fewer than 5 people answered" in page


def test_without_the_approval_setting_a_request_is_public_as_posted(settings, investigator, incident):
    settings.PUBLIC_REQUESTS_APPROVAL = False
    assert post_request(investigator, incident).state == PublicRequest.State.PUBLISHED


def test_only_investigators_on_the_case_may_post(incident):
    with pytest.raises(PermissionDenied):
        post_request(make_staff("analyst"), incident)


def test_the_public_page_never_shows_the_exact_spot(client, published, incident):
    lng, lat = incident.location.x, incident.location.y
    for path in ("/requests/", f"/requests/{published.code}/"):
        page = client.get(path).content.decode()
        for value in (lng, lat):
            assert f"{value:.4f}" not in page and f"{value:.3f}" not in page, path
        assert incident.address not in page and incident.internal_notes not in page
    # The shown area covers the incident's radius, a few blocks wide, and its corners are the grid's.
    west, south, east, north = published.public_area.extent
    assert west < lng < east and south < lat < north
    assert 0.006 < north - south < 0.03
    assert published.public_area.contains(published.public_area.centroid)


# --- answers from the public ----------------------------------------------------------------------------

def test_an_answer_mails_a_confirmation_and_nothing_is_shown_to_police_before_it(
        client, published, smtp_sink, investigator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = answer_via_form(client, published)
    assert response.status_code == 200 and b"Check your email" in response.content
    answer = PublicAnswer.objects.get()
    assert answer.state == PublicAnswer.State.UNCONFIRMED
    # The uploader's link is useless until the address is confirmed: no upload can start.
    refused = client.post(links.access_path(answer) + "uploads/", headers={**TUS, "Upload-Length": "10"})
    assert refused.status_code == 410 and b"Confirm your email address first" in refused.content
    # Police see no unconfirmed answer.
    from public_requests.selectors import answers_shown_to_police
    assert not answers_shown_to_police(published).exists()
    staff = Client()
    staff.force_login(investigator)
    admin_page = staff.get(f"/admin/public_requests/publicrequest/{published.pk}/change/").content.decode()
    assert "walker@example.org" not in admin_page and "none yet" in admin_page
    [message] = parsed_mail(smtp_sink)
    assert message["To"] == "walker@example.org"
    confirm = link_in(message).replace("http://127.0.0.1:8000", "")
    assert client.get(confirm).status_code == 200  # a mail scanner's GET confirms nothing
    assert PublicAnswer.objects.get().state == PublicAnswer.State.UNCONFIRMED
    done = client.post(confirm)
    assert done.status_code == 302
    assert PublicAnswer.objects.get().state == PublicAnswer.State.CONFIRMED
    assert client.post(confirm).status_code == 410  # single use


def test_a_confirmed_answer_shares_a_clip_police_can_download_and_the_uploader_sees_it(
        client, published, smtp_sink, investigator, incident, django_capture_on_commit_callbacks):
    answer = confirmed_answer(published)
    content = tiny_mp4()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, answer, content)
    assert response.status_code == 200 and b"1 file was shared" in response.content
    clip = Clip.objects.get(incident=incident)
    assert clip.request is None and clip.public_answer.answer == answer
    receipt = parsed_mail(smtp_sink)[-1]
    assert receipt["To"] == "walker@example.org" and clip.sha256 in receipt.get_body(("plain",)).get_content()
    # An anonymous uploader never learns the internal case number: the receipt names the request's offense.
    for part in ("plain", "html"):
        body = receipt.get_body((part,)).get_content()
        assert incident.case_number not in body and "request about a Burglary" in body
    # The investigator downloads it, and the download is in the ledger, which the uploader reads.
    staff = Client()
    staff.force_login(investigator)
    download = staff.get(f"/evidence/{clip.code}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == content
    assert AccessEntry.objects.filter(action="clip.downloaded", target_code=str(clip.code)).exists()
    # It is in the incident's evidence, beside the owners' clips.
    case_page = staff.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    assert f"/evidence/{clip.code}/download/" in case_page
    page = client.get(links.access_path(answer)).content.decode()
    assert "downloaded your clip" in page and clip.sha256 in page
    assert incident.case_number not in page
    # The public count stays "fewer than 5".
    assert "Fewer than 5 people answered" in client.get("/requests/").content.decode()
    assert AccessEntry.objects.filter(action="public_answer.shared").count() == 1


def test_uploader_a_cannot_see_or_finish_uploader_bs_clips(client, published):
    first, second = confirmed_answer(published, "a@example.org"), confirmed_answer(published, "b@example.org")
    assert upload(client, first, tiny_mp4()).status_code == 200
    clip = Clip.objects.get()
    page_b = client.get(links.access_path(second)).content.decode()
    assert clip.sha256 not in page_b and "porch.mp4" not in page_b
    # B's link cannot touch A's staged upload.
    base_a = links.access_path(first) + "uploads/"
    created = client.post(base_a, headers={**TUS, "Upload-Length": "100",
                                           "Upload-Metadata": "filename " + base64.b64encode(b"x.mp4").decode()})
    upload_id = created["Location"].rsplit("/", 1)[1]
    b_path = links.access_path(second) + f"uploads/{upload_id}"
    assert client.head(b_path, headers=TUS).status_code == 404
    finish = client.post(links.access_path(second) + "uploads/finish/",
                         headers={"X-Uploads": upload_id, "X-Keep-Days": "30"})
    assert finish.status_code == 404
    # Nor can staff or anyone use the uploader page without its link.
    assert client.get("/requests/answers/not-a-token/").status_code == 410


def test_a_fake_video_is_refused_with_a_clear_message_and_nothing_is_kept(client, published):
    answer = confirmed_answer(published)
    response = upload(client, answer, b"this is not a video at all" * 100, name="clip.mp4")
    assert response.status_code == 400
    assert "“clip.mp4” was not accepted" in response.content.decode()
    assert not Clip.objects.exists()


def test_the_honeypot_sends_no_mail_and_stores_nothing(client, published, smtp_sink):
    response = answer_via_form(client, published, website="http://spam.example")
    assert response.status_code == 200 and b"Check your email" in response.content
    assert not PublicAnswer.objects.exists() and not smtp_sink.messages


def test_a_bad_address_is_refused_with_a_message(client, published):
    response = answer_via_form(client, published, email="not an address")
    assert response.status_code == 400 and b"Enter a valid email address" in response.content
    assert not PublicAnswer.objects.exists()


@pytest.fixture
def limits_on(settings):
    from django.core.cache import cache

    settings.RATE_LIMITS_ENABLED = True
    cache.clear()
    yield settings
    cache.clear()


def test_answers_are_rate_limited_per_email_and_per_address(client, published, limits_on):
    limits_on.RATE_LIMIT_PER_EMAIL, limits_on.RATE_LIMIT_PER_ADDRESS = 2, 4
    statuses = [answer_via_form(client, published).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    statuses = [answer_via_form(client, published, email=f"x{i}@example.org").status_code for i in range(2)]
    assert statuses[-1] == 429  # the address's fifth post in the window
    assert PublicAnswer.objects.count() == 3


def test_the_per_email_limit_folds_plus_tags_dots_and_case(client, published, limits_on):
    """a+1@b, A+2@B and a.n.a@gmail.com are each one mailbox: spelling it otherwise does not dodge the limit."""
    limits_on.RATE_LIMIT_PER_EMAIL, limits_on.RATE_LIMIT_PER_ADDRESS = 2, 100
    spellings = ["ana+1@example.org", "ANA+two@Example.org", "ana@example.org"]
    statuses = [answer_via_form(Client(REMOTE_ADDR=f"10.0.1.{i}"), published, email=email).status_code
                for i, email in enumerate(spellings)]
    assert statuses == [200, 200, 429]
    gmail = ["a.n.a@gmail.com", "ana+x@googlemail.com", "A.NA@gmail.com"]
    statuses = [answer_via_form(Client(REMOTE_ADDR=f"10.0.2.{i}"), published, email=email).status_code
                for i, email in enumerate(gmail)]
    assert statuses == [200, 200, 429]


def test_uploads_of_one_mailbox_are_limited_however_its_answers_spell_it(published, limits_on):
    limits_on.RATE_LIMIT_PER_EMAIL, limits_on.RATE_LIMIT_PER_ADDRESS = 2, 10
    statuses = []
    for i, email in enumerate(["ana+a@example.org", "Ana+b@example.org", "ana@example.org"]):
        answer = confirmed_answer(published, email=email)
        other = Client(REMOTE_ADDR=f"10.0.3.{i + 1}")
        statuses.append(other.post(links.access_path(answer) + "uploads/",
                                   headers={**TUS, "Upload-Length": "100"}).status_code)
    assert statuses == [201, 201, 429]


def test_uploads_of_one_email_are_limited_whatever_the_address(published, limits_on):
    limits_on.RATE_LIMIT_PER_EMAIL, limits_on.RATE_LIMIT_PER_ADDRESS = 2, 10  # the email's own limit, not the address's
    answer = confirmed_answer(published)
    base = links.access_path(answer) + "uploads/"
    statuses = []
    for i in range(3):  # each from another address: the email's count still stops the third
        other = Client(REMOTE_ADDR=f"10.0.0.{i + 1}")
        statuses.append(other.post(base, headers={**TUS, "Upload-Length": "100"}).status_code)
    assert statuses == [201, 201, 429]


def test_one_answer_may_store_at_most_the_upload_limit_in_all(client, published, settings):
    settings.UPLOAD_MAX_MB = 1
    answer = confirmed_answer(published)
    base = links.access_path(answer) + "uploads/"
    half = {**TUS, "Upload-Length": str(600 * 1024),
            "Upload-Metadata": "filename " + base64.b64encode(b"a.mp4").decode()}
    assert client.post(base, headers=half).status_code == 201
    refused = client.post(base, headers=half)  # the first one's announced bytes count too
    assert refused.status_code == 413 and "may total at most 1 MB" in refused.content.decode()
    # Checked again when finished: clips stored meanwhile count.
    from requests_app import resumable
    for staged in resumable.staged_announced(request_code=answer.code):
        resumable.staged_delete(staged)
    content = tiny_mp4()
    created = client.post(base, headers={**TUS, "Upload-Length": str(len(content)),
                                         "Upload-Metadata": "filename " + base64.b64encode(b"b.mp4").decode()})
    assert created.status_code == 201
    location = created["Location"]
    client.patch(location, data=content, content_type="application/offset+octet-stream",
                 headers={**TUS, "Upload-Offset": "0"})
    assert upload(client, answer, content).status_code == 200  # a first clip fits
    Clip.objects.update(size=1024 * 1024 - len(content) + 1)
    finished = client.post(base + "finish/", headers={"X-Uploads": location.rsplit("/", 1)[1], "X-Keep-Days": "30"})
    assert finished.status_code == 413 and "may total at most 1 MB" in finished.content.decode()
    assert Clip.objects.count() == 1


def test_a_withdrawn_request_stays_listed_and_takes_no_answers(client, published, investigator):
    answer = confirmed_answer(published)
    services.public_request_withdraw(public_request=published, user=investigator)
    listed = client.get("/requests/").content.decode()
    assert "Withdrawn by the department." in listed and "There are no open requests right now." in listed
    page = client.get(f"/requests/{published.code}/")
    assert page.status_code == 200 and b"This request has been withdrawn." in page.content
    refused = answer_via_form(client, published)
    assert refused.status_code == 410 and b"This request has been withdrawn." in refused.content
    assert client.post(links.access_path(answer) + "uploads/", headers={**TUS, "Upload-Length": "10"}).status_code \
        == 410
    assert PublicAnswer.objects.count() == 1


def test_a_request_past_its_answer_time_is_listed_as_past_and_says_so(client, published):
    PublicRequest.objects.filter(pk=published.pk).update(answers_until=published.created_at)
    assert "There are no open requests right now." in client.get("/requests/").content.decode()
    refused = answer_via_form(client, published)
    assert refused.status_code == 410 and b"This request no longer takes answers." in refused.content


def test_two_incidents_in_one_cell_with_one_radius_show_the_same_area(investigator):
    from django.contrib.gis.geos import Point

    from public_requests.area import CELL_M, _steps, circle
    from requests_app import services as incident_services
    from tests.requests_app.factories import IncidentFactory

    lng_step, lat_step = _steps(35.78)
    cell_x, cell_y = int(-78.638 // lng_step), int(35.78 // lat_step)
    shown = []
    for fx, fy, case in ((0.03, 0.05, "26-777101"), (0.97, 0.94, "26-777102"), (0.5, 0.2, "26-777103")):
        incident = IncidentFactory(case_number=case, radius_m=250,
                                   location=Point((cell_x + fx) * lng_step, (cell_y + fy) * lat_step, srid=4326))
        incident_services.incident_investigators_set(incident=incident, users=[investigator])
        public_request = post_request(investigator, incident)
        assert public_request.public_area.contains(circle(incident.location, 250))
        shown.append(public_request.public_area)
    assert shown[0].equals(shown[1]) and shown[0].equals(shown[2])
    # Five cells a side for 250 m: ceil(250 / 300) + 1 around the centre's cell.
    west, south, east, north = shown[0].extent
    assert round((north - south) / lat_step) == 5 and round((east - west) / lng_step) == 5
    # Any radius, anywhere in the cell: the circle is inside.
    from public_requests.area import around
    for radius in (CELL_M, 2 * CELL_M, 1000):
        center = Point((cell_x + 0.999) * lng_step, (cell_y + 0.999) * lat_step, srid=4326)
        assert around(center, radius).contains(circle(center, radius))


def test_a_drawn_area_is_coarsened_to_whole_cells_around_it(investigator, incident):
    from django.contrib.gis.geos import Polygon

    drawn = Polygon(((-78.6390, 35.7790), (-78.6370, 35.7790), (-78.6370, 35.7800), (-78.6390, 35.7790)), srid=4326)
    public_request = post_request(investigator, incident, area_drawn=drawn)
    shown = public_request.public_area
    assert shown.contains(drawn) and shown.area > 20 * drawn.area
    # Two areas in the same cells show the same rectangle: the shown one says nothing finer than the grid.
    nudged = Polygon(((-78.6389, 35.7791), (-78.6371, 35.7791), (-78.6371, 35.7799), (-78.6389, 35.7791)), srid=4326)
    from public_requests.area import coarsened
    assert coarsened(nudged).equals(shown)


def test_an_investigator_posts_from_the_admin_and_a_supervisor_approves_there(investigator, supervisor, incident):
    from datetime import timedelta

    from django.utils import timezone

    poster, approver = Client(), Client()
    poster.force_login(investigator)
    approver.force_login(supervisor)
    form = poster.get(f"/admin/public_requests/publicrequest/add/?incident={incident.pk}")
    assert form.status_code == 200 and incident.case_number in form.content.decode()
    fmt = "%Y-%m-%d %H:%M:%S"
    data = {"incident": incident.pk, "area": "", "starts_at_0": incident.starts_at.strftime("%Y-%m-%d"),
            "starts_at_1": incident.starts_at.strftime("%H:%M:%S"),
            "ends_at_0": incident.ends_at.strftime("%Y-%m-%d"), "ends_at_1": incident.ends_at.strftime("%H:%M:%S"),
            "answers_until_0": (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d"),
            "answers_until_1": "12:00:00", "summary": "Footage wanted."}
    refused = poster.post("/admin/public_requests/publicrequest/add/", data)
    assert refused.status_code == 200
    assert "Answers must be taken until a time in the future." in refused.content.decode()
    data["answers_until_0"] = (timezone.now() + timedelta(days=5)).strftime("%Y-%m-%d")
    assert poster.post("/admin/public_requests/publicrequest/add/", data).status_code == 302
    public_request = PublicRequest.objects.get()
    assert public_request.state == PublicRequest.State.PENDING and fmt
    own = poster.post("/admin/public_requests/publicrequest/", {"action": "approve",
                                                                "_selected_action": [public_request.pk]})
    assert own.status_code in (302, 403)
    public_request.refresh_from_db()
    assert public_request.state == PublicRequest.State.PENDING  # an investigator approves nothing
    approver.post("/admin/public_requests/publicrequest/", {"action": "approve",
                                                           "_selected_action": [public_request.pk]})
    public_request.refresh_from_db()
    assert public_request.state == PublicRequest.State.PUBLISHED
    assert AccessEntry.objects.filter(action="public_request.published", target_code=str(public_request.code)).exists()


def test_a_published_request_cannot_be_changed_in_the_admin(published, investigator):
    from datetime import timedelta

    staff = Client()
    staff.force_login(investigator)
    url = f"/admin/public_requests/publicrequest/{published.pk}/change/"
    later = published.answers_until + timedelta(days=30)
    data = {"area": "", "starts_at_0": "2020-01-01", "starts_at_1": "00:00:00", "ends_at_0": "2030-01-01",
            "ends_at_1": "00:00:00", "answers_until_0": later.strftime("%Y-%m-%d"), "answers_until_1": "12:00:00",
            "summary": "Changed after approval."}
    staff.post(url, data)
    before = (published.summary, published.starts_at, published.ends_at, published.answers_until,
              published.public_area.wkt)
    published.refresh_from_db()
    assert (published.summary, published.starts_at, published.ends_at, published.answers_until,
            published.public_area.wkt) == before
    page = staff.get(url).content.decode()
    assert 'name="summary"' not in page and 'name="answers_until_0"' not in page
    # A pending one stays editable.
    pending = post_request(investigator, published.incident)
    assert staff.post(f"/admin/public_requests/publicrequest/{pending.pk}/change/", data).status_code == 302
    pending.refresh_from_db()
    assert pending.summary == "Changed after approval."


def test_a_purged_public_clip_gets_its_uploader_a_deletion_receipt(client, published, smtp_sink):
    from django.utils import timezone

    answer = confirmed_answer(published)
    upload(client, answer, tiny_mp4())
    Clip.objects.update(purged_at=timezone.now(), wrapped_key=None)
    assert services.public_clip_deletion_receipts_send() == 1
    assert services.public_clip_deletion_receipts_send() == 0
    deleted = parsed_mail(smtp_sink)[-1]
    assert "has been deleted" in deleted["Subject"]
    assert published.incident.case_number not in deleted.get_body(("plain",)).get_content()


def test_staff_roles_see_public_requests_of_their_cases_only(published):
    from public_requests.selectors import public_requests_visible_to

    assert public_requests_visible_to(user=make_staff("auditor")).count() == 1
    assert public_requests_visible_to(user=make_staff("analyst")).count() == 0
    assert public_requests_visible_to(user=AnonymousUser()).count() == 0


def test_the_register_link_is_prefilled(client, published):
    answer = services.public_answer_start(public_request=published, email="w@example.org", language="en",
                                          wants_to_register=True)
    services.public_answer_confirm(answer=answer)
    page = client.get(links.access_path(answer)).content.decode()
    assert "/register/?email=w%40example.org" in page
    assert 'value="w@example.org"' in client.get("/register/?email=w%40example.org").content.decode()


def test_the_spanish_page_is_translated(client, published):
    page = client.get("/requests/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Solicitudes de la policía" in page
    assert not re.search(r"Police requests for footage", page)


def test_transparency_counts_public_requests_and_answers(client, published):
    answer = confirmed_answer(published)
    upload(client, answer, tiny_mp4())
    from audit import transparency

    month = transparency.monthly(months=1)[-1]
    assert month["public_requests"] == 1 and month["public_answers"] == 1


def test_the_demo_seed_publishes_a_request_for_the_demo_case(settings, client):
    settings.DEMO = True
    call_command("seed_demo")
    call_command("seed_demo_incidents")
    call_command("seed_demo_public_request")
    call_command("seed_demo_public_request")  # idempotent
    assert PublicRequest.objects.get().state == PublicRequest.State.PUBLISHED
    assert "Vehicle break-in" in client.get("/requests/").content.decode()


def test_unconfirmed_answers_are_purged_after_a_week_and_confirmed_ones_stay(published):
    from datetime import timedelta

    from django.utils import timezone

    stale = services.public_answer_start(public_request=published, email="old@example.org", language="en",
                                         wants_to_register=False)
    kept = confirmed_answer(published, "kept@example.org")
    PublicAnswer.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert services.public_answers_unconfirmed_purge() == 1
    assert list(PublicAnswer.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not PublicAnswer.objects.filter(pk=stale.pk).exists()


def test_the_uploaders_email_is_kept_only_while_a_receipt_needs_it(published, settings, smtp_sink):
    from datetime import timedelta

    from django.utils import timezone

    from audit.actions import Action
    from public_requests.models import AnswerClip
    from tests.requests_app.factories import sealed_clip

    sharer, idle, fresh = (confirmed_answer(published, email=f"{who}@example.org") for who in ("sharer", "idle", "new"))
    clip = sealed_clip(published.incident, b"street video " * 100, name="street.mp4")
    AnswerClip.objects.create(answer=sharer, clip=clip)
    PublicAnswer.objects.filter(pk=idle.pk).update(
        confirmed_at=timezone.now() - timedelta(days=settings.PUBLIC_ANSWER_EMAIL_KEEP_DAYS + 1))
    PublicAnswer.objects.filter(pk=sharer.pk).update(confirmed_at=timezone.now() - timedelta(days=400))

    assert services.public_answer_emails_erase() == 1  # the idle one: shared nothing in the keep days
    emails = dict(PublicAnswer.objects.values_list("pk", "email"))
    assert emails == {sharer.pk: "sharer@example.org", idle.pk: "", fresh.pk: "new@example.org"}

    Clip.objects.filter(pk=clip.pk).update(purged_at=timezone.now())  # retention deleted the clip
    assert services.public_answer_emails_erase() == 0  # its deletion receipt still needs the address
    assert services.public_clip_deletion_receipts_send() == 1
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["sharer@example.org"]
    assert services.public_answer_emails_erase() == 1
    assert PublicAnswer.objects.get(pk=sharer.pk).email == ""
    assert AccessEntry.objects.filter(action=Action.PUBLIC_ANSWER_EMAILS_ERASED).count() == 2
    assert client_page_of(sharer).status_code == 200  # the uploader's own link still opens their page


def client_page_of(answer):
    return Client().get(links.access_path(answer))


def test_the_answer_form_says_how_long_the_email_is_kept(client, published):
    page = client.get(f"/requests/{published.code}/").content.decode()
    assert "erased once your clips are deleted" in page and "30 days after you confirm it" in page
    page = Client(headers={"accept-language": "es"}).get(f"/requests/{published.code}/").content.decode()
    assert "30 días después de confirmarla" in page
