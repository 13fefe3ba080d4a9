"""One place that renders and sends connect's templated mail (templates/emails/<name>-*.txt|html)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated(*, to: str, name: str, context: dict) -> None:
    """Renders emails/<name>-subject.txt, -body.txt and -body.html and sends them; SMTP errors propagate."""
    context = {"agency_name": settings.AGENCY_NAME, "agency_email": settings.AGENCY_EMAIL,
               "agency_phone": settings.AGENCY_PHONE, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
