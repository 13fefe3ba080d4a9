"""One templated mail to many recipients: its templates rendered once, each recipient's own values filled in.

The footage request an incident sends to 100 owners differs between them only in a few values (the owner's
name, the camera's label, the signed link). MailBatch renders emails/<name>-subject.txt, -body.txt and
-body.html once with a stand-in for each of those "slots", a marker no one can guess (a random nonce per batch),
and cuts the result at the markers. Each message is then the pieces joined with the recipient's values: put in
as they are in the subject and text (whose whitespace the subject collapses, as render_templated does, so a
newline in a name never reaches a header) and HTML-escaped in the HTML, as Django's autoescaping would. The
values are never parsed as a template and never searched for markers, so a name cannot inject anything.

What keeps the mail the same as render_templated's:
- a slot must be printed as it is (`{{ owner_name }}`): a filter on it, or any use of an attribute of a slot's
  parent other than the slot (`request.code` when only `request.camera_label` is a slot), makes the batch fall
  back to rendering each message on its own, with a warning in the log;
- the pieces are kept per active language and time zone, so gettext and the `date` filter give what they
  would give for each message;
- the caller batches only recipients whose other context is the same (one incident, one expiry).
"""

import logging
import re
import secrets

from django.utils import timezone, translation
from django.utils.html import conditional_escape

from common import mime
from common.mail import render_templated, render_templated_parts

log = logging.getLogger(__name__)
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: no escaping or translation touches them


class BatchUnsupported(Exception):
    """The templates use a slot in a way the batch cannot reproduce; each message is rendered on its own."""


class _SlotParent:
    """Stands in for an object one or more of whose attributes are slots (`request` of `request.camera_label`).
    Any other attribute stops the batch (Django's templates would swallow an AttributeError)."""

    def __init__(self, path: str, attributes: dict):
        self.__dict__.update(attributes)
        self._path = path

    def __getattr__(self, name):
        raise BatchUnsupported(f"the templates read {self._path}.{name}, which is not a slot")

    def __str__(self):
        raise BatchUnsupported(f"the templates print {self._path} itself")


def _resolve(context: dict, path: str) -> str:
    first, *rest = path.split(".")
    value = context[first]
    for attribute in rest:
        value = getattr(value, attribute)
    if not isinstance(value, str):
        raise TypeError(f"slot {path} must be a string, not {type(value).__name__}")
    return value


class _Pieces:
    """One rendering cut at the slot markers: literal, slot index, literal, slot index, ..., literal."""

    def __init__(self, rendered: str, marker: re.Pattern):
        parts = marker.split(rendered)
        self.literals, self.slots = parts[0::2], [int(index) for index in parts[1::2]]
        if any(_OPEN in literal or _CLOSE in literal for literal in self.literals):
            raise BatchUnsupported("a slot was changed by a filter (or the text holds a slot marker)")

    def fill(self, values: list[str]) -> str:
        out = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            out.append(values[slot])
            out.append(literal)
        return "".join(out)


class MailBatch:
    """`MailBatch(name=, slots=("owner_name", "request.camera_label", ...))`, then `mail(to=, context=)` per
    recipient with the full context render_templated would take; returns mime.OutgoingMail. `language=` (the
    recipient's) renders that message in it: the pieces are kept per language, so a batch may mix them."""

    def __init__(self, *, name: str, slots: tuple[str, ...]):
        self.name, self.slots = name, slots
        self._pieces: dict[tuple, tuple[_Pieces, _Pieces, _Pieces] | None] = {}

    def mail(self, *, to: str, context: dict, message_id: str | None = None,
             language: str | None = None) -> mime.OutgoingMail:
        if language is not None:
            with translation.override(language):
                return self.mail(to=to, context=context, message_id=message_id)
        values = [_resolve(context, path) for path in self.slots]
        key = (translation.get_language(), timezone.get_current_timezone_name())
        if key not in self._pieces:
            self._pieces[key] = self._compile(context)
        pieces = self._pieces[key]
        if pieces is None:
            return _rendered_alone(to=to, name=self.name, context=context, message_id=message_id)
        subject, text, html = pieces
        escaped = [str(conditional_escape(value)) for value in values]
        return mime.alternative(to=to, subject=" ".join(subject.fill(values).split()), text=text.fill(values),
                                html=html.fill(escaped), message_id=message_id)

    def _compile(self, context: dict) -> tuple[_Pieces, _Pieces, _Pieces] | None:
        nonce = secrets.token_hex(8)
        marker = re.compile(f"{_OPEN}{nonce}(\\d+){_CLOSE}")
        stand_ins = dict(context)
        parents: dict[str, dict] = {}
        for index, path in enumerate(self.slots):
            placeholder = f"{_OPEN}{nonce}{index}{_CLOSE}"
            parent, _, attribute = path.rpartition(".")
            if parent:
                if "." in parent:
                    raise ValueError(f"slot {path}: one level of attribute at most")
                parents.setdefault(parent, {})[attribute] = placeholder
            else:
                stand_ins[path] = placeholder
        for parent, attributes in parents.items():
            stand_ins[parent] = _SlotParent(parent, attributes)
        try:
            subject, text, html = render_templated_parts(name=self.name, context=stand_ins, collapse_subject=False)
            return _Pieces(subject, marker), _Pieces(text, marker), _Pieces(html, marker)
        except BatchUnsupported as exc:
            log.warning("mail %s is rendered message by message: %s", self.name, exc)
            return None


def _rendered_alone(*, to: str, name: str, context: dict, message_id: str | None = None) -> mime.OutgoingMail:
    """The message as render_templated builds it (Django's email package), as bytes for the same session."""
    message = render_templated(to=to, name=name, context=context)
    if message_id:
        message.extra_headers["Message-ID"] = message_id
    return mime.OutgoingMail(sender=mime.envelope_sender(message.from_email),
                             recipients=[mime.envelope_recipient(address) for address in message.recipients()],
                             data=message.message().as_bytes(linesep="\r\n"))
