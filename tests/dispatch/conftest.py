from tests.api.conftest import staff_client, token, token_client  # noqa: F401
