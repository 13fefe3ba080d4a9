"""What Django's stack checks for a signed-in staff member's request, read in one plain statement (two for a
session's first request on this process): for the staff map's fast route (api.map_route), where the ORM's building
of the same six queries (session, user, two permission reads, the lock, the outside agencies' rule) cost seven times
the map's own SQL (bench/map_tiles.py).

Each check answers only "Django would let this request through, changing nothing" or "ask Django": whenever a
check is unsure (another session engine, user model or authentication backend; a session hash that only a fallback
key verifies; any open lock of the name, whatever its address; a second factor not verified), the request goes to
Django's own stack, which decides and writes. So these checks can refuse more than Django, never less.
tests/api/test_map_route_parity.py sends the same requests both ways for each case.
"""

import functools
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import User
from django.utils.crypto import constant_time_compare

from common import access

SESSION_ENGINE = "django.contrib.sessions.backends.db"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Permissions are ModelBackend's (guardian's backend grants nothing without an object), after the outside agencies'
# guard, which refuses an agency's account every permission: a route using these checks asks common.access.is_outside
# of the user they return. Any other list, ask Django.
OUTSIDE_GUARD = "common.access.OutsideAgencyGuard"
BACKENDS = [OUTSIDE_GUARD, MODEL_BACKEND, "guardian.backends.ObjectPermissionBackend"]

# As the db session engine loads a session: its row, unexpired.
_SESSION_SQL = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > now()"
_PERM = """perm AS (
    SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE ct.app_label = %(app_label)s AND p.codename = %(codename)s
)"""
# As User.has_perm (an active superuser holds every permission) and ModelBackend's (active; the user's own or their
# groups'), accounts.services._open_locks (any open lock of the name, from any address), and the outside agencies'
# rules ({outside}: common.access.outside_rules_sql).
_USER_COLUMNS = """u.username, u.password, u.is_active, u.is_staff,
       u.is_active AND (
           u.is_superuser
           OR EXISTS (SELECT 1 FROM auth_user_user_permissions up
                      WHERE up.user_id = u.id AND up.permission_id IN (SELECT id FROM perm))
           OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
                      WHERE ug.user_id = u.id AND gp.permission_id IN (SELECT id FROM perm))),
       EXISTS (SELECT 1 FROM accounts_accountlock l
               WHERE UPPER(l.username::text) = UPPER(u.username::text) AND l.unlocked_at IS NULL
                 AND (l.expires_at IS NULL OR l.expires_at > now())),
       {outside}"""
_STAFF_SQL = f"WITH {_PERM}\nSELECT {_USER_COLUMNS}\nFROM auth_user u WHERE u.id = %(user_id)s"
# The session's row and its user's checks in one round trip, for a user id known from an earlier request of the
# same session (checked against the row's own data before anything is served: session_and_staff).
_SESSION_STAFF_SQL = f"""WITH {_PERM},
session AS (SELECT session_data FROM django_session WHERE session_key = %(session_key)s AND expire_date > now())
SELECT session.session_data, {_USER_COLUMNS}
FROM session LEFT JOIN auth_user u ON u.id = %(user_id)s"""

# known_staff_condition: the session's row unchanged since its checks passed, and its user passing them all now.
_KNOWN_STAFF_SQL = """EXISTS (
    SELECT 1 FROM django_session s JOIN auth_user u ON u.id = %(user_id)s
    WHERE s.session_key = %(session_key)s AND s.expire_date > now() AND s.session_data = %(session_text)s
      AND u.username = %(username)s AND sha256(convert_to(u.password, 'UTF8')) = %(password_sha256)s
      AND u.is_active AND u.is_staff
      AND (u.is_superuser
           OR EXISTS (SELECT 1 FROM auth_user_user_permissions up
                      WHERE up.user_id = u.id AND up.permission_id IN (SELECT id FROM perm))
           OR EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
                      WHERE ug.user_id = u.id AND gp.permission_id IN (SELECT id FROM perm)))
      AND NOT EXISTS (SELECT 1 FROM accounts_accountlock l
                      WHERE UPPER(l.username::text) = UPPER(u.username::text) AND l.unlocked_at IS NULL
                        AND (l.expires_at IS NULL OR l.expires_at > now()))
      AND NOT ({outside}))""".replace("(SELECT id FROM perm)", """(
          SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
          WHERE ct.app_label = %(app_label)s AND p.codename = %(codename)s)""")

# Which user each session signed in, as learnt from its data: the id only, never whether they may see anything (every
# check is read again on every request). A session's user does not change under the same key (Django's login() flushes
# or cycles the key), and each use is checked against the row's data anyway. Bounded: emptied when full.
_session_users: dict[str, int] = {}
_known_sessions: dict[str, "KnownSession"] = {}  # sessions that passed every check (KnownSession)
SESSION_USERS_MAX = 10_000


def checks_apply() -> bool:
    """Whether this site's session engine, user model and backends are the ones these checks mirror."""
    return (settings.SESSION_ENGINE == SESSION_ENGINE and get_user_model() is User
            and list(settings.AUTHENTICATION_BACKENDS) == BACKENDS)


@functools.cache
def _statements(outside: tuple[str, ...] | None) -> tuple[str, str]:
    """(the staff checks, the session with them), with the outside rules of this process as one column (NULL when a
    rule has no SQL: the caller asks common.access.is_outside)."""
    column = "NULL::boolean" if outside is None else "(" + " OR ".join(("FALSE", *outside)) + ")"
    return (_STAFF_SQL.replace("{outside}", column), _SESSION_STAFF_SQL.replace("{outside}", column))


