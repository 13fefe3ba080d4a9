"""Writes for public area requests: posting, approval, withdrawal, and the public's answers (email, confirmation,
clips, receipts)."""

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import Action
from audit.ledger import record
from common import outbox
from common.districts import district_of
from common.mail import send_templated
from public_requests import area, links
from public_requests.models import AnswerClip, PublicAnswer, PublicRequest
from requests_app import selectors as incident_selectors
from requests_app import services as incident_services
from requests_app.models import Incident


def _ledger_fields(public_request: PublicRequest) -> dict:
    incident = public_request.incident
    return {"target_type": "public_request", "target_code": public_request.code, "incident_code": incident.code,
            "case_number": incident.case_number, "offense_type": incident.offense_type,
            "district": district_of(incident.location)}


def public_request_validate(*, incident: Incident, starts_at, ends_at, answers_until, now=None) -> None:
    errors = {}
    if incident.status != Incident.Status.OPEN:
        errors["incident"] = "The case is closed: a public request needs an open case."
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "The footage window must end after it starts."
    if answers_until and answers_until <= (now or timezone.now()):
        errors["answers_until"] = "Answers must be taken until a time in the future."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def public_request_post(*, user, incident: Incident, area_drawn=None, starts_at, ends_at, answers_until,
                        summary: str) -> PublicRequest:
    """A request for footage of an incident's area, published at once or (CONNECT_PUBLIC_REQUESTS_APPROVAL) once a
    supervisor approves it."""
    if not incident_selectors.can_work_incident(user, incident):
        raise PermissionDenied("You may post public requests only for open cases you work on.")
    public_request_validate(incident=incident, starts_at=starts_at, ends_at=ends_at, answers_until=answers_until)
    shown = area.coarsened(area_drawn) if area_drawn else area.around(incident.location, incident.radius_m)
    public_request = PublicRequest.objects.create(
        incident=incident, area=area_drawn, public_area=shown, starts_at=starts_at, ends_at=ends_at,
        answers_until=answers_until, summary=summary.strip(), created_by=user)
    record(actor=user, action=Action.PUBLIC_REQUEST_POSTED, **_ledger_fields(public_request))
    if not settings.PUBLIC_REQUESTS_APPROVAL:
        _publish(public_request, user=user)
    return public_request


def public_request_area_set(*, public_request: PublicRequest, area_drawn) -> None:
    """Recomputes the public area after the exact one changed (the admin's form)."""
    incident = public_request.incident
    public_request.area = area_drawn
    public_request.public_area = (area.coarsened(area_drawn) if area_drawn
                                  else area.around(incident.location, incident.radius_m))


def _publish(public_request: PublicRequest, *, user) -> None:
    now = timezone.now()
    PublicRequest.objects.filter(pk=public_request.pk).update(state=PublicRequest.State.PUBLISHED, approved_by=user,
                                                              published_at=now)
    public_request.state, public_request.approved_by, public_request.published_at = \
        PublicRequest.State.PUBLISHED, user, now
    record(actor=user, action=Action.PUBLIC_REQUEST_PUBLISHED, **_ledger_fields(public_request))


@transaction.atomic
def public_request_approve(*, public_request: PublicRequest, user) -> None:
    """A supervisor's approval publishes a pending request; nobody approves their own."""
    if not user.has_perm("public_requests.approve_publicrequest"):
        raise PermissionDenied("Only a supervisor may approve public requests.")
    if public_request.created_by_id == user.pk:
        raise PermissionDenied("Another supervisor must approve a request you posted.")
    locked = PublicRequest.objects.select_for_update().get(pk=public_request.pk)
    if locked.state != PublicRequest.State.PENDING:
        raise ValidationError("Only a request waiting for approval can be approved.")
    if locked.incident.status != Incident.Status.OPEN:
        raise ValidationError("The case is closed.")
    _publish(public_request, user=user)


