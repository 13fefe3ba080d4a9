"""Staff browsers at known addresses, and failed sign-ins from others: the lockout's scopes are addresses."""

from datetime import timedelta

from django.db.models import F
from django.test import Client

from accounts.models import AccountLock, SignInAttempt
from tests.conftest import STAFF_PASSWORD

OFFICE = "192.0.2.10"  # where the officer works
HOME = "198.51.100.7"  # the officer's other session
STRANGER = "203.0.113.66"


def signed_in_from(username: str, address: str) -> Client:
    """A browser of its own at `address`, signed in through the sign-in form."""
    client = Client(REMOTE_ADDR=address)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def fail_from(username: str, address: str, times: int = 5) -> None:
    """Wrong passwords for `username` typed into the sign-in form at `address`."""
    stranger = Client(REMOTE_ADDR=address)
    for _ in range(times):
        stranger.post("/admin/login/?next=/admin/", {"username": username, "password": "a wrong guess"})


def fail_from_many(username: str, first: int = 1, count: int = 5) -> None:
    """One wrong password from each of `count` fresh addresses: the name-wide lock, not any address's."""
    for host in range(first, first + count):
        fail_from(username, f"203.0.113.{host}", times=1)


def still_in(client: Client) -> bool:
    """The session still serves a staff page and a data endpoint."""
    return (client.get("/map/").status_code == 200
            and client.get("/map/nearby.json?lat=35.78&lng=-78.64&radius=100").status_code == 200)


def thrown_out(client: Client) -> bool:
    response = client.get("/map/")
    return (response.status_code == 302 and "/admin/login/" in response["Location"]
            and "_auth_user_id" not in client.session)


def unlock_minutes_pass(settings) -> None:
    """Moves every lock and attempt back past the automatic unlock, as if that much time had gone by."""
    shift = timedelta(minutes=settings.LOCKOUT_UNLOCK_MINUTES + 1)
    AccountLock.objects.update(locked_at=F("locked_at") - shift, expires_at=F("expires_at") - shift)
    SignInAttempt.objects.update(at=F("at") - shift)
