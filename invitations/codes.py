"""Short codes people type from a letter, and the hashed form of an address that unsubscribed."""

import base64
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core import signing

# No 0/O, 1/I/L, 5/S or 8/B: a code read off paper must not be mistyped. 26 letters and digits left, 8 of them:
# about 2 * 10^11 codes, so one cannot be guessed from another (typing codes on /invite/ is rate-limited too).
ALPHABET = "234679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 8
_NOT_CODE = re.compile(r"[^0-9A-Z]")
_UNSUBSCRIBE_SALT = "invitations.unsubscribe"


def short_code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def short_code_shown(code: str) -> str:
    """'K7QM-3XPA': two halves are easier to copy."""
    return f"{code[:4]}-{code[4:]}"


def short_code_parsed(text: str) -> str | None:
    """What a person typed ('k7qm 3xpa', 'K7QM-3XPA') as a stored code, or None if it cannot be one."""
    code = _NOT_CODE.sub("", (text or "").upper())
    return code if len(code) == LENGTH and all(c in ALPHABET for c in code) else None


def email_normalized(address: str) -> str:
    return address.strip().lower()


def email_hash(address: str) -> str:
    """HMAC-SHA256 of the address under CONNECT_INVITE_HASH_KEY: the list itself can go, and the hashes kept cannot
    be tested against guessed addresses by whoever reads the table. Not keyed with the secret key: its rotation
    must not forget who unsubscribed ("honoured forever")."""
    return hmac.new(settings.INVITE_HASH_KEY.encode(), email_normalized(address).encode(), hashlib.sha256).hexdigest()


def email_hash_legacy(address: str) -> str:
    """The unkeyed hash stored before the key: unsubscribes (and links mailed) from then are still honoured."""
    return hashlib.sha256(b"connect-invitations-unsubscribe:" + email_normalized(address).encode()).hexdigest()


def _signer() -> signing.Signer:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT, sep=".")  # "." is not in URL-safe base64: no quoting in a URL


def unsubscribe_token(address_hash: str) -> str:
    """The hash, URL-safe base64 (43 characters), signed; never expiring: an unsubscribe link in a years-old mail
    must still work. Short, so the List-Unsubscribe header stays readable."""
    return _signer().sign(base64.urlsafe_b64encode(bytes.fromhex(address_hash)).decode().rstrip("="))


def unsubscribe_hash(token: str) -> str | None:
    try:
        value = _signer().unsign(token or "")
        raw = base64.urlsafe_b64decode(value + "=")
    except (signing.BadSignature, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None
