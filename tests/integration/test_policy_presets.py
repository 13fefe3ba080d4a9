"""The presets' rules hold where analysts and owners meet them: Nashville refuses a live view of a resident's
camera, Jackson's pilot takes five agency and five business cameras, strict wants more training."""

import pytest

from integration.models import LiveShare, LiveShareWaiting
from tests.conftest import make_staff
from tests.connect.presets_helper import under_policy  # noqa: F401 (fixture)
from tests.integration.conftest import share_camera, trained
from tests.integration.test_gating import opened, refused
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db


def test_under_nashville_a_residents_camera_is_never_watched_live(analyst, incident_near, under_policy):  # noqa: F811
    home = CameraFactory(owner=OwnerFactory(kind="resident"))
    share_camera(home)  # signed before the policy
    shop = CameraFactory(owner=OwnerFactory(kind="business"))
    share_camera(shop)
    under_policy(CONNECT_POLICY="nashville")
    assert "residential cameras" in refused(analyst, home, incident_near)
    assert opened(analyst, shop, incident_near)


def test_a_program_may_lift_nashvilles_ban_for_itself(analyst, incident_near, under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="nashville", CONNECT_LIVE_RESIDENTIAL="true")
    home = CameraFactory(owner=OwnerFactory(kind="resident"))
    share_camera(home)
    assert opened(analyst, home, incident_near)


def test_under_jackson_the_pilot_takes_five_agency_and_five_business_cameras(under_policy):  # noqa: F811
    under_policy(CONNECT_POLICY="jackson", CONNECT_PILOT_STARTS="2027-01-04")
    for kind in ("agency", "business"):
        cameras = [CameraFactory(owner=OwnerFactory(kind=kind)) for _ in range(6)]
        signed = [share_camera(camera) for camera in cameras]
        assert all(isinstance(result, LiveShare) for result in signed[:5]), kind
        assert isinstance(signed[5], LiveShareWaiting), f"the sixth {kind} camera is not queued"
    assert LiveShare.objects.count() == 10


def test_under_strict_four_hours_of_training_are_not_enough(live_camera, incident_near, under_policy):  # noqa: F811
    analyst = trained(make_staff("analyst"), hours=4)
    under_policy(CONNECT_POLICY="strict")
    assert "no privacy training" in refused(analyst, live_camera, incident_near)
    trained(analyst, hours=8)
    assert opened(analyst, live_camera, incident_near)
