"""Demo mode only: the mail the local sink caught, so a person trying connect can follow the emailed links.

It is the residents' side of the demo: readable by anyone not signed in as staff (the `make run` banner sends
visitors here for their sign-in link before they are staff), and refused to every staff account. Otherwise
police staff could read owners' consent links, tell a decline (410) from no answer, or answer for owners,
which connect never lets police do. In production the page does not exist (404), whoever asks."""

import email
from email import policy
from pathlib import Path

from django.conf import settings
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


def inbox(request):
    if not settings.DEMO:
        raise Http404("The demo mailbox exists only in demo mode.")
    if request.user.is_authenticated and request.user.is_staff:
        return render(request, "demo/mail_staff_refused.html", status=403)
    return render(request, "demo/mail.html", {"messages_": _messages(settings.DEMO_MAILDIR)})
