"""Writes for API tokens: create (the only time the token is seen), revoke, and noting use."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api import token_cache
from api.models import ApiToken, Scope
from audit.actions import Action
from audit.ledger import record
from common.change_history import history_note

TOKEN_PREFIX = "cnt_"
# last_used_at is written at most once a minute per token, not on each of 200 position reports a second.
LAST_USED_EVERY = timedelta(minutes=1)


def token_hash(key: str) -> str:
    # A token carries 256 random bits: a plain SHA-256 cannot be brute-forced, and costs microseconds per request.
    return hashlib.sha256(key.encode()).hexdigest()


def token_parts(key: str) -> tuple[str, str] | None:
    """cnt_<prefix>_<secret> -> (prefix, key), or None for anything else."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    prefix, _, secret = key[len(TOKEN_PREFIX):].partition("_")
    return (prefix, key) if len(prefix) == 8 and secret else None


@transaction.atomic
def token_create(*, name: str, scopes, user=None, key: str | None = None, agency=None) -> tuple[ApiToken, str]:
    """Returns the token row and the token itself; only the hash is stored. `key` is for the demo's fixed token.
    `agency`: an outside agency's system, whose scopes open nothing (api.permissions)."""
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValidationError(f"Choose scopes from: {', '.join(Scope.values)}.")
    key = key or f"{TOKEN_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    prefix, _ = token_parts(key)
    token = ApiToken.objects.create(name=name, prefix=prefix, key_hash=token_hash(key), scopes=sorted(set(scopes)),
                                    created_by=user, agency=agency)
    record(actor=user, action=Action.API_TOKEN_CREATED, target_type="api_token", token=token.name,
           scopes=token.scopes, **({"agency": agency.name} if agency else {}))
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, user) -> bool:
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now)
    if revoked:
        history_note(token, revoked_at=(None, now))
        record(actor=user, action=Action.API_TOKEN_REVOKED, target_type="api_token", token=token.name)
    token_cache.token_changed(token.prefix)
    return bool(revoked)


def token_use_due(*, token: ApiToken) -> bool:
    """Whether token_used would write (no I/O: the fast routes ask on their event loop)."""
    return token.last_used_at is None or timezone.now() - token.last_used_at > LAST_USED_EVERY


def token_used(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
