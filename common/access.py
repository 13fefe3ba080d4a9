"""Access checks for staff views: deny by default, say why."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse


def staff_permission_required(perm: str, *, api: bool = False):
    """Active staff holding `perm`. Pages send strangers to sign in; data endpoints answer 401/403 JSON."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                if api:
                    return JsonResponse({"detail": "Sign in as staff first."}, status=401)
                return redirect_to_login(request.get_full_path())
            if not (is_program_staff(user) and user.has_perm(perm)):
                if api:
                    return JsonResponse({"detail": "Your role does not include this."}, status=403)
                raise PermissionDenied("Your role does not include this.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# --- outside agencies ---------------------------------------------------------------------------------------------
# People of an outside agency (another department, a prosecutor, a federal agency) sign in like staff but are never
# the program's staff: no role, group or flag given to them opens the map, owners, live views or evidence. The app
# that keeps agencies adds its rule here at start-up (agencies.apps); every staff check below asks it.
_outside_rules: list = []
# The same rules as SQL, for a fast route that checks who asks in one statement (accounts.fast_checks): each a
# boolean expression of the user's id, `%(user_id)s`. A rule without its SQL leaves such routes to ask is_outside.
_outside_sql: dict = {}


def outside_rule_add(rule, *, sql: str | None = None) -> None:
    """`rule(user) -> bool`: whether the user is an outside agency's; `sql`, the same test as an SQL expression of
    `%(user_id)s`."""
    if rule not in _outside_rules:
        _outside_rules.append(rule)
    if sql is not None:
        _outside_sql[rule] = sql


def outside_rules_sql() -> list[str] | None:
    """Every outside rule as SQL, or None when one of them has none."""
    if any(rule not in _outside_sql for rule in _outside_rules):
        return None
    return [_outside_sql[rule] for rule in _outside_rules]


def is_outside(user) -> bool:
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return False
    cached = getattr(user, "_connect_outside", None)  # once per request's user object
    if cached is None:
        cached = any(rule(user) for rule in _outside_rules)
        try:
            user._connect_outside = cached
        except AttributeError:
            pass
    return cached


def outside_note(user, outside: bool) -> None:
    """What a caller read of every outside rule itself (the staff map's one statement, accounts.fast_checks): from
    now on is_outside answers it for this user object without asking the rules again."""
    user._connect_outside = bool(outside)


def outside_known(user) -> bool:
    """Whether is_outside(user) can answer without a query."""
    return getattr(user, "_connect_outside", None) is not None


def is_program_staff(user) -> bool:
    """Signed in, active, staff, and not an outside agency's: the first half of every staff check."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff
                and not is_outside(user))


class OutsideAgencyGuard:
    """An authentication backend listed first (settings.AUTHENTICATION_BACKENDS) that authenticates nobody: for an
    outside agency's user it ends every permission check with a refusal (Django stops at PermissionDenied), so
    the admin, guardian's object permissions and every `has_perm` deny whatever groups the user was given."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        # Django's test client (force_login) and any session naming this backend load users the plain way.
        from django.contrib.auth.backends import ModelBackend

        return ModelBackend().get_user(user_id)

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        if is_outside(user_obj):
            raise PermissionDenied("An outside agency's account holds no role in the program.")
        return False

    def has_module_perms(self, user_obj, app_label) -> bool:
        return self.has_perm(user_obj, app_label)
