"""Demo mode only: staff read the mail the local sink caught, so the email-link flows can be tried."""

import email
from email import policy
from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import render


def _messages(directory: Path, limit: int = 100) -> list[dict]:
    if not directory.is_dir():
        return []
    files = sorted((p for p in directory.glob("*.eml")), reverse=True)[:limit]
    result = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        result.append(
            {
                "id": path.stem,
                "subject": message["subject"],
                "to": message["to"],
                "date": message["date"],
                "body": body.get_content() if body else "",
            }
        )
    return result


@staff_member_required
def inbox(request):
    if not settings.DEMO:
        raise Http404("The demo mailbox exists only in demo mode.")
    return render(request, "demo/mail.html", {"messages_": _messages(settings.DEMO_MAILDIR)})