@transaction.atomic
def public_request_withdraw(*, public_request: PublicRequest, user) -> None:
    if not (incident_selectors.can_work_incident(user, public_request.incident)
            or user.has_perm("public_requests.approve_publicrequest")):
        raise PermissionDenied("You may withdraw only requests of your own cases.")
    changed = PublicRequest.objects.filter(pk=public_request.pk).exclude(
        state=PublicRequest.State.WITHDRAWN).update(state=PublicRequest.State.WITHDRAWN)
    if changed:
        public_request.state = PublicRequest.State.WITHDRAWN
        record(actor=user, action=Action.PUBLIC_REQUEST_WITHDRAWN, **_ledger_fields(public_request))


# --- answers from the public --------------------------------------------------------------------------

class RequestClosed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def public_request_open_check(public_request: PublicRequest, *, now=None) -> None:
    """RequestClosed (saying why, to the public) unless the request takes answers now."""
    if public_request.state != PublicRequest.State.PUBLISHED:
        raise RequestClosed(_("This request has been withdrawn."))
    if public_request.incident.status != Incident.Status.OPEN:
        raise RequestClosed(_("This case is closed; no footage is needed any more. Thank you."))
    if public_request.answers_until <= (now or timezone.now()):
        raise RequestClosed(_("This request no longer takes answers."))


@transaction.atomic
def public_answer_start(*, public_request: PublicRequest, email: str, language: str,
                        wants_to_register: bool) -> PublicAnswer:
    """An answer waiting for its email to be confirmed; the confirmation link goes out after the commit."""
    public_request_open_check(public_request)
    answer = PublicAnswer.objects.create(
        request=public_request, email=email.strip(), language=language, wants_to_register=wants_to_register,
        confirm_nonce=secrets.token_urlsafe(24), access_nonce=secrets.token_urlsafe(24))
    outbox.enqueue("public_requests.tasks.public_answer_confirmation_send_task", {"answer_id": answer.pk})
    return answer


def public_answer_confirmation_send(*, answer_id: int) -> str:
    answer = PublicAnswer.objects.select_related("request__incident").filter(
        pk=answer_id, state=PublicAnswer.State.UNCONFIRMED).first()
    if answer is None:
        return "nothing to send"
    send_templated(to=answer.email, name="public-answer-confirm", language=answer.language, context={
        "url": links.confirm_link(answer), "hours": links.CONFIRM_HOURS,
        "incident": answer.request.incident, "public_request": answer.request})
    return "sent"


@transaction.atomic
def public_answer_confirm(*, answer: PublicAnswer) -> bool:
    """Confirms the email once (the link is single-use); False if it was confirmed already."""
    return bool(PublicAnswer.objects.filter(pk=answer.pk, state=PublicAnswer.State.UNCONFIRMED).update(
        state=PublicAnswer.State.CONFIRMED, confirmed_at=timezone.now()))


def public_answer_upload(*, answer: PublicAnswer, uploads, keep_days: int):
    """The confirmed answer's sealed uploads, checked and stored as clips of the incident (requests_app), or the
    lot refused (ValidationError); the receipt goes to the uploader."""
    if answer.state != PublicAnswer.State.CONFIRMED:
        raise PermissionDenied("The email is not confirmed.")
    public_request_open_check(answer.request)
    incident = answer.request.incident
    clips = incident_services.public_clips_store(incident=incident, uploads=uploads, keep_days=keep_days,
                                                 answer_code=answer.code)
    with transaction.atomic():
        first = not AnswerClip.objects.filter(answer=answer).exists()
        AnswerClip.objects.bulk_create([AnswerClip(answer=answer, clip=clip) for clip in clips])
        if first:  # the public report counts people who shared, not files
            record(actor="public", action=Action.PUBLIC_ANSWER_SHARED, **_ledger_fields(answer.request))
        outbox.enqueue("public_requests.tasks.public_answer_receipt_send_task",
                       {"answer_id": answer.pk, "clip_ids": [clip.pk for clip in clips]})
    return clips


