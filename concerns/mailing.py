"""The concern's mails, each sent once (a sent mark under a row lock: the outbox queues at least once).

What the neighbour is mailed names no owner, no camera and no place: only how many owners were asked and what
they did, in counts."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.mail import send_templated
from concerns import links
from concerns.models import Concern, OwnerAsk


@transaction.atomic
def concern_confirmation_send(*, concern_id: int) -> str:
    concern = (Concern.objects.select_for_update(skip_locked=True)
               .filter(pk=concern_id, state=Concern.State.UNCONFIRMED, confirm_sent_at__isnull=True).first())
    if concern is None:
        return "nothing to send"
    send_templated(to=concern.email, name="concern-confirm", language=concern.language, context={
        "url": links.link_url(nonce=concern.confirm_nonce, purpose=links.CONFIRM),
        "hours": settings.CONFIRM_LINK_HOURS, "address": concern.address})
    Concern.objects.filter(pk=concern.pk).update(confirm_sent_at=timezone.now())
    return "sent"


@transaction.atomic
def owner_ask_send(*, ask_id: int) -> str:
    ask = (OwnerAsk.objects.select_for_update(skip_locked=True, of=("self",)).select_related("camera__owner", "concern")
           .filter(pk=ask_id, mailed_at__isnull=True).first())
    if ask is None:
        return "nothing to send"
    owner = ask.camera.owner
    send_templated(to=owner.email, name="concern-ask", language=owner.language, context={
        "camera": ask.camera, "address": ask.concern.address, "days": links.ASK_LINK_DAYS,
        "url": links.link_url(nonce=ask.link_nonce, purpose=links.ASK),
        "integrated": ask.camera.level == "integrated"})
    OwnerAsk.objects.filter(pk=ask.pk).update(mailed_at=timezone.now())
    return "sent"


def outcome_counts(concern: Concern) -> dict[str, int]:
    answers = list(concern.asks.values_list("answer", flat=True))
    counts = {answer: answers.count(answer) for answer in OwnerAsk.Answer.values}
    counts["asked"] = len(answers)
    counts["unanswered"] += counts.pop("pending")
    return counts


@transaction.atomic
def concern_outcome_send(*, concern_id: int) -> str:
    concern = (Concern.objects.select_for_update(skip_locked=True)
               .filter(pk=concern_id, state=Concern.State.CLOSED, outcome_sent_at__isnull=True).first())
    if concern is None:
        return "nothing to send"
    send_templated(to=concern.email, name="concern-outcome", language=concern.language,
                   context={"counts": outcome_counts(concern)})
    # The neighbour's address for mail served its purpose: nothing else is ever sent, so it is not kept.
    Concern.objects.filter(pk=concern.pk).update(outcome_sent_at=timezone.now(), email="")
    return "sent"
