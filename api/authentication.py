"""`Authorization: Bearer cnt_…` (or `Token cnt_…`) for other systems; staff use their session.

A token request has no user: `request.user` is an `ApiClient` that holds no Django permission at all, so
only the token's scopes open anything (api.permissions.ApiAccess)."""

import hmac

from django.conf import settings
from rest_framework import authentication, exceptions

from api import limits, services
from api.models import ApiToken


class ApiClient:
    """The caller behind a token: authenticated, but no staff member and no permission of its own."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, token: ApiToken):
        self.token = token

    def get_username(self) -> str:
        return self.token.label

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    def __str__(self):
        return self.token.label


class TokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>' with one token.")
        parts = services.token_parts(header[1].decode("latin-1"))
        token = ApiToken.objects.filter(prefix=parts[0]).first() if parts else None
        if token is None or not hmac.compare_digest(token.key_hash, services.token_hash(parts[1])):
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This API token was revoked.")
        if limits.over("token", token.prefix, limit=settings.API_REQUESTS_PER_MINUTE):
            raise exceptions.Throttled(detail=f"This token sent more than {settings.API_REQUESTS_PER_MINUTE} "
                                              "requests this minute.")
        services.token_used(token=token)
        return ApiClient(token), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
