import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count

from registry.models import Camera, Owner

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_once(settings):
    call_command("seed_demo", residents=40, businesses=30, agency=10)
    counts = (Owner.objects.count(), Camera.objects.count())
    call_command("seed_demo", residents=40, businesses=30, agency=10)

    assert (Owner.objects.count(), Camera.objects.count()) == counts
    kinds = dict(Camera.objects.values_list("owner__kind").annotate(n=Count("id")))
    assert kinds["business"] == 30 and kinds["agency"] == 10 and kinds["resident"] == 42  # + the demo resident
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) >= {
        "investigator", "analyst", "supervisor", "auditor", "admin"}
    assert User.objects.get(username="analyst").check_password("connect-demo-2026")
    assert not Camera.objects.filter(placement="indoor", level="integrated").exists()


def test_seed_demo_refuses_production(settings):
    settings.DEMO = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("seed_demo")
