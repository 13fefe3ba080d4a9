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
            if not (user.is_active and user.is_staff and user.has_perm(perm)):
                if api:
                    return JsonResponse({"detail": "Your role does not include this."}, status=403)
                raise PermissionDenied("Your role does not include this.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
