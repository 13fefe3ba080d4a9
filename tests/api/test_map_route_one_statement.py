"""The staff map's fast route answers a known session's groups from one statement (api.map_known): who asks is
checked afresh in that statement every time, so whatever takes a user's access away refuses the very next request
(Django's own answer, nothing recorded), and the entry it records is the view's own, sealed into the chain."""

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session

from accounts.middleware import SESSION_SEEN
from accounts.models import AccountLock
from api import map_known
from api.map_route import MapRoute
from audit.actions import Action
from audit.models import AccessEntry
from connect.asgi_body import SealedBodyASGIHandler
from tests.api import test_map_route_parity as parity
from tests.api.asgi_exchange import CountingApp
from tests.api.test_map_route_parity import CITY, assert_same, content, get, map_views, session_of
from tests.conftest import make_staff

cameras = parity.cameras  # the fixture: a few cameras, the route's connections ended after


@pytest.fixture
def one_statement(monkeypatch):
    """The answers the one statement gave: each the groups it served, or None (nothing recorded, the usual path)."""
    given = []
    real = map_known.groups_if_allowed

    async def counted(*args):
        served = await real(*args)
        given.append(served)
        return served

    monkeypatch.setattr(map_known, "groups_if_allowed", counted)
    return given


def known_analyst():
    """An analyst whose session the route has served once (so it is known), the cookie, and the route."""
    user = make_staff("analyst")
    cookie = session_of(user)
    django_app = CountingApp(SealedBodyASGIHandler())
    route = MapRoute(django_app)
    assert get(route, CITY, cookie=cookie)[0] == 200 and django_app.calls == 0
    return user, cookie, route, django_app


def test_a_known_sessions_groups_come_from_one_statement_as_django_answers_them(cameras, one_statement):
    user, cookie, route, django_app = known_analyst()
    fast = get(route, CITY, cookie=cookie)
    assert django_app.calls == 0 and len(one_statement) == 1 and one_statement[0] is not None
    django = get(SealedBodyASGIHandler(), CITY, cookie=cookie)
    assert_same(fast, django)
    views = map_views()
    assert len(views) == 3 and views[1] == views[2] and views[1]["actor_label"] == "analyst"
    # Sealed into the chain: the entry carries the MAC only record()'s rows carry.
    assert AccessEntry.objects.filter(action=Action.MAP_VIEWED).count() == 3


def _role_taken_away(user, cookie):
    user.groups.clear()


def _deactivated(user, cookie):
    User.objects.filter(pk=user.pk).update(is_active=False)


def _no_longer_staff(user, cookie):
    User.objects.filter(pk=user.pk).update(is_staff=False)


def _locked_from_elsewhere(user, cookie):
    AccountLock.objects.create(username="analyst", reason="failures", address="10.0.0.9")


def _signed_out(user, cookie):
    Session.objects.filter(session_key=cookie.split("=", 1)[1]).delete()


def _password_changed(user, cookie):
    user.set_password("another-horse-battery-10")
    user.save()


def _renamed(user, cookie):
    User.objects.filter(pk=user.pk).update(username="analyst-renamed")


def _joined_an_outside_agency(user, cookie):
    from agencies import services
    from agencies.models import OutsideAgency

    federal = OutsideAgency.objects.create(name="Federal Bureau of Examples", type=OutsideAgency.Type.FEDERAL,
                                           jurisdiction_state="DC")
    services.agency_member_add(agency=federal, user=user, actor=None)


@pytest.mark.parametrize("revoke", [_role_taken_away, _deactivated, _no_longer_staff, _signed_out,
                                    _password_changed, _joined_an_outside_agency])
def test_access_taken_away_refuses_the_next_request_at_once(cameras, one_statement, revoke):
    user, cookie, route, django_app = known_analyst()
    assert get(route, CITY, cookie=cookie)[0] == 200 and one_statement[-1] is not None  # served in one
    before = len(map_views())
    revoke(user, cookie)
    status = get(route, CITY, cookie=cookie)[0]
    assert one_statement[-1] is None, revoke.__name__  # the statement recorded nothing
    assert django_app.calls == 1 and status in (302, 401, 403), revoke.__name__  # Django's refusal
    assert len(map_views()) == before, revoke.__name__


def test_a_lock_opened_since_hands_the_next_request_to_django(cameras, one_statement):
    """A lock from another address leaves this session signed in by Django's rules; the route never decides that."""
    user, cookie, route, django_app = known_analyst()
    assert get(route, CITY, cookie=cookie)[0] == 200 and one_statement[-1] is not None
    before = len(map_views())
    _locked_from_elsewhere(user, cookie)
    assert get(route, CITY, cookie=cookie)[0] == 200
    assert one_statement[-1] is None and django_app.calls == 1
    assert len(map_views()) == before + 1  # Django's own entry, and only it


def test_a_user_renamed_since_is_recorded_by_the_new_name(cameras, one_statement):
    user, cookie, route, django_app = known_analyst()
    _renamed(user, cookie)
    assert get(route, CITY, cookie=cookie)[0] == 200 and django_app.calls == 0  # Django too keeps such a session
    assert one_statement[-1] is None  # the statement's name is not the user's now: the usual path read it afresh
    assert map_views()[-1]["actor_label"] == "analyst-renamed"


def test_a_session_django_wrote_since_is_checked_again_and_served(cameras, one_statement):
    user, cookie, route, django_app = known_analyst()
    session = Session.objects.get(session_key=cookie.split("=", 1)[1])
    store = session.get_decoded()
    store[SESSION_SEEN] -= 1  # as StaffSessionMiddleware writes a new time: the row's text changes
    Session.objects.save(session.session_key, store, session.expire_date)
    before = len(map_views())
    assert get(route, CITY, cookie=cookie)[0] == 200 and django_app.calls == 0
    assert one_statement[-1] is None  # not the row it checked before: the usual path read it afresh
    assert len(map_views()) == before + 1
    assert get(route, CITY, cookie=cookie)[0] == 200 and one_statement[-1] is not None  # known again


def test_a_view_of_few_cameras_records_once_and_shows_each(cameras, one_statement):
    user, cookie, route, django_app = known_analyst()
    few = {"bbox": "-78.56,35.74,-78.54,35.76", "zoom": "14"}  # one camera: shown alone, not in groups
    before = len(map_views())
    answer = get(route, few, cookie=cookie)
    assert answer[0] == 200 and content(answer)["mode"] == "cameras" and django_app.calls == 0
    assert one_statement[-1] is None and len(map_views()) == before + 1


def test_an_outside_rule_without_sql_is_still_asked_of_every_request(cameras, one_statement, monkeypatch):
    """A rule the statements cannot read (no SQL given with it) sends each request to the rules themselves."""
    from common import access

    user, cookie, route, django_app = known_analyst()
    before = len(map_views())
    monkeypatch.setattr(access, "_outside_rules", [*access._outside_rules, lambda u: u.username == "analyst"])
    status = get(route, CITY, cookie=cookie)[0]
    assert one_statement == [] and django_app.calls == 1 and status == 403
    assert len(map_views()) == before