def _current_statements() -> tuple[str, str]:
    outside = access.outside_rules_sql()
    return _statements(None if outside is None else tuple(outside))


async def session_and_staff(connection, session, perm: str) -> tuple[dict | None, User | None]:
    """(the session's data, the active staff member it signs in who holds `perm`, has no open lock of their name
    and whose session hash verifies), with None for what Django must decide. One statement when the session's user
    is known from an earlier request, else two. The user's outside-agency standing is noted on it when every rule
    has SQL (common.access.outside_known); a user who passes is remembered for known_staff_condition."""
    key = session.session_key
    if not key:
        return None, None
    staff_sql, session_staff_sql = _current_statements()
    app_label, codename = perm.split(".", 1)
    params = {"app_label": app_label, "codename": codename, "session_key": key}
    hint = _session_users.get(key)
    async with connection.cursor() as cursor:
        if hint is not None:
            await cursor.execute(session_staff_sql, {**params, "user_id": hint}, prepare=True)
        else:
            await cursor.execute(_SESSION_SQL, [key], prepare=True)
        row = await cursor.fetchone()
    if row is None:
        _forget(key)
        return None, None
    session_text, data = row[0], session.decode(row[0])
    user_id = _user_id(data)
    if user_id is None:
        _forget(key)
        return data, None
    if user_id != hint:
        _remember(_session_users, key, user_id)
        async with connection.cursor() as cursor:
            await cursor.execute(staff_sql, {**params, "user_id": user_id}, prepare=True)
            columns = await cursor.fetchone()
        if columns is None:
            _forget(key)
            return data, None
    else:
        columns = row[1:]
    user = _staff_of(data, user_id, columns)
    if user is None or not access.outside_known(user) or access.is_outside(user):
        _known_sessions.pop(key, None)
    else:
        _remember(_known_sessions, key, KnownSession(
            session_key=key, session_text=session_text, data=data, user_id=user_id, username=user.username,
            password_sha256=_sha256(user.password), perm=perm))
    return data, user


@dataclass(frozen=True)
class KnownSession:
    """A session whose row and user passed every check once (session_and_staff): its row's text as then (signature,
    user id and session hash verified against it), the user's name and a digest of their password hash then. What
    known_staff_condition asks the database to find unchanged, with every check of who asks read again."""

    session_key: str
    session_text: str
    data: dict
    user_id: int
    username: str
    password_sha256: bytes
    perm: str

    def user(self) -> User:
        """The user as the ledger and the request's context read them (id, username): made once per known session
        (a model's __init__ was a tenth of the map's statement building), and only read."""
        user = self.__dict__.get("_user")
        if user is None:
            user = User(id=self.user_id, username=self.username, is_active=True, is_staff=True)
            object.__setattr__(self, "_user", user)  # frozen: the fields above never change
        return user


def known_session(session_key: str | None) -> KnownSession | None:
    return _known_sessions.get(session_key) if session_key else None


def known_staff_condition(known: KnownSession) -> tuple[str, dict] | None:
    """An SQL condition (and its parameters) true exactly when the known session's row is still there, unexpired and
    unchanged, and its user still passes every check of session_and_staff: the same name and password hash (so the
    session hash verified before still verifies), active, staff, holding the permission, no open lock, not an
    outside agency's. For a statement that writes the ledger entry only if who asks may see the answer. None when an
    outside rule has no SQL (ask the rules: session_and_staff)."""
    outside = access.outside_rules_sql()
    if outside is None:
        return None
    app_label, codename = known.perm.split(".", 1)
    return _known_staff_sql(tuple(outside)), {
        "app_label": app_label, "codename": codename, "session_key": known.session_key, "user_id": known.user_id,
        "session_text": known.session_text, "username": known.username, "password_sha256": known.password_sha256}


@functools.cache
def _known_staff_sql(outside: tuple[str, ...]) -> str:
    return _KNOWN_STAFF_SQL.replace("{outside}", " OR ".join(("FALSE", *outside)))


def _remember(store: dict, key: str, value) -> None:
    if len(store) >= SESSION_USERS_MAX:
        store.clear()
    store[key] = value


def _forget(key: str) -> None:
    _session_users.pop(key, None)
    _known_sessions.pop(key, None)


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _user_id(data: dict) -> int | None:
    """The user id a session's data signs in, when the guard or ModelBackend signed it in; else None (Django)."""
    # The guard loads a session's user as ModelBackend does (Django's test client names the first backend).
    if data.get(BACKEND_SESSION_KEY) not in (MODEL_BACKEND, OUTSIDE_GUARD) or not data.get(HASH_SESSION_KEY):
        return None
    try:
        return User._meta.pk.to_python(data[SESSION_KEY])
    except Exception:  # missing or not an id: Django's get_user decides
        return None


def _staff_of(data: dict, user_id: int, columns) -> User | None:
    """The user of the checks' columns if every check passed, else None. The user is built from its row, with what
    the ledger and the request's context read (id, username)."""
    username, password, is_active, is_staff, holds, locked, outside = columns
    if username is None or not (is_active and is_staff and holds and not locked):
        return None
    user = User(id=user_id, username=username, password=password, is_active=is_active, is_staff=is_staff)
    # As django.contrib.auth.get_user verifies the session, with the current key only (a fallback key: Django).
    if not constant_time_compare(data[HASH_SESSION_KEY], user.get_session_auth_hash()):
        return None
    if outside is not None:
        access.outside_note(user, outside)
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
