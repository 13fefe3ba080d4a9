"""WCAG 2.1 AA as a real engine measures it (issue 16, item 8): axe-core, from the npm registry
(tests/browser/package-lock.json), runs in every public, owner and staff page on a desktop and on a phone, and
any critical or serious violation fails the test with the rule, what it means and where."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from registry import links
from registry.models import OwnerLink
from requests_app import services as requests_services
from requests_app.models import FootageRequest
from tests.browser.conftest import offline, staff_sign_in
from tests.conftest import make_staff, token_from
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
VIEWPORTS = {"desktop": {"viewport": {"width": 1280, "height": 900}},
             "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(params=list(VIEWPORTS))
def context(request, browser, live_server):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs it (scripts/bootstrap.sh --test runs npm ci).")
    # The engine is injected as a script of the test's own: the pages' Content-Security-Policy would refuse it.
    context = offline(browser.new_context(base_url=live_server.url, bypass_csp=True, **VIEWPORTS[request.param]))
    context.set_default_timeout(10_000)
    yield context
    context.close()


def blocking_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                             where: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""", WCAG_AA)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['where']}" for v in found if v["impact"] in BLOCKING]


def check(page, paths) -> dict[str, list[str]]:
    problems = {}
    for path in paths:
        response = page.goto(path)
        assert response.status < 400, f"{path} answered {response.status}"
        page.wait_for_load_state("networkidle")
        if found := blocking_violations(page):
            problems[path] = found
    return problems


def test_the_engine_finds_what_it_must(context):
    """The check itself can fail: a picture without words and grey-on-white text are found."""
    page = context.new_page()
    page.goto("/transparency/")
    page.evaluate("""() => { document.querySelector("main").insertAdjacentHTML("beforeend",
        '<img src="/static/connect/favicon.svg"><p style="color:#bbb;background:#fff">faint</p>'); }""")
    found = " ".join(blocking_violations(page))
    assert "image-alt" in found and "color-contrast" in found


def test_public_pages(context):
    from audit.ledger import record

    for offense, district in [("Burglary", "Downtown"), ("Robbery", "Northeast")] * 6:  # a month of figures
        record(actor=None, action="request.mailed", offense_type=offense, district=district)
    camera = CameraFactory(label="Porch", owner=OwnerFactory(email="porch@example.org"))
    request = FootageRequest.objects.create(incident=IncidentFactory(), camera=camera, camera_label="Porch",
                                            nonce="nonce-a11y", state="sent", sent_at=timezone.now(),
                                            expires_at=timezone.now() + timedelta(days=10))
    consent = requests_services.consent_link(request).replace("http://testserver", "")
    page = context.new_page()
    assert check(page, ["/", "/register/", "/transparency/", "/owner/", consent]) == {}


def test_owner_pages(context):
    owner = OwnerFactory(email="lin@example.org")
    camera = CameraFactory(owner=owner, label="Shop door")
    page = context.new_page()
    page.goto(f"/owner/sign-in/{token_from(links.link_issue(owner=owner, purpose=OwnerLink.Purpose.SIGN_IN))}/")
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/owner/")
    assert check(page, ["/owner/", "/owner/history/", "/owner/details/", f"/owner/cameras/{camera.code}/",
                        "/owner/cameras/add/"]) == {}


@pytest.mark.parametrize("role, paths", [
    ("investigator", ["/map/", "/admin/", "/admin/requests_app/incident/"]),
    ("analyst", ["/map/", "/admin/"]),
    ("supervisor", ["/admin/", "/live/overrides/"]),
    ("auditor", ["/audit/", "/admin/", "/audit/settings/"]),
])
def test_staff_pages(context, role, paths):
    CameraFactory(label="Corner", owner=OwnerFactory(kind="business"))
    IncidentFactory(case_number="26-004512")
    make_staff(role)
    page = context.new_page()
    staff_sign_in(page, role, next_path=paths[0])
    assert check(page, paths) == {}


def test_choosing_cameras_for_an_incident(context):
    """The cameras page with its map (markers are buttons named for their cameras), one camera already asked."""
    investigator = make_staff("investigator")
    incident = IncidentFactory(case_number="26-004513")
    requests_services.incident_investigators_set(incident=incident, users=[investigator])
    CameraFactory(label="Corner", owner=OwnerFactory(kind="business"))
    asked = CameraFactory(label="Porch", owner=OwnerFactory(email="porch@example.org"))
    FootageRequest.objects.create(incident=incident, camera=asked, camera_label="Porch", nonce="nonce-a11y-map",
                                  state="sent", sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=10))
    path = f"/admin/requests_app/incident/{incident.pk}/cameras/"
    page = context.new_page()
    staff_sign_in(page, "investigator", next_path=path)
    page.locator("#cameras-map .incident-cam").first.wait_for()
    assert check(page, [path]) == {}


def contrast(rgb_a: str, rgb_b: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_focus_ring_stands_out_from_the_page(context):
    page = context.new_page()
    page.goto("/register/")
    page.keyboard.press("Tab")
    ring = page.evaluate("""() => { const el = document.activeElement, style = getComputedStyle(el);
        return {width: style.outlineWidth, color: style.outlineColor,
                page: getComputedStyle(document.body).backgroundColor, tag: el.tagName}; }""")
    assert ring["width"] != "0px", ring
    assert contrast(ring["color"], ring["page"]) >= 3, ring
