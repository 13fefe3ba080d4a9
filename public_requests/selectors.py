"""Reads of public requests: what the public page lists (never the exact area, never who answered), and the
answers staff may see."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from public_requests.models import AnswerClip, PublicAnswer, PublicRequest
from requests_app.models import Incident
from requests_app.selectors import incidents_visible_to

SMALL = 5  # counts under this are shown as "fewer than 5", as in the transparency report


def public_requests_listed() -> tuple[list[PublicRequest], list[PublicRequest]]:
    """(active, past) published requests, each with `answered`: how many people shared clips."""
    now = timezone.now()
    rows = (PublicRequest.objects.filter(state=PublicRequest.State.PUBLISHED).select_related("incident")
            .annotate(answered=Count("answers", filter=Q(answers__answer_clips__isnull=False), distinct=True))
            .order_by("-published_at"))
    active, past = [], []
    for row in rows:
        is_active = row.answers_until > now and row.incident.status == Incident.Status.OPEN
        (active if is_active else past).append(row)
    return active, past


def answered_shown(count: int) -> str | None:
    """The count as the public sees it: None for "fewer than 5"."""
    return None if count < SMALL else str(count)


def public_request_published(code) -> PublicRequest | None:
    return (PublicRequest.objects.filter(code=code, state=PublicRequest.State.PUBLISHED)
            .select_related("incident").first())


def public_requests_visible_to(*, user) -> QuerySet[PublicRequest]:
    """Staff see the public requests of the cases they may view."""
    return PublicRequest.objects.filter(incident__in=incidents_visible_to(user=user).values("pk"))


def answers_shown_to_police(public_request: PublicRequest) -> QuerySet[PublicAnswer]:
    """Confirmed answers only: an unconfirmed address is never shown to police (and has no clips)."""
    return public_request.answers.filter(state=PublicAnswer.State.CONFIRMED)


def clips_of_answer(answer: PublicAnswer) -> list:
    return [link.clip for link in AnswerClip.objects.filter(answer=answer).select_related("clip")
            .order_by("clip__uploaded_at")]
