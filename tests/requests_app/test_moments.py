"""A request's time window as a resident reads it: a date at both ends, their language's clock, the time zone."""

import re
from datetime import UTC, datetime

import pytest
from django.utils import translation

from requests_app import mailing, services
from requests_app.models import FootageRequest
from requests_app.templatetags.moments import moment

pytestmark = pytest.mark.django_db


def test_each_end_has_its_date_the_languages_clock_and_the_zone():
    evening, after_midnight = datetime(2026, 12, 2, 2, 0, tzinfo=UTC), datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    with translation.override("en"):
        assert moment(evening) == "Tuesday, Dec. 1, 2026, 9 p.m. EST"
        assert moment(after_midnight) == "Wednesday, Dec. 2, 2026, 1:30 a.m. EST"
    with translation.override("es"):
        assert moment(evening) == "martes, 1 de diciembre de 2026, 21:00 EST"


def test_a_window_across_the_change_to_summer_time_names_both_zones():
    with translation.override("en"):
        assert moment(datetime(2026, 3, 8, 6, 30, tzinfo=UTC)).endswith("1:30 a.m. EST")
        assert moment(datetime(2026, 3, 8, 7, 30, tzinfo=UTC)).endswith("3:30 a.m. EDT")


WINDOW = "between Tuesday, Dec. 1, 2026, 9 p.m. EST and Wednesday, Dec. 2, 2026, 1:30 a.m. EST"


def test_the_request_mail_and_the_consent_page_show_both_dates(client, footage_request, mailoutbox):
    incident = footage_request.incident
    incident.starts_at = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    incident.ends_at = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    incident.save()
    FootageRequest.objects.filter(pk=footage_request.pk).update(state="queued", sent_at=None)

    mailing.footage_requests_mail(request_ids=[footage_request.pk])
    assert WINDOW in " ".join(mailoutbox[0].body.split())
    html = mailoutbox[0].message().get_body(("html",)).get_content()
    assert WINDOW in " ".join(html.split())

    page = client.get(services.consent_link(footage_request).replace("http://testserver", "")).content.decode()
    assert WINDOW in " ".join(re.sub(r"</?strong>", "", page).split())
