import pytest

from tests.deploy.engine import IMAGE, Engine, Unavailable
from tests.deploy.packaging import ROOT


@pytest.fixture(scope="session")
def engine():
    """A container engine that runs here, with connect's image built from the Containerfile as IMAGE."""
    try:
        engine = Engine()
        engine.ensure_base()
        engine.ensure_runs()
    except Unavailable as exc:
        pytest.skip(f"no container engine can run here: {exc}")
    engine.build(IMAGE, ROOT)
    return engine
