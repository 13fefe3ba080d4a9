"""The admin is each role's workspace: its header reaches the map, the ledger and the transparency page, each only
for the roles that may open it; every page carries connect's icon."""

import re

import pytest

from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def _header_links(client, role: str) -> set[str]:
    client.force_login(make_staff(role))
    page = client.get("/admin/").content.decode()
    assert 'rel="icon" href="/static/connect/favicon.svg"' in page
    user_tools = re.search(r'<div id="user-tools">(.*?)</div>', page, re.S).group(1)
    return set(re.findall(r'href="(/(?:map|audit|transparency)/)"', user_tools))


def test_investigators_reach_the_map_and_transparency_not_the_ledger(client):
    assert _header_links(client, "investigator") == {"/map/", "/transparency/"}


def test_auditors_reach_the_ledger(client):
    assert "/audit/" in _header_links(client, "auditor")


def test_public_pages_carry_the_icon(client):
    assert 'rel="icon" href="/static/connect/favicon.svg"' in client.get("/register/").content.decode()
