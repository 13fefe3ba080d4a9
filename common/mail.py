"""One place that renders and sends connect's templated mail (templates/emails/<name>-*.txt|html)."""

import email
import email.policy
import smtplib
from email.policy import Compat32

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import translation

from common.mime import OutgoingMail


def _render_text(template_name: str, context: dict) -> str:
    """Subjects and plain-text bodies are not HTML: autoescaping would turn O'Neil into O&#x27;Neil there."""
    template = engines["django"].get_template(template_name).template
    return template.render(Context(context, autoescape=False))


class _QuickFolding(Compat32):
    """Django's policy (compat32) builds an email.header.Header to fold every header line, even a short ASCII one
    it leaves as it is: a third of the time spent turning a request into bytes. Such a line is written directly
    here, the same bytes; anything else (long, non-ASCII, unusual spacing) is folded by compat32 itself."""

    def _fold(self, name, value, sanitize):
        plain = (isinstance(value, str) and value.isascii() and value == value.strip() and "  " not in value
                 and not any(c in value for c in "\r\n\t"))
        if plain and len(name) + 2 + len(value) <= (self.max_line_length or 78):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_QUICK_FOLDING = _QuickFolding()


class TemplatedMessage(EmailMultiAlternatives):
    def message(self, *args, **kwargs):
        message = super().message(*args, **kwargs)
        for part in message.walk():
            part.policy = _QUICK_FOLDING
        return message


def render_templated_parts(*, name: str, context: dict, collapse_subject: bool = True,
                           language: str | None = None) -> tuple[str, str, str]:
    """(subject, text, HTML) from emails/<name>-subject.txt, -body.txt and -body.html. The subject's whitespace
    is collapsed to single spaces (a header is one line), unless the caller does that itself later.
    `language`: the recipient's (an owner's `language`); None keeps the active one (staff mail: English)."""
    if language is not None:
        with translation.override(language):
            return render_templated_parts(name=name, context=context, collapse_subject=collapse_subject)
    context = {"agency_name": settings.AGENCY_NAME, "agency_email": settings.AGENCY_EMAIL,
               "agency_phone": settings.AGENCY_PHONE, **context}
    subject = _render_text(f"emails/{name}-subject.txt", context)
    text = _render_text(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)  # HTML keeps its escaping
    return (" ".join(subject.split()) if collapse_subject else subject), text, html


def render_templated(*, to: str, name: str, context: dict, language: str | None = None) -> EmailMultiAlternatives:
    """The message from emails/<name>-subject.txt, -body.txt and -body.html, not yet sent."""
    subject, text, html = render_templated_parts(name=name, context=context, language=language)
    message = TemplatedMessage(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def send_templated(*, to: str, name: str, context: dict, language: str | None = None) -> None:
    """Renders and sends one message on a connection of its own; SMTP errors propagate."""
    render_templated(to=to, name=name, context=context, language=language).send()


class _Prebuilt(EmailMessage):
    """An OutgoingMail handed to a backend other than SMTP (the tests' in-memory outbox, the console backend):
    its bytes as they are, with the subject and text body where such backends' readers look."""

    def __init__(self, outgoing: OutgoingMail):
        parsed = email.message_from_bytes(outgoing.data, policy=email.policy.default)
        super().__init__(subject=str(parsed["Subject"]), body=parsed.get_body(("plain",)).get_content(),
                         from_email=outgoing.sender, to=outgoing.recipients)
        self._parsed = parsed

    def message(self, *args, **kwargs):
        return self._parsed


class MailRefused(Exception):
    """The server refused this one message; the connection goes on serving the others.
    `permanent`: a 5xx answer to the recipient address, which sending again will not change."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.permanent = permanent


class MailServerLost(Exception):
    """No connection to the mail server (or it dropped and would not come back): nothing more goes out now."""


class MailSession:
    """Many messages over one SMTP connection (Django's get_connection(), opened at the first message).

    A server that closes a connection that had been working (many limit the messages per connection) is
    reconnected to once; if the new connection fails too, MailServerLost. A message whose 250 never arrived may
    or may not have been delivered: SMTP cannot tell, and the caller treats it as unsent."""

    def __init__(self):
        self.backend = get_connection()
        self._sent_on_connection = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        try:
            self.backend.close()
        except (smtplib.SMTPException, OSError):
            pass  # QUIT on a dead connection: nothing was left to deliver
        self._sent_on_connection = 0

    def send(self, message: EmailMultiAlternatives | OutgoingMail) -> None:
        worked = self._sent_on_connection > 0
        try:
            self._send_once(message)
        except MailServerLost:
            if not worked:
                raise
            self._send_once(message)  # it worked until now: the server may have ended the connection on purpose

    def _send_once(self, message) -> None:
        try:
            self.backend.open()
        except (smtplib.SMTPException, OSError) as exc:  # unreachable, TLS or sign-in refused
            self.close()
            raise MailServerLost(str(exc) or exc.__class__.__name__) from None
        try:
            if isinstance(message, OutgoingMail) and isinstance(getattr(self.backend, "connection", None),
                                                                smtplib.SMTP):
                self.backend.connection.sendmail(message.sender, message.recipients, message.data)
            elif isinstance(message, OutgoingMail):
                self.backend.send_messages([_Prebuilt(message)])
            else:
                self.backend.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            replies = list(exc.recipients.values()) or [(0, b"")]
            if any(code == 421 for code, _text in replies):
                self._lost(replies[0])
            raise MailRefused(_answer(replies[0]),
                              permanent=all(500 <= code < 600 for code, _text in replies)) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:
                self._lost((exc.smtp_code, exc.smtp_error))
            # Refused at MAIL or DATA: smtplib has reset the transaction; the next message may go through.
            raise MailRefused(_answer((exc.smtp_code, exc.smtp_error)), permanent=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailServerLost(str(exc) or exc.__class__.__name__) from None
        self._sent_on_connection += 1

    def _lost(self, reply) -> None:
        """421: the server is closing the connection."""
        self.close()
        raise MailServerLost(_answer(reply)) from None


def _answer(reply) -> str:
    """'550 5.1.1 No such user' from smtplib's (code, bytes) pair."""
    code, text = reply
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"
