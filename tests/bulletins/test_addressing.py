"""A unit is addressed through the patrol officer riding in it: an officer moved off patrol (the role taken away, the
Patrol officer row left behind) or disabled is no longer in it, so the unit, the zone or the units nearby do not
reach them, and a unit named by its id says it has nobody, sending nothing (issue 17, "a bulletin to a unit that no
longer exists ... nothing leaked to the wrong recipient")."""

import pytest
from django.core.exceptions import ValidationError

from bulletins import services
from bulletins.models import Bulletin
from bulletins.services import Addressees
from tests.bulletins.conftest import DOWNTOWN
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def adams_off_patrol(officers):
    """Adams (unit 2B11, zone Downtown) is now a records officer; the unit assignment was left as it was."""
    adams = officers[0]
    adams.groups.set(make_staff("records_officer").groups.all())
    return adams


def names(bulletin) -> set[str]:
    return {r.user.get_username() for r in bulletin.recipients.select_related("user")}


def test_a_unit_whose_officer_left_patrol_is_refused_and_nothing_is_sent(adams_off_patrol, analyst):
    with pytest.raises(ValidationError) as refused:
        services.bulletin_send(sender=analyst, description="red hoodie", addressees=Addressees(units=["2B11"]))
    assert refused.value.messages == ["Unit 2B11 does not exist or has no patrol officer assigned."]
    with pytest.raises(ValidationError, match="No patrol officer is assigned to zone Downtown."):
        services.bulletin_send(sender=analyst, description="red hoodie", addressees=Addressees(zone="Downtown"))
    assert not Bulletin.objects.exists()


def test_units_nearby_reach_only_those_still_on_patrol(adams_off_patrol, analyst, officers):
    bulletin = services.bulletin_send(sender=analyst, description="red hoodie",
                                      addressees=Addressees(near=DOWNTOWN, within_km=15))
    assert names(bulletin) == {"baker"}


def test_a_disabled_officers_unit_nearby_does_not_stop_the_others_getting_it(officers, analyst):
    adams = officers[0]
    adams.is_active = False
    adams.save()
    bulletin = services.bulletin_send(sender=analyst, description="red hoodie",
                                      addressees=Addressees(near=DOWNTOWN, within_km=15))
    assert names(bulletin) == {"baker"}
