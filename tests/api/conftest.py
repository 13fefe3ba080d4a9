"""API fixtures: tokens with chosen scopes, and clients for a token or a staff session."""

import pytest
from rest_framework.test import APIClient

from api import services
from tests.conftest import make_staff


@pytest.fixture
def token(db):
    def make(*scopes, name=None):
        _, key = services.token_create(name=name or f"system {'+'.join(scopes)}", scopes=list(scopes))
        return key

    return make


@pytest.fixture
def token_client(token):
    """A client authenticated with a new token holding `scopes`."""

    def make(*scopes):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token(*scopes)}")
        return client

    return make


@pytest.fixture
def staff_client(db):
    """A client signed in as a new staff member of `role` (a key of tests.conftest.STAFF_ROLES)."""

    def make(role):
        client = APIClient()
        user = make_staff(role)
        client.force_login(user)
        client.user = user
        return client

    return make
