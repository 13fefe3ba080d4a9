"""The API answers programs in English whatever language they send; pages follow the visitor's language."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_does_not_vary_by_language_and_pages_do(client):
    api = client.get("/api/v1/cameras/", HTTP_ACCEPT_LANGUAGE="es")
    assert api.status_code == 401 and "Accept-Language" not in api.get("Vary", "")
    assert "Content-Language" not in api.headers
    page = client.get("/register/", HTTP_ACCEPT_LANGUAGE="es")
    assert page["Content-Language"] == "es" and "Accept-Language" in page["Vary"]
