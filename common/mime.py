"""Hand-built MIME for the one shape connect's templated mail has: multipart/alternative, a UTF-8 text part and
a UTF-8 HTML part, both quoted-printable.

Python's email package spends about a millisecond and a half building and serialising such a message (a tree
of objects, a policy consulted for every header, a generator walking it); written directly it takes a few
tens of microseconds. What keeps the bytes right:
- bodies are quoted-printable (binascii, in C): 7-bit, lines of at most 76 characters, so no server needs
  8BITMIME and no line comes near RFC 5322's 998; line breaks are CRLF, as the email package writes them;
- the boundary starts with "=_", which quoted-printable output never contains, so it cannot occur in a body;
- a header of printable ASCII is folded at spaces (78 characters where possible, 998 at most); anything else
  (non-ASCII, control characters, something that looks like an encoded-word, a word too long to fold) is
  written as RFC 2047 encoded-words of UTF-8, in lines of at most 76 characters.
tests/common/test_mime.py parses the bytes back with Python's email parser and compares them with what
Django's EmailMultiAlternatives gives for the same content.
"""

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME

CRLF = "\r\n"
FOLD_AT = 78  # RFC 5322: a line SHOULD be at most 78 characters...
LINE_LIMIT = 998  # ...and MUST be at most 998
ENCODED_LINE = 76  # RFC 2047: a line holding an encoded-word is at most 76 characters
_PRINTABLE = re.compile(r"[ -~]*")  # printable ASCII and space: nothing a header must encode
# A dot-atom address (RFC 5322 3.2.3), which every SMTP client and Django's sanitize_address leave as it is.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


@dataclass(frozen=True)
class OutgoingMail:
    """A message ready for SMTP: the envelope (as Django's backend would give it) and the bytes (CRLF lines)."""

    sender: str
    recipients: list[str]
    data: bytes


def _encoded_words(value: str, first_room: int) -> list[str]:
    """`value` as RFC 2047 base64 encoded-words, each whole characters, so every line stays within 76."""
    words, chunk, size = [], [], 0
    room = first_room
    for char in value:
        width = len(char.encode())
        # an encoded-word of n bytes is 12 + 4*ceil(n/3) characters: "=?utf-8?b?" + payload + "?="
        if chunk and 12 + 4 * -(-(size + width) // 3) > room:
            words.append("".join(chunk))
            chunk, size, room = [], 0, ENCODED_LINE - 1  # continuation lines start with one space
        chunk.append(char)
        size += width
    if chunk:
        words.append("".join(chunk))
    return [f"=?utf-8?b?{base64.b64encode(word.encode()).decode('ascii')}?=" for word in words]


def _fold_at_spaces(prefix: str, value: str) -> str | None:
    """The header folded at its spaces into lines of at most 78 characters where a word allows, or None if a
    word would push a line past 998. Runs of spaces are kept (folding only inserts CRLF before a space)."""
    if len(prefix) + len(value) <= FOLD_AT:
        return prefix + value
    lines, line = [], prefix
    for position, word in enumerate(value.split(" ")):
        piece = word if position == 0 else " " + word
        if position and len(line) + len(piece) > FOLD_AT and line.strip():
            lines.append(line)
            line = piece
        else:
            line += piece
        if len(line) > LINE_LIMIT:
            return None
    lines.append(line)
    return CRLF.join(lines)


def header(name: str, value: str) -> str:
    """One header field, folded, without its final CRLF. Printable ASCII is written as it is; anything else
    becomes encoded-words (so no CR, LF or NUL from a value ever reaches the header section)."""
    prefix = f"{name}: "
    if _PRINTABLE.fullmatch(value) and "=?" not in value and value == value.strip():
        folded = _fold_at_spaces(prefix, value)
        if folded is not None:
            return folded
    return prefix + (CRLF + " ").join(_encoded_words(value, ENCODED_LINE - len(prefix)))


def quoted_printable(text: str) -> bytes:
    """The body as quoted-printable UTF-8 with CRLF line breaks. Every line break (CRLF, CR or LF) counts as one,
    as the email package's generator counts them."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # In LF mode every "\n" of the output is a line break, hard or soft, so all of them become CRLF.
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def address_header(name: str, value: str) -> str:
    """An address header (From, To) whose value is ASCII already (sanitize_address encodes a non-ASCII display
    name and domain): folded at spaces, its encoded-words left as they are."""
    if not _PRINTABLE.fullmatch(value):
        raise ValueError(f"{name}: an address header must be printable ASCII, not {value!r}")
    return _fold_at_spaces(f"{name}: ", value) or f"{name}: {value}"


class Envelope:
    """The sender's header and envelope forms, worked out once (they are the same for every message)."""

    def __init__(self, from_email: str):
        self.from_header = address_header("From", from_email if from_email.isascii()
                                          else sanitize_address(from_email, "utf-8"))
        self.sender = sanitize_address(from_email, "utf-8")


_envelopes: dict[str, Envelope] = {}


def _envelope(from_email: str) -> Envelope:
    if from_email not in _envelopes:
        _envelopes[from_email] = Envelope(from_email)
    return _envelopes[from_email]


def _recipient(address: str) -> tuple[str, str]:
    """(To header value, envelope recipient) for one address, as Django's message and backend give them."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return address, address
    sanitized = sanitize_address(address, "utf-8")
    return (address if address.isascii() else sanitized), sanitized


def envelope_sender(from_email: str) -> str:
    return _envelope(from_email).sender


def envelope_recipient(address: str) -> str:
    return _recipient(address)[1]


def derived_message_id(*parts: str, recipient: str) -> str:
    """A Message-ID made from what the message is (`parts`: its kind and the request's code, say) and to whom, so
    that a copy sent again has the same one: recognisable as a duplicate in the mail server's log, by the owner's
    mail program (many fold such copies) and by staff. The recipient is hashed, not spelled out."""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    domain = settings.AGENCY_EMAIL.rpartition("@")[2] or DNS_NAME
    return f"<{'.'.join(parts)}.{digest}@{domain}>"


def alternative(*, to: str, subject: str, text: str, html: str, from_email: str | None = None,
                message_id: str | None = None) -> OutgoingMail:
    """A multipart/alternative message (text, then HTML) to one address, ready to send. Without `message_id`, a
    fresh one."""
    envelope = _envelope(from_email or settings.DEFAULT_FROM_EMAIL)
    to_header, recipient = _recipient(to)
    boundary = "=_" + secrets.token_hex(16)
    head = CRLF.join((
        f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"',
        "MIME-Version: 1.0",
        header("Subject", subject),
        envelope.from_header,
        address_header("To", to_header),
        f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}",
        f"Message-ID: {message_id or make_msgid(domain=DNS_NAME)}",
    ))
    delimiter = f"{CRLF}--{boundary}{CRLF}".encode("ascii")
    part_head = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    data = b"".join((
        head.encode("ascii"), (CRLF + CRLF).encode("ascii"), delimiter[2:],
        part_head.format("plain").encode("ascii"), quoted_printable(text), delimiter,
        part_head.format("html").encode("ascii"), quoted_printable(html),
        f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
    ))
    return OutgoingMail(sender=envelope.sender, recipients=[recipient], data=data)
