"""Reads of public requests: what the public page lists (never the exact area, never who answered), and the
answers staff may see."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from public_requests import links
from public_requests.models import AnswerClip, PublicAnswer, PublicRequest
from requests_app.models import Incident
from requests_app.selectors import incidents_visible_to

SMALL = 5  # counts under this are shown as "fewer than 5", as in the transparency report


def _ever_public() -> QuerySet[PublicRequest]:
    """Requests that were published: a withdrawn one stays listed among the past (police requests are public)."""
    return PublicRequest.objects.filter(published_at__isnull=False,
                                        state__in=(PublicRequest.State.PUBLISHED, PublicRequest.State.WITHDRAWN))


def public_requests_listed() -> tuple[list[PublicRequest], list[PublicRequest]]:
    """(active, past) requests ever published, each with `answered`: how many people shared clips."""
    now = timezone.now()
    rows = (_ever_public().select_related("incident")
            .annotate(answered=Count("answers", filter=Q(answers__answer_clips__isnull=False), distinct=True))
            .order_by("-published_at"))
    active, past = [], []
    for row in rows:
        is_active = (row.state == PublicRequest.State.PUBLISHED and row.answers_until > now
                     and row.incident.status == Incident.Status.OPEN)
        (active if is_active else past).append(row)
    return active, past


def answered_shown(count: int) -> str | None:
    """The count as the public sees it: None for "fewer than 5"."""
    return None if count < SMALL else str(count)


def public_request_published(code) -> PublicRequest | None:
    """A request as the public may see it: published, or published and withdrawn since."""
    return _ever_public().filter(code=code).select_related("incident").first()


def public_requests_visible_to(*, user) -> QuerySet[PublicRequest]:
    """Staff see the public requests of the cases they may view."""
    return PublicRequest.objects.filter(incident__in=incidents_visible_to(user=user).values("pk"))


def answers_shown_to_police(public_request: PublicRequest) -> QuerySet[PublicAnswer]:
    """Confirmed answers only: an unconfirmed address is never shown to police (and has no clips)."""
    return public_request.answers.filter(state=PublicAnswer.State.CONFIRMED)


def clips_of_answer(answer: PublicAnswer) -> list:
    return [link.clip for link in AnswerClip.objects.filter(answer=answer).select_related("clip")
            .order_by("clip__uploaded_at")]


def answer_codes_of_clips(clip_ids) -> dict[int, str]:
    """{clip id: the public answer's code} for the clips among `clip_ids` that members of the public shared."""
    return {clip_id: str(code) for clip_id, code in
            AnswerClip.objects.filter(clip_id__in=list(clip_ids)).values_list("clip_id", "answer__code")}


@dataclass(frozen=True)
class AnswerContact:
    email: str
    language: str
    history_url: str  # the uploader's own page: their clips and who accessed them


def answer_contact(code) -> AnswerContact | None:
    """How to reach the uploader of a confirmed answer; None once the address is erased (or never confirmed)."""
    answer = PublicAnswer.objects.filter(code=code, state=PublicAnswer.State.CONFIRMED).exclude(email="").first()
    if answer is None:
        return None
    return AnswerContact(email=answer.email, language=answer.language, history_url=links.access_link(answer))
