"""Admin lists that stay fast at a million cameras and 100,000 requests (issue 16): the same number of queries for
3 rows as for 30 (no query per row), no COUNT(*) of the whole table, the last page read from the end, and a search
across the owner's fields that finds what Django's did."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from common import admin_paging
from registry.admin import CameraAdmin
from registry.models import Camera, Owner
from requests_app import services as requests_services
from requests_app.models import FootageRequest
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(make_staff(role))
    return client


def queries_of(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return [query["sql"] for query in captured.captured_queries]


def counts_are_capped(queries: list[str]) -> None:
    counts = [sql for sql in queries if re.search(r"COUNT\(\*\)", sql, re.IGNORECASE)]
    assert counts, "the list counted nothing"
    for sql in counts:  # every count stops at the cap: never the whole table
        assert "LIMIT 10001" in sql, sql


def table_of(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if f'FROM "{table}"' in sql]


@pytest.mark.parametrize("role", ["investigator", "administrator"])
def test_the_camera_list_costs_the_same_queries_for_3_rows_as_for_30(role):
    client = signed_in(role)
    for _ in range(3):
        CameraFactory()
    few = queries_of(client, "/admin/registry/camera/")
    for _ in range(27):
        CameraFactory(owner=OwnerFactory(kind=Owner.Kind.BUSINESS))
    many = queries_of(client, "/admin/registry/camera/")
    assert len(many) == len(few)
    counts_are_capped(many)


def test_the_owner_list_counts_cameras_in_its_own_query():
    client = signed_in("administrator")
    for _ in range(2):
        CameraFactory()
    few = queries_of(client, "/admin/registry/owner/")
    busy = OwnerFactory(name="Busy Owner")
    for _ in range(4):
        CameraFactory(owner=busy)
    for _ in range(10):
        CameraFactory()
    many = queries_of(client, "/admin/registry/owner/")
    assert len(many) == len(few)
    counts_are_capped(many)
    page = client.get("/admin/registry/owner/?q=Busy").content.decode()
    assert re.search(r"Busy Owner.*?<td class=\"field-camera_count\">4</td>", page, re.S)


def test_the_incident_list_counts_requests_per_case_shown():
    supervisor = make_staff("supervisor")
    client = Client()
    client.force_login(supervisor)

    def case_with(requests: int, answered: int):
        incident = IncidentFactory()
        requests_services.incident_investigators_set(incident=incident, users=[supervisor])
        for i in range(requests):
            camera = CameraFactory()
            FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                          nonce=f"n{incident.pk}-{i}",
                                          state=FootageRequest.SHOWN_ANSWERS[0] if i < answered else "sent")
        return incident

    case_with(2, 1)
    few = queries_of(client, "/admin/requests_app/incident/")
    for _ in range(6):
        case_with(3, 2)
    many = queries_of(client, "/admin/requests_app/incident/")
    assert len(many) == len(few)
    counts_are_capped(many)
    page = client.get("/admin/requests_app/incident/").content.decode()
    assert page.count("2 / 3") == 6 and page.count("1 / 2") == 1


def test_a_long_list_says_about_and_its_last_page_is_the_list_s_end(monkeypatch):
    monkeypatch.setattr(admin_paging, "EXACT_UP_TO", 5)
    monkeypatch.setattr(CameraAdmin, "list_per_page", 4)
    for i in range(11):
        CameraFactory(label=f"Cam {i:02d}")
    client = signed_in("investigator")

    first = client.get("/admin/registry/camera/").content.decode()
    assert re.search(r"about \d+ cameras", first)
    last_page = int(re.findall(r"\?p=(\d+)", first)[-1])
    last = client.get(f"/admin/registry/camera/?p={last_page}").content.decode()
    labels = re.findall(r"Cam \d\d", last)
    assert labels and labels == sorted(labels) and labels[-1] == "Cam 10"  # the end of the list, in order


def test_an_exact_short_list_pages_from_either_end_without_losing_a_row(monkeypatch):
    monkeypatch.setattr(CameraAdmin, "list_per_page", 4)
    for i in range(10):
        CameraFactory(label=f"Cam {i:02d}")
    client = signed_in("investigator")
    seen = []
    for page in (1, 2, 3):
        seen += re.findall(r">(Cam \d\d)<", client.get(f"/admin/registry/camera/?p={page}").content.decode())
    assert seen == [f"Cam {i:02d}" for i in range(10)]


@pytest.mark.parametrize("inline", [5000, 0], ids=["owner ids in the query", "owner ids from a subquery"])
def test_search_finds_cameras_by_their_owner_s_name_and_email_and_by_their_own_fields(monkeypatch, inline):
    monkeypatch.setattr("registry.admin.OWNER_IDS_INLINE", inline)
    carol = OwnerFactory(name="Carol Quimby", email="carol@quimby.example")
    CameraFactory(owner=carol, label="Back gate")
    CameraFactory(label="Quimby Street pole", address="1 Quimby St")
    CameraFactory(label="Elsewhere")
    client = signed_in("administrator")

    def found(query):
        return set(re.findall(r">(Back gate|Quimby Street pole|Elsewhere)<",
                              client.get("/admin/registry/camera/", {"q": query}).content.decode()))

    assert found("quimby") == {"Back gate", "Quimby Street pole"}
    assert found("carol@quimby") == {"Back gate"}
    assert found('"back gate" carol') == {"Back gate"}
    assert found("100%") == set()  # a LIKE wildcard is a character, as in Django's own search


def test_an_analyst_cannot_find_a_camera_by_its_owner_s_name():
    CameraFactory(owner=OwnerFactory(name="Carol Quimby"), label="Back gate")
    page = signed_in("analyst").get("/admin/registry/camera/", {"q": "Quimby"}).content.decode()
    assert "Back gate" not in page


def test_the_searched_fields_have_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        indexes = dict(cursor.fetchall())
    for name in ("camera_label_trgm", "camera_address_trgm", "camera_code_trgm", "owner_name_trgm",
                 "owner_email_trgm"):
        assert "gin_trgm_ops" in indexes[name] and "upper(" in indexes[name]
    assert Camera._meta.ordering == ["label"]  # served by camera_label
