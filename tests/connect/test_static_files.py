"""Static files hashed, compressed and cached for a year (issue 16): collectstatic names each file by its content,
writes a gzipped copy beside it, pages link the hashed names, and WhiteNoise serves those as immutable."""

import gzip

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import RequestFactory, override_settings

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGE = "common.static_storage.HashedStaticFiles"


def test_settings_hash_and_compress_static_files():
    from connect import settings as configured  # the conftest gives the tests plain names; production is this

    assert configured.STORAGES["staticfiles"]["BACKEND"] == PRODUCTION_STORAGE


def test_collected_files_are_hashed_gzipped_linked_and_kept_a_year(tmp_path):
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.templatetags.static import static
    from whitenoise.middleware import WhiteNoiseMiddleware

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path, WHITENOISE_USE_FINDERS=False):
        call_command("collectstatic", "--noinput", verbosity=0)
        url = static("registry/js/map.js")
        assert url.startswith("/static/registry/js/map.") and url != "/static/registry/js/map.js"
        hashed = url.removeprefix("/static/")
        assert staticfiles_storage.exists(hashed)
        source = (settings.BASE_DIR / "static" / "registry" / "js" / "map.js").read_bytes()
        assert gzip.decompress((tmp_path / f"{hashed}.gz").read_bytes()) == source

        whitenoise = WhiteNoiseMiddleware(get_response=lambda request: None)
        response = whitenoise(RequestFactory().get(url, HTTP_ACCEPT_ENCODING="gzip"))
        assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
        assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
        plain = whitenoise(RequestFactory().get("/static/registry/js/map.js"))
        assert "immutable" not in plain["Cache-Control"]


def test_a_file_not_collected_is_linked_by_its_plain_name(tmp_path):
    """A checkout or a test server that never ran collectstatic serves its pages (this was a 500 on every page)."""
    from django.templatetags.static import static

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path / "never-collected"):
        assert static("connect/favicon.svg") == "/static/connect/favicon.svg"
