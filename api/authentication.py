"""`Authorization: Bearer cnt_…` (or `Token cnt_…`) for other systems; staff use their session.

A token request has no user: `request.user` is an `ApiClient` that holds no Django permission at all, so
only the token's scopes open anything (api.permissions.ApiAccess)."""

import hmac

from django.conf import settings
from rest_framework import authentication, exceptions

from api import limits, services, token_cache
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
        token, over_limit = token_for_request(header[1].decode("latin-1"))
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This API token was revoked.")
        if over_limit:
            raise exceptions.Throttled(detail=f"This token sent more than {settings.API_REQUESTS_PER_MINUTE} "
                                              "requests this minute.")
        services.token_used(token=token)
        return ApiClient(token), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def token_for_request(key: str) -> tuple[ApiToken | None, bool]:
    """The token this key names, active or revoked (None for an unknown or wrong key), and whether this request is
    past the token's per-minute limit (counted for active tokens only). A token this process keeps
    (api.token_cache) costs no database query while the generation read with the count is the one it was kept
    under."""
    parts = services.token_parts(key)
    if parts is None:
        return None, False
    prefix, digest, limit = parts[0], services.token_hash(key), settings.API_REQUESTS_PER_MINUTE
    held = token_cache.kept(prefix)
    if held is not None and hmac.compare_digest(held.token.key_hash, digest):
        counted = limits.over_and_read("token", prefix, limit=limit, read_key=token_cache.GENERATION_KEY)
        if counted is None:  # Redis unreachable: nothing kept can be trusted now, and nothing was counted
            token_cache.forget_all()
            return _token_from_database(prefix, digest, None, False), False
        over_limit, generation = counted
        if generation == held.generation:
            return held.token, over_limit
        return _token_from_database(prefix, digest, generation, True), over_limit
    answered, generation = token_cache.generation_read()  # before the database: a revocation after it changes it
    token = _token_from_database(prefix, digest, generation, answered)
    if token is None or not token.is_active or not answered:  # Redis unreachable: no count either, and no wait
        return token, False
    return token, limits.over("token", prefix, limit=limit)


def _token_from_database(prefix: str, digest: str, generation: bytes | None, keep: bool) -> ApiToken | None:
    token = ApiToken.objects.filter(prefix=prefix).first()
    if token is None or not token.is_active:
        token_cache.forget(prefix)
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None  # a wrong key for a kept token leaves it kept
    if keep and token.is_active:
        token_cache.keep(token, generation)
    return token


async def token_for_fast_route(key: str, *, scope: str, checks=lambda token: [], database
                               ) -> tuple[ApiToken, list[tuple[str, str]]] | None:
    """token_for_request for the fast routes (api.position_push, api.nearby_route), on the event loop: the active
    token this key names, if it has `scope`, with this request counted against the token's per-minute limit and
    `checks(token)` (more (scope, value, limit) counters) in one Redis round trip that also reads the token
    generation; and the (scope, value) pairs past their limit. None when Django should answer instead (an unknown,
    wrong or revoked key, a token without the scope, Redis unreachable): then nothing was counted, so Django's
    own count is the request's only one. (Once per change of the generation a kept token that turns out revoked
    was counted first: a revoked token's count matters to nobody.)

    `database(function, *args)` runs a lookup on the route's database thread."""
    parts = services.token_parts(key)
    if parts is None:
        return None
    prefix, digest = parts[0], services.token_hash(key)
    held = token_cache.kept(prefix)
    if held is not None and hmac.compare_digest(held.token.key_hash, digest):
        if scope not in held.token.scopes or held.token.agency_id is not None:  # Django answers the 403
            return None
        counted = await limits.over_and_read_async(_counters(held.token, checks), read_key=token_cache.GENERATION_KEY)
        if counted is None:  # Redis unreachable: nothing kept can be trusted now, and nothing was counted
            token_cache.forget_all()
            return None
        over, generation = counted
        if generation == held.generation:
            return held.token, over
        token = await database(_token_from_database, prefix, digest, generation, True)
        return (token, over) if token is not None and token.is_active else None
    answered, generation = await limits.read_async(token_cache.GENERATION_KEY)  # before the database, as above
    if not answered:
        return None
    token = await database(_token_from_database, prefix, digest, generation, True)
    if token is None or not token.is_active or scope not in token.scopes or token.agency_id is not None:
        return None
    counted = await limits.over_and_read_async(_counters(token, checks))
    return None if counted is None else (token, counted[0])


def _counters(token: ApiToken, checks) -> list[tuple[str, str, int]]:
    return [("token", token.prefix, settings.API_REQUESTS_PER_MINUTE), *checks(token)]
