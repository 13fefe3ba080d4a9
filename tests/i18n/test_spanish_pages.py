"""Every public page and owner email, rendered in Spanish over real data: no English left.

Each page is rendered twice, in English and in Spanish. A text a reader sees (text nodes, and the attributes
screen readers and tooltips read) that is the same in both renderings, once the data in it is taken out (names,
labels, addresses, the agency's name), was never translated: the test names it. So it fails when someone adds
an English sentence without marking it, marks it but leaves it out of the catalogue, or translates it as ""."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from audit.actions import Action
from audit.ledger import record
from common.mail import render_templated_parts
from integration import services as live_services
from registry import links
from registry.models import OwnerLink
from requests_app import services as request_services
from requests_app.models import FootageRequest
from tests.conftest import sign_in_owner, token_from
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db

SKIPPED_ELEMENTS = {"script", "style", "pre", "code"}  # code and settings shown to copy
READ_ATTRIBUTES = {"aria-label", "alt", "title", "placeholder"}
# The same in both languages by nature: the product, a hash's name, time zones, the language names themselves.
# Month abbreviations spelled alike in both (the transparency chart's axis: "Feb" is "Feb" in Spanish too).
SAME_WORDS = {"connect", "SHA-256", "EST", "EDT", "English", "Español", "CSV", "JSON",
              "Feb", "Mar", "May", "Jun", "Jul", "Sep", "Oct", "Nov"}
LIMITS = {"hours": {day: ["07:00", "22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
          "incident_required": True, "incident_radius_m": 300, "max_session_minutes": 30, "notify_each_view": True}


class _ReadText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self._skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self._skipping += 1
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (name.startswith("data-") and " " in value)):
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.texts.append(data)


def read_texts(html: str) -> list[str]:
    parser = _ReadText()
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.texts]


def untranslated(english: str, spanish: str, data: set[str], *, html: bool = True) -> list[str]:
    """Texts of the Spanish rendering that are also in the English one and hold words other than data."""
    read = read_texts if html else (lambda text: [" ".join(line.split()) for line in text.splitlines()])
    seen_in_english = set(read(english))
    left = []
    for text in read(spanish):
        if text not in seen_in_english:
            continue
        rest = text
        for value in sorted(data | SAME_WORDS, key=len, reverse=True):
            rest = rest.replace(value, " ")
        if re.search(r"[A-Za-z]{3,}", rest):
            left.append(text)
    return left


class Site:
    """The demo-like data every page is rendered over, and what of it is data rather than words."""

    def __init__(self):
        self.owner = OwnerFactory(name="Alice Anderson", email="alice@example.org", address="1 Alpha Street, Raleigh")
        self.camera = CameraFactory(owner=self.owner, label="Alice porch", address="1 Alpha Street, Raleigh")
        self.live_owner = OwnerFactory(kind="business", name="Corner Grocery", email="grocer@example.org",
                                       address="5 Market Street, Raleigh")
        self.live_camera = CameraFactory(owner=self.live_owner, label="Store front", address="5 Market Street")
        live_services.live_share_sign(camera=self.live_camera, signed_name="Corner Grocery", ip="127.0.0.1",
                                      limits=LIMITS)
        self.live_camera.refresh_from_db()
        self.incident = IncidentFactory(case_number="26-004512", location=Point(-78.6382, 35.7796, srid=4326))
        self.request = FootageRequest.objects.create(
            incident=self.incident, camera=self.camera, camera_label=self.camera.label, nonce="i18n-nonce",
            state="sent", sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=10))
        record(actor="staff", action=Action.REQUEST_MAILED, target_type="footage_request",
               target_code=self.request.code, camera_code=self.camera.code, owner_code=self.owner.code,
               incident_code=self.incident.code, case_number=self.incident.case_number)
        self.data = {settings.AGENCY_NAME, settings.AGENCY_EMAIL, settings.AGENCY_PHONE, self.owner.name,
                     self.owner.email, self.owner.address, self.camera.label, self.camera.address,
                     self.live_owner.name, self.live_owner.email, self.live_camera.label, self.live_camera.address,
                     self.incident.case_number, self.incident.address, self.incident.owner_summary,
                     self.incident.offense_type, settings.TERMS_VERSION, "Burglary", "staff"}

    def client(self, language: str, owner=None) -> Client:
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        if owner is not None:
            sign_in_owner(client, owner)
        return client

    def consent_path(self) -> str:
        return request_services.consent_link(self.request).replace(settings.PUBLIC_URL, "")


@pytest.fixture
def site(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return Site()


def public_get_pages(site: Site) -> dict:
    """Path -> owner to sign in first (None: anonymous). GET only, so each page can be asked for twice."""
    camera, live = site.camera.code, site.live_camera.code
    confirm = token_from(links.link_issue(owner=site.owner, purpose=OwnerLink.Purpose.CONFIRM))
    sign_in = token_from(links.link_issue(owner=site.owner, purpose=OwnerLink.Purpose.SIGN_IN))
    return {
        "/": None, "/register/": None, "/register/sent/": None, f"/register/confirm/{confirm}/": None,
        "/register/confirm/not-a-token/": None, "/owner/": None, f"/owner/sign-in/{sign_in}/": None,
        "/transparency/": None, "/no-such-page/": None, site.consent_path(): None, "/footage/not-a-token/": None,
        "/owner/#signed-in": site.owner, "/owner/details/": site.owner, "/owner/history/": site.owner,
        "/owner/cameras/add/": site.owner, f"/owner/cameras/{camera}/": site.owner,
        f"/owner/cameras/{camera}/delete/": site.owner, "/owner/delete/": site.owner,
        f"/owner/cameras/{camera}/live/": site.owner,
        f"/owner/cameras/{live}/live/": site.live_owner, f"/owner/cameras/{live}/live/masks/": site.live_owner,
    }


def test_every_public_page_is_in_spanish(site):
    problems = {}
    for path, owner in public_get_pages(site).items():
        pages = {}
        for language in ("en", "es"):
            response = site.client(language, owner).get(path.split("#")[0])
            assert response.status_code in (200, 404, 410), (path, response.status_code)
            pages[language] = response.content.decode()
        assert 'lang="es"' in pages["es"], path
        left = untranslated(pages["en"], pages["es"], site.data)
        if left:
            problems[path] = left
    assert problems == {}


def test_forms_with_errors_and_the_messages_are_in_spanish(site):
    """Validation errors (ours and Django's), the error summary, and a message after a portal action."""
    posts = {
        "/register/": ({"kind": "resident", "email": "not-an-email", "cameras-TOTAL_FORMS": "1",
                        "cameras-INITIAL_FORMS": "0", "cameras-0-label": "", "cameras-0-latitude": "10",
                        "cameras-0-longitude": "10", "cameras-0-placement": "outdoor",
                        "cameras-0-direction_deg": "400", "cameras-0-field_of_view_deg": "90",
                        "cameras-0-range_m": "30", "cameras-0-retention_days": "7"}, None),
        "/owner/": ({"email": "nope"}, None),
        "/owner/details/": ({"name": "", "phone": "12", "language": "es"}, site.owner),
        f"/owner/cameras/{site.camera.code}/": ({"label": "", "latitude": "35.78", "longitude": "-78.64",
                                                  "placement": "indoor", "faces_public": "on"}, site.owner),
        f"/owner/cameras/{site.live_camera.code}/live/": ({"mon_from": "25:00", "mon_to": "",
                                                          "incident_radius_m": "1"}, site.live_owner),
        site.consent_path(): ({"answer": "maybe"}, None),
    }
    problems = {}
    for path, (data, owner) in posts.items():
        pages = {language: site.client(language, owner).post(path, data).content.decode() for language in ("en", "es")}
        assert "error" in pages["es"], path
        left = untranslated(pages["en"], pages["es"], site.data)
        if left:
            problems[path] = left
    assert problems == {}
    # A message from the messages framework, shown on the next page.
    client = site.client("es", site.owner)
    page = client.post(f"/owner/cameras/{site.camera.code}/pause/", {"action": "pause"}, follow=True).content.decode()
    assert "“Alice porch” está en pausa: la policía no la verá ni le pedirá sus grabaciones." in page


def test_answer_pages_are_in_spanish(site):
    """The pages that follow a one-time action, rendered as their views render them."""
    clip = {"original_name": "porch.mp4", "sha256": "ab" * 32}
    contexts = {
        "requests_app/consent_done.html": [{"answer": "uploaded", "clips": [clip], "expires_at": timezone.now()},
                                           {"answer": "no_footage", "expires_at": timezone.now()},
                                           {"answer": "declined", "expires_at": timezone.now()}],
        "registry/portal_link_sent.html": [{"minutes": 30}],
        "registry/portal_deleted.html": [{}],
        "rate_limited.html": [{"minutes": 10}],
        "403.html": [{}],
        "500.html": [{}],
    }
    problems = {}
    for template, variants in contexts.items():
        for context in variants:
            pages = {}
            for language in ("en", "es"):
                with translation.override(language):
                    pages[language] = render_to_string(template, {"agency_name": settings.AGENCY_NAME,
                                                                  "agency_email": settings.AGENCY_EMAIL, **context})
            left = untranslated(pages["en"], pages["es"], site.data | {"porch.mp4", "ab" * 32})
            if left:
                problems[template] = left
    assert problems == {}


def owner_emails(site: Site) -> dict:
    """Each owner email's name and context, as its sender builds it."""
    clip = type("Clip", (), {"keep_days_after_close": 30, "sha256": "ab" * 32, "purged_at": timezone.now()})()
    live = type("Session", (), {"started_at": timezone.now(), "ends_by": timezone.now() + timedelta(minutes=30),
                                "reason": "Following a vehicle", "override_reason": "Urgent"})()
    from registry.owner_history import history_rows

    return {
        "registration-confirm": {"owner": site.owner, "cameras": [site.camera], "url": "https://x/confirm/t/",
                                 "hours": 48},
        "portal-sign-in": {"owner": site.owner, "url": "https://x/owner/sign-in/t/", "minutes": 30},
        "footage-request": {"request": site.request, "incident": site.incident, "url": "https://x/footage/t/",
                            "expires_at": timezone.now(), "owner_name": site.owner.name},
        "footage-reminder": {"request": site.request, "incident": site.incident, "url": "https://x/footage/t/",
                             "expires_at": timezone.now(), "owner_name": site.owner.name},
        "clip-deleted": {"clip": clip, "camera": site.camera, "owner_name": site.owner.name,
                         "incident": site.incident},
        "live-view-notice": {"owner": site.owner, "camera": site.camera, "session": live, "who": "Analyst unit",
                             "case": site.incident.case_number, "portal_url": "https://x/owner/"},
        "owner-digest": {"owner": site.owner, "rows": history_rows(owner=site.owner), "url": "https://x/owner/"},
    }


def test_every_owner_email_is_in_spanish(site):
    problems = {}
    data = site.data | {"Following a vehicle", "Urgent", "Analyst unit", "ab" * 32}
    data |= {value for context in owner_emails(site).values() for key, value in context.items() if key.endswith("url")}
    for name, context in owner_emails(site).items():
        english = render_templated_parts(name=name, context=context, language="en")
        spanish = render_templated_parts(name=name, context=context, language="es")
        assert english[0] != spanish[0], f"{name}: the subject is not translated"
        for part, (en, es) in {"subject": (english[0], spanish[0]), "text": (english[1], spanish[1])}.items():
            left = untranslated(en, es, data, html=False)
            if left:
                problems[f"{name} {part}"] = left
        left = untranslated(english[2], spanish[2], data)
        if left:
            problems[f"{name} html"] = left
    assert problems == {}


def test_the_check_finds_an_unmarked_sentence():
    """The comparison itself: a sentence left in English is named, data and translated text are not."""
    english = '<p>Hello Alice</p><p>We keep clips.</p><img alt="A map">'
    spanish = '<p>Hola Alice</p><p>We keep clips.</p><img alt="A map">'
    assert untranslated(english, spanish, {"Alice"}) == ["We keep clips.", "A map"]
    assert untranslated("<p>Alice porch</p>", "<p>Alice porch</p>", {"Alice porch"}) == []
