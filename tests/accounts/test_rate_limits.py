import pytest
from django.core.cache import cache

from tests.registry.factories import OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits_on(settings):
    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_PER_ADDRESS, settings.RATE_LIMIT_PER_EMAIL = 6, 3
    cache.clear()
    yield
    try:
        cache.clear()
    except Exception:  # the test that takes Redis away
        pass


def test_sign_in_links_are_limited_per_email_politely(client):
    OwnerFactory(email="alice@example.org")
    statuses = [client.post("/owner/", {"email": "alice@example.org"}, REMOTE_ADDR=f"192.0.2.{i}").status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.post("/owner/", {"email": "alice@example.org"}, REMOTE_ADDR="192.0.2.99")
    assert "Please wait a little" in response.content.decode() and "try again in 10 minutes" in \
        response.content.decode()
    assert client.post("/owner/", {"email": "bob@example.org"}, REMOTE_ADDR="192.0.2.50").status_code == 200


def test_registration_is_limited_per_address(client):
    statuses = [client.post("/register/", {"email": f"r{i}@example.org"}).status_code for i in range(7)]
    assert statuses[:6] == [200] * 6 and statuses[6] == 429
    assert client.get("/register/").status_code == 200  # reading is never limited


def test_consent_pages_are_limited_per_address(client):
    statuses = [client.post("/footage/some-token/", {"answer": "decline"}).status_code for _ in range(7)]
    assert statuses[-1] == 429 and statuses[0] == 410


def test_a_missing_redis_does_not_turn_people_away(client, settings):
    from tests.conftest import free_port

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    for _ in range(8):
        assert client.post("/owner/", {"email": "carol@example.org"}).status_code == 200
