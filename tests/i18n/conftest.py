import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """A request in Spanish leaves Spanish active in this thread (LocaleMiddleware activates a language per request
    and never resets it): later tests, in other modules, must start in the default language again."""
    yield
    translation.deactivate()
