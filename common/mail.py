"""One place that renders and sends connect's templated mail (templates/emails/<name>-*.txt|html)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, engines
from django.template.loader import render_to_string


def _render_text(template_name: str, context: dict) -> str:
    """Subjects and plain-text bodies are not HTML: autoescaping would turn O'Neil into O&#x27;Neil there."""
    template = engines["django"].get_template(template_name).template
    return template.render(Context(context, autoescape=False))


def send_templated(*, to: str, name: str, context: dict) -> None:
    """Renders emails/<name>-subject.txt, -body.txt and -body.html and sends them; SMTP errors propagate."""
    context = {"agency_name": settings.AGENCY_NAME, "agency_email": settings.AGENCY_EMAIL,
               "agency_phone": settings.AGENCY_PHONE, **context}
    subject = " ".join(_render_text(f"emails/{name}-subject.txt", context).split())
    text = _render_text(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)  # HTML keeps its escaping
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
