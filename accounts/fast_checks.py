"""What Django's stack checks for a signed-in staff member's request, read in two plain statements: for the staff
map's fast route (api.map_route), where the ORM's building of the same five queries (session, user, two permission
reads, the lock) cost seven times the map's own SQL (bench/map_tiles.py).

Each check answers only "Django would let this request through, changing nothing" or "ask Django": whenever a
check is unsure (another session engine, user model or authentication backend; a session hash that only a fallback
key verifies; any open lock of the name, whatever its address; a second factor not verified), the request goes to
Django's own stack, which decides and writes. So these checks can refuse more than Django, never less.
tests/api/test_map_route_parity.py sends the same requests both ways for each case.
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import User
from django.utils.crypto import constant_time_compare

SESSION_ENGINE = "django.contrib.sessions.backends.db"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Permissions are ModelBackend's (guardian's backend grants nothing without an object), after the outside agencies'
# guard, which refuses an agency's account every permission: a route using these checks asks common.access.is_outside
# of the user they return. Any other list, ask Django.
OUTSIDE_GUARD = "common.access.OutsideAgencyGuard"
BACKENDS = [OUTSIDE_GUARD, MODEL_BACKEND, "guardian.backends.ObjectPermissionBackend"]

# As the db session engine loads a session: its row, unexpired.
_SESSION_SQL = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > now()"
# As User.has_perm (an active superuser holds every permission) and ModelBackend's (active; the user's own or their
# groups')
# and accounts.services._open_locks (any open lock of the name, from any address).
_STAFF_SQL = """
WITH perm AS (
    SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE ct.app_label = %(app_label)s AND p.codename = %(codename)s
)
SELECT u.username, u.password, u.is_active, u.is_staff,
       u.is_active AND (
           u.is_superuser
           OR EXISTS (SELECT 1 FROM auth_user_user_permissions up
                      WHERE up.user_id = u.id AND up.permission_id IN (SELECT id FROM perm))
           OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
                      WHERE ug.user_id = u.id AND gp.permission_id IN (SELECT id FROM perm))),
       EXISTS (SELECT 1 FROM accounts_accountlock l
               WHERE UPPER(l.username::text) = UPPER(u.username::text) AND l.unlocked_at IS NULL
                 AND (l.expires_at IS NULL OR l.expires_at > now()))
FROM auth_user u WHERE u.id = %(user_id)s
"""


def checks_apply() -> bool:
    """Whether this site's session engine, user model and backends are the ones these checks mirror."""
    return (settings.SESSION_ENGINE == SESSION_ENGINE and get_user_model() is User
            and list(settings.AUTHENTICATION_BACKENDS) == BACKENDS)


async def session_data(connection, session) -> dict | None:
    """The session's data (decoded by the session store itself), or None where Django would find none."""
    if not session.session_key:
        return None
    async with connection.cursor() as cursor:
        await cursor.execute(_SESSION_SQL, [session.session_key], prepare=True)
        row = await cursor.fetchone()
    return session.decode(row[0]) if row else None


async def staff_holding(connection, data: dict, perm: str) -> User | None:
    """The active staff member the session's data signs in, holding `perm`, with no open lock of their name; None
    for anything else (ask Django). The user is built from its row, with what the ledger and the request's context
    read (id, username)."""
    # The guard loads a session's user as ModelBackend does (Django's test client names the first backend).
    if data.get(BACKEND_SESSION_KEY) not in (MODEL_BACKEND, OUTSIDE_GUARD) or not data.get(HASH_SESSION_KEY):
        return None
    try:
        user_id = User._meta.pk.to_python(data[SESSION_KEY])
    except Exception:  # missing or not an id: Django's get_user decides
        return None
    app_label, codename = perm.split(".", 1)
    async with connection.cursor() as cursor:
        await cursor.execute(_STAFF_SQL, {"app_label": app_label, "codename": codename, "user_id": user_id},
                             prepare=True)
        row = await cursor.fetchone()
    if row is None:
        return None
    username, password, is_active, is_staff, holds, locked = row
    user = User(id=user_id, username=username, password=password, is_active=is_active, is_staff=is_staff)
    # As django.contrib.auth.get_user verifies the session, with the current key only (a fallback key: Django).
    if not (is_active and is_staff and holds and not locked):
        return None
    if not constant_time_compare(data[HASH_SESSION_KEY], user.get_session_auth_hash()):
        return None
    return user


def second_factor_verified(user: User, data: dict) -> bool:
    """As django_otp's OTPMiddleware verifies a user (the session's device, confirmed and the user's own), on a
    database thread; a legacy device id (a full import path) is left to Django."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = data.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id or persistent_id.count(".") > 1:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and bool(device.confirmed)
