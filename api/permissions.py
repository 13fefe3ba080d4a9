"""Deny by default. Each view names, per action, the scope a token needs (`scopes`) and the Django permissions
a staff member needs (`perms`); an action named in neither is closed to both. Object-level rules (which
incidents a user may see) are the other apps' selectors, applied by the views' querysets."""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from api.models import ApiToken
from common.access import is_program_staff


def view_action(view, request) -> str:
    return getattr(view, "action", None) or request.method.lower()


class ApiAccess(BasePermission):
    message = "Your role does not include this."

    def has_permission(self, request, view) -> bool:
        action = view_action(view, request)
        if isinstance(request.auth, ApiToken):
            if request.auth.agency_id is not None:
                raise exceptions.PermissionDenied("An outside agency's token holds no scope in the program: it reaches "
                                                  "only what a legal reviewer approved for the agency.")
            scope = getattr(view, "scopes", {}).get(action)
            if scope is None:
                raise exceptions.PermissionDenied("API tokens cannot use this; staff use it signed in.")
            if scope not in request.auth.scopes:
                raise exceptions.PermissionDenied(f"This API token lacks the scope '{scope}'.")
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False  # 401: DRF asks for credentials
        perms = getattr(view, "perms", {}).get(action)
        if perms is None:
            raise exceptions.PermissionDenied("This is for other systems with an API token, not for staff.")
        if not is_program_staff(user):
            raise exceptions.PermissionDenied("Staff only.")
        return user.has_perms(perms)


def is_token(request) -> bool:
    return isinstance(request.auth, ApiToken)


def actor(request):
    """What the access ledger names: the staff member, or the token's label."""
    return request.auth.label if is_token(request) else request.user
