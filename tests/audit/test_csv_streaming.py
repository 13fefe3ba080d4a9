"""CSV exports under a real uvicorn server stream from an async iterator: Django's fallback for a sync one under
ASGI collects the whole export in memory first (and warns, which fails the request here)."""

import csv
import http.client
import io
from urllib.parse import urlparse

import pytest
from django.test import Client

from audit.ledger import record
from common.streamed_response import BATCH
from tests.conftest import make_staff

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("error:StreamingHttpResponse must consume")]


def _get(server_url: str, path: str, cookie: str = "") -> tuple[int, bytes]:
    url = urlparse(server_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


def test_the_ledger_export_streams_every_row_under_uvicorn(asgi_server):
    auditor = make_staff("auditor")
    for index in range(BATCH * 2 + 7):  # more than one hop to the sync thread
        record(actor=None, action="request.mailed", case_number="26-000009", target_code=f"r{index}")
    client = Client()
    client.force_login(auditor)

    status, body = _get(asgi_server, "/audit/?case=26-000009&format=csv", client.cookies["sessionid"].value)

    rows = list(csv.reader(io.StringIO(body.decode())))
    assert status == 200 and rows[0][:4] == ["seq", "at", "actor_label", "action"]
    assert sorted(row[5] for row in rows[1:]) == sorted(f"r{index}" for index in range(BATCH * 2 + 7))


def test_the_transparency_csv_streams_under_uvicorn(asgi_server):
    status, body = _get(asgi_server, "/transparency/?format=csv")
    assert status == 200 and len(list(csv.reader(io.StringIO(body.decode())))) > 1