def public_answer_receipt_send(*, answer_id: int, clip_ids: list[int]) -> str:
    answer = PublicAnswer.objects.select_related("request__incident").filter(pk=answer_id).first()
    if answer is None:
        return "answer gone"
    clips = [link.clip for link in AnswerClip.objects.select_related("clip").filter(answer=answer,
                                                                                    clip_id__in=clip_ids)]
    send_templated(to=answer.email, name="public-answer-receipt", language=answer.language, context={
        "clips": clips, "url": links.access_link(answer), "incident": answer.request.incident,
        "public_request": answer.request,
        "register_url": (settings.PUBLIC_URL + "/register/?" + urlencode({"email": answer.email})
                         if answer.wants_to_register else "")})
    PublicAnswer.objects.filter(pk=answer.pk).update(receipt_sent_at=timezone.now())
    return "sent"


def public_clip_deletion_receipts_send(*, limit: int = 200) -> int:
    """Receipts for public clips the retention purge destroyed (requests_app sends owners theirs; the uploaders
    of public answers are ours). Each is marked once delivered to the mail server."""
    sent = 0
    pending = (AnswerClip.objects.filter(clip__purged_at__isnull=False, deletion_receipt_sent_at__isnull=True)
               .select_related("clip__incident", "answer__request").order_by("pk")[:limit])
    for link in pending:
        with transaction.atomic():
            if not AnswerClip.objects.select_for_update(skip_locked=True).filter(
                    pk=link.pk, deletion_receipt_sent_at__isnull=True).exists():
                continue
            send_templated(to=link.answer.email, name="public-clip-deleted", language=link.answer.language,
                           context={"clip": link.clip, "incident": link.clip.incident,
                                    "public_request": link.answer.request})
            AnswerClip.objects.filter(pk=link.pk).update(deletion_receipt_sent_at=timezone.now())
            sent += 1
    return sent


def public_answers_unconfirmed_purge(*, older_than_hours: int = 7 * 24) -> int:
    """Answers whose email was never confirmed hold an address and nothing else: gone after a week."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = PublicAnswer.objects.filter(state=PublicAnswer.State.UNCONFIRMED, created_at__lt=cutoff).delete()
    return deleted


def public_answer_emails_erase() -> int:
    """Erases the email of confirmed answers no receipt needs any more: every clip shared is deleted and its deletion
    receipt sent, or nothing was shared CONNECT_PUBLIC_ANSWER_EMAIL_KEEP_DAYS after confirming. The uploader's own
    link still opens their page; later mail (an agency's notice) has no address to go to, and says so in the ledger."""
    cutoff = timezone.now() - timedelta(days=settings.PUBLIC_ANSWER_EMAIL_KEEP_DAYS)
    confirmed = PublicAnswer.objects.filter(state=PublicAnswer.State.CONFIRMED).exclude(email="")
    receipt_owed = AnswerClip.objects.filter(answer=OuterRef("pk")).filter(
        Q(clip__purged_at__isnull=True) | Q(deletion_receipt_sent_at__isnull=True))
    with transaction.atomic():
        all_deleted = (confirmed.filter(answer_clips__isnull=False).exclude(Exists(receipt_owed))
                       .values_list("pk", flat=True).distinct())
        nothing_shared = confirmed.filter(answer_clips__isnull=True, confirmed_at__lt=cutoff).values_list("pk",
                                                                                                          flat=True)
        erased = PublicAnswer.objects.filter(pk__in=[*all_deleted, *nothing_shared]).update(email="")
        if erased:
            record(actor=None, action=Action.PUBLIC_ANSWER_EMAILS_ERASED, target_type="public_answer",
                   erased=erased, keep_days=settings.PUBLIC_ANSWER_EMAIL_KEEP_DAYS)
    return erased
