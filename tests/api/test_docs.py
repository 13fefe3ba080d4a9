"""The OpenAPI schema and the interactive docs load offline: every asset is served by connect itself."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_with_every_resource(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in ("/api/v1/cameras/", "/api/v1/cameras/nearby/", "/api/v1/incidents/", "/api/v1/footage-requests/",
                 "/api/v1/clips/", "/api/v1/calls/", "/api/v1/calls/{code}/promote/", "/api/v1/positions/",
                 "/api/v1/transparency/"):
        assert path in paths
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert "429" in schema["paths"]["/api/v1/positions/"]["post"]["responses"]


def test_the_docs_use_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(src.startswith("/") for src in sources), sources
    for src in sources:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), src
    script = re.search(r'src="([^"]*swagger[^"]*init[^"]*)"|src="(/api/docs/\?script=[^"]*)"', html)
    assert script, "the Swagger UI initialiser is a separate script (the CSP allows no inline script)"
    assert "<script>" not in html.replace(" ", "")
