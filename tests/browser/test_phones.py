"""Phones (issue 16, item 5): the staff map, the live view, the owner portal, the footage page and registration at
390x844 and at 360x740 in Chromium, under uvicorn as connect is served. Each page fails on horizontal overflow or
on a control smaller than 44x44 CSS pixels (WCAG 2.5.5, Target Size).

Counted: every visible button, input, select, textarea and summary, every element with role=button (Leaflet's zoom
controls), links in a nav, and links styled as buttons. Exempt, per WCAG 2.5.5's exceptions:
  - Inline: links inside a sentence or block of text (prose, the map's attribution line), which are not counted;
  - Equivalent: a checkbox or radio button whose label activates it too: its target is the checkbox and its
    label together, which must reach 44x44;
  - hidden things (a closed dialog, a [hidden] section, the public forms' robot trap, off screen and aria-hidden)
    are not on the screen and not counted.
Map markers and clusters are not counted: the cameras they show are in the search's list too, whose controls are
counted (Equivalent), and the zoom buttons and a pinch do what a tap on a cluster does.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect

from integration import services as live_services
from registry import links
from registry.models import OwnerLink
from requests_app import services as request_services
from requests_app.models import FootageRequest
from tests.browser.conftest import offline, staff_sign_in
from tests.conftest import make_staff
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MIN_TARGET = 44
# The issue's phone, and the narrowest common one (the pages must work at 360 px).
PHONES = [{"width": 390, "height": 844}, {"width": 360, "height": 740}]

# Everything a finger must hit, measured as the user would: a checkbox with its label (WCAG's "Equivalent").
# The screen's width comes from the test: a phone's browser zooms out to fit a page that is too wide, which widens
# window.innerWidth with it.
PHONE_PROBLEMS = """([min, width]) => {
  const problems = [];
  const wide = document.documentElement.scrollWidth;
  if (wide > width) problems.push(`the page is ${wide} px wide on a ${width} px screen`);
  const selector = "button, input:not([type=hidden]), select, textarea, summary, [role=button], nav a, a.button";
  const name = (el) => (el.id ? "#" + el.id : el.tagName.toLowerCase() + (el.className ? "." +
    String(el.className).trim().split(/\\s+/).join(".") : "")) + ` "${(el.innerText || el.value || el.name ||
    el.getAttribute("aria-label") || "").trim().slice(0, 30)}"`;
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest(".leaflet-marker-pane")) continue;  // markers: the search list is their equivalent
    if (el.closest("[aria-hidden=true]")) continue;  // the forms' robot trap: off screen, hidden from everyone
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    let box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      for (const label of el.labels || []) {
        const l = label.getBoundingClientRect();
        const left = Math.min(box.left, l.left), top = Math.min(box.top, l.top);
        box = { width: Math.max(box.right, l.right) - left, height: Math.max(box.bottom, l.bottom) - top };
      }
    }
    if (box.width < min - 0.5 || box.height < min - 0.5)
      problems.push(`${name(el)} is ${Math.round(box.width)}x${Math.round(box.height)} px`);
    const right = el.getBoundingClientRect().right;
    if (right > width + 0.5) problems.push(`${name(el)} reaches ${Math.round(right)} px, past the screen`);
  }
  return problems;
}"""


def phone_problems(page) -> list[str]:
    # After a click that navigates, the new page's heading can be in the DOM before its stylesheet has arrived,
    # and a measurement then would see the page unstyled: measure once the page has loaded.
    page.wait_for_load_state("load")
    return page.evaluate(PHONE_PROBLEMS, [MIN_TARGET, page.viewport_size["width"]])


def assert_fits(page, where: str = "") -> None:
    problems = phone_problems(page)
    assert not problems, f"{where or page.url}:\n" + "\n".join(problems)


@pytest.fixture(params=PHONES, ids=lambda size: f"{size['width']}x{size['height']}")
def phone(request, browser, asgi_server):
    made = []

    def new(*, javascript: bool = True):
        context = offline(browser.new_context(base_url=asgi_server, viewport=request.param,
                                              is_mobile=True, has_touch=True, java_script_enabled=javascript))
        context.set_default_timeout(15_000)
        made.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield new
    for context in made:
        context.close()


def owner_signed_in(page, owner) -> None:
    link = links.link_issue(owner=owner, purpose=OwnerLink.Purpose.SIGN_IN).split("//", 1)[1].split("/", 1)[1]
    page.goto("/" + link)
    page.click("button:has-text('Sign in')")
    expect(page.locator("h1")).to_be_visible()


def test_the_checker_finds_what_it_must(phone):
    """A page made to fail: a small button, a tiny link in a nav, a wide box; not a link inside a sentence."""
    page = phone()
    page.set_content("""<meta name="viewport" content="width=device-width, initial-scale=1">
        <nav><a href="#a" style="font-size:10px">tiny</a></nav>
        <p>Inline <a href="#b">links in prose</a> are exempt.</p>
        <button style="padding:0">small</button>
        <label><input type="checkbox" style="width:12px;height:12px"> a checkbox whose label is big enough to hit,
        as long as this text runs over two or three lines on a phone so the pair is tall</label>
        <div style="width:600px">wide</div>""")
    problems = phone_problems(page)
    assert any("page is 6" in p for p in problems), problems
    assert any('"tiny"' in p for p in problems) and any('"small"' in p for p in problems)
    assert not any("links in prose" in p for p in problems)
    assert not any("checkbox" in p for p in problems)


def test_registration_on_a_phone(phone):
    page = phone()
    page.goto("/register/")
    expect(page.locator(".camera-map").first).to_be_visible()
    expect(page.locator("#id_cameras-0-latitude_helptext")).to_have_text("Click the map to fill this in, or type it.")
    assert_fits(page)
    page.click("#add-camera")
    expect(page.locator("fieldset.camera")).to_have_count(2)
    assert_fits(page)
    assert not page.errors


def test_registration_without_javascript_never_mentions_the_map(phone):
    page = phone(javascript=False)
    page.goto("/register/")
    main = page.locator("main")
    expect(main).not_to_contain_text(re.compile("click the map", re.IGNORECASE))
    expect(page.locator("#id_cameras-0-latitude_helptext")).to_contain_text("Type it")
    assert_fits(page)  # Playwright's own script runs with the page's scripts off


def test_the_staff_map_and_the_live_view_on_a_phone(phone):
    camera = CameraFactory(label="Corner store", owner=OwnerFactory(kind="business"),
                           location=Point(-78.6382, 35.7796, srid=4326))
    share_camera(camera)
    CameraFactory(label="Facing the square", location=Point(-78.6383, 35.7801, srid=4326))
    IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    trained(make_staff("analyst"))
    page = phone()
    staff_sign_in(page, "analyst")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "2")
    assert_fits(page)
    page.fill("#search-q", "35.7796, -78.6382")
    page.click("#search-form button")
    expect(page.locator("#results li")).to_have_count(2)
    assert_fits(page)

    page.click("#results [data-watch-live]")
    expect(page.locator("#live-dialog")).to_be_visible()
    assert_fits(page)
    page.fill("#live-reason", "Robbery suspect seen running west")
    page.click("#live-open")
    expect(page.locator("#live-viewer")).to_be_visible()
    assert_fits(page)
    assert not page.errors


def test_a_supervisors_dashboard_on_a_phone(phone):
    """The admin opens on each role's work, and a supervisor approves overrides from a phone: the dashboard's rows
    of sentences fit (Django's dashboard styles had kept each on one line, 578 px wide at 390, or set a case number
    one letter a line)."""
    incident = IncidentFactory(case_number="26-004512", offense_type="Vehicle break-in")
    for n in range(2):
        camera = CameraFactory()
        FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label, nonce=f"n{n}",
                                      state="sent", sent_at=timezone.now(),
                                      expires_at=timezone.now() + timedelta(days=10))
    make_staff("supervisor")
    page = phone()
    staff_sign_in(page, "supervisor", next_path="/admin/")
    case = page.locator("#dashboard a", has_text="26-004512")
    expect(case).to_be_visible()
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = case.bounding_box()
    assert box["width"] >= 80 and box["height"] <= 60, box  # on one or two lines, not a letter a line


def test_the_staff_map_of_an_investigator_choosing_cameras_for_a_case_on_a_phone(phone):
    CameraFactory(label="Facing the square", location=Point(-78.6382, 35.7801, srid=4326))
    CameraFactory(label="Corner store", location=Point(-78.6375, 35.7790, srid=4326))
    investigator = make_staff("investigator")
    incident = IncidentFactory(radius_m=200)
    request_services.incident_investigators_set(incident=incident, users=[investigator])
    page = phone()
    staff_sign_in(page, "investigator")
    page.select_option("#case-select", str(incident.code))
    expect(page.locator("#results input[name=camera]")).not_to_have_count(0)
    assert_fits(page)
    assert not page.errors


def test_the_owner_portal_on_a_phone(phone):
    owner = OwnerFactory(kind="business", name="Corner Grocery", email="grocer@example.org")
    camera = CameraFactory(owner=owner, label="Store front")
    share_camera(camera)
    unshared = CameraFactory(owner=owner, label="Back door")
    # Someone watching, so the live page lists the view (who, for which case, why).
    analyst = trained(make_staff("analyst"))
    incident = IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    live_services.live_session_open(user=analyst, camera=camera, incident=incident,
                                    reason="Robbery suspect seen running west on Main Street near the corner")
    page = phone()
    page.goto("/owner/")  # the sign-in form
    assert_fits(page)
    owner_signed_in(page, owner)
    for path in ("/owner/", f"/owner/cameras/{camera.code}/", f"/owner/cameras/{camera.code}/live/",
                 f"/owner/cameras/{camera.code}/live/masks/", f"/owner/cameras/{unshared.code}/live/",
                 f"/owner/cameras/{camera.code}/delete/", "/owner/cameras/add/", "/owner/details/",
                 "/owner/history/"):
        response = page.goto(path)
        assert response.ok, path
        assert_fits(page, path)
    assert not page.errors


def test_the_footage_page_on_a_phone(phone):
    camera = CameraFactory(label="Corner shop door")
    footage_request = FootageRequest.objects.create(
        incident=IncidentFactory(), camera=camera, camera_label=camera.label, nonce="nonce-1", state="sent",
        sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=10))
    page = phone()
    page.goto(request_services.consent_link(footage_request).replace("http://testserver", ""))
    expect(page.locator("h1")).to_have_text("Can you help with footage?")
    assert_fits(page)
    assert not page.errors



@pytest.mark.parametrize("path", ["/transparency/", "/requests/", "/concern/"])
def test_the_public_pages_fit_a_phone(phone, path):
    """The transparency report holds a public key and a command to copy (no spaces to break at): they wrap."""
    page = phone()
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    if path == "/transparency/":
        expect(page.locator("#ledger-checkpoints pre.command")).to_be_visible()
    assert_fits(page)


def test_the_patrol_page_with_bulletins_on_a_phone(phone):
    """/patrol/ as an officer reads it in a car: a bulletin with a still, a place and an update whose text has no
    space to break at (a plate, a link); its controls (acknowledge, the place's map link) big enough for a finger."""
    from bulletins import services as bulletin_services
    from bulletins.models import PatrolOfficer
    from bulletins.services import Addressees, Still
    from tests.bulletins.conftest import jpeg
    from tests.conftest import make_staff_named

    officer = make_staff_named("patrol", "adams")
    officer.set_password("correct-horse-battery-9")
    officer.save()
    PatrolOfficer.objects.create(user=officer, unit="2B11", zone="Downtown")
    sender = make_staff("analyst")
    first = bulletin_services.bulletin_send(
        sender=sender, description="White hat, grey backpack, heading north on Fayetteville St",
        location=Point(-78.6382, 35.7796, srid=4326), still=Still(jpeg=jpeg(size=(1280, 720))),
        addressees=Addressees(units=["2B11"]))
    bulletin_services.bulletin_send(sender=sender, description="Plate NC-" + "ABCDEFGHJK" * 6, thread=first,
                                    addressees=Addressees())
    page = phone()
    staff_sign_in(page, "adams", next_path="/patrol/")
    expect(page.locator("#status")).to_have_text("Live")
    expect(page.locator("article.bulletin")).to_have_count(2)
    expect(page.locator("img.still")).to_have_js_property("complete", True)
    assert_fits(page)
    for link in page.locator("article.bulletin a.map").all():  # a finger's target, not a word in a sentence
        box = link.bounding_box()
        assert box["height"] >= MIN_TARGET - 0.5 and box["width"] >= MIN_TARGET - 0.5, box
    assert not page.errors
