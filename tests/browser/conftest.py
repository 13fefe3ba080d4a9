"""Playwright driving Debian's Chromium (no browser download possible here) against the live server."""

import contextlib
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CONNECT_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# Tests never depend on the internet: a request for anything but this machine (OpenStreetMap's tiles, by default)
# fails at once, as it would offline.
ELSEWHERE = re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/])")


def offline(context):
    context.route(ELSEWHERE, lambda route: route.abort("internetdisconnected"))
    return context


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` finds one (scripts/chromium.sh says how).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def checked_page(browser, base_url: str, **context_options):
    """A page on `base_url` (desktop-sized unless `context_options` say otherwise) that fails the test on a
    JavaScript error or a CSP violation."""
    context = offline(browser.new_context(base_url=base_url, **{"viewport": {"width": 1280, "height": 900},
                                                                **context_options}))
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A script or style the Content-Security-Policy blocked is a bug too.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, live_server):
    with checked_page(browser, live_server.url) as page:
        yield page


@pytest.fixture
def phone(browser, live_server):
    context = offline(browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844},
                                          is_mobile=True, has_touch=True))
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def keyboard_phone(browser, live_server):
    """390 px wide, as a phone, but driven by a keyboard (a phone with a Bluetooth keyboard, or a narrow window)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    offline(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Presses Tab until `selector` has focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never took focus by Tab")


def keyboard_type_owner_and_camera(page, *, name: str, email: str, camera: str) -> None:
    """On /register/, types the owner's name and email and the first camera's name, moving by Tab alone."""
    for selector, text in (("#id_name", name), ("#id_email", email), ("#id_cameras-0-label", camera)):
        tab_to(page, selector)
        page.keyboard.type(text)


def keyboard_accept_and_register(page) -> None:
    """On /register/: ticks "faces a public place" and the terms, then sends the form, by Tab, Space and Enter."""
    for checkbox in ("#id_cameras-0-faces_public", "#id_accept_terms"):
        tab_to(page, checkbox)
        page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")


def screenshot(page, name: str) -> None:
    """Refreshes the README's screenshots when CONNECT_SCREENSHOTS=1 (they are committed files)."""
    if os.environ.get("CONNECT_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def staff_sign_in(page, username: str, password: str = "correct-horse-battery-9", next_path: str = "/map/"):
    page.goto(f"/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")
