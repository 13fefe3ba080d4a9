"""Writes for a neighbour's concern: submit, confirm, ask the owners of the cameras that see it, the owners'
answers, and the outcome mailed to the neighbour. Every step is in the ledger; mail goes through the outbox."""

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import Action
from audit.ledger import record
from common import outbox
from concerns import links, pending_mask, selectors
from concerns.links import ConcernLinkError
from concerns.mailing import outcome_counts
from concerns.models import Concern, OwnerAsk
from integration import services as integration_services
from integration.selectors import owner_masks_of
from registry.models import Camera, Owner


def concern_submit(*, email: str, address: str, latitude: float, longitude: float, text: str,
                   language: str) -> Concern:
    """A new, unconfirmed concern; the confirmation mail goes out after commit. Staff see nothing until the
    neighbour confirms their address by the link."""
    with transaction.atomic():
        concern = Concern.objects.create(email=email.strip(), address=address.strip(), text=text.strip(),
                                         location=Point(longitude, latitude, srid=4326), language=language,
                                         confirm_nonce=links.new_nonce())
        outbox.enqueue("concerns.tasks.concern_confirmation_send_task", {"concern_id": concern.pk})
    return concern


def concern_confirm(*, token: str) -> Concern:
    """Uses the neighbour's link once; the concern is then open for staff."""
    nonce = links.link_nonce(token=token, purpose=links.CONFIRM)
    with transaction.atomic():
        concern = Concern.objects.select_for_update().filter(confirm_nonce=nonce).first()
        if concern is None:
            raise ConcernLinkError(_("This link is no longer valid."))
        if concern.state != Concern.State.UNCONFIRMED:
            raise ConcernLinkError(_("This link has already been used."))
        concern.state, concern.confirmed_at = Concern.State.OPEN, timezone.now()
        concern.save(update_fields=["state", "confirmed_at"])
        record(actor="neighbour", action=Action.CONCERN_RECEIVED, target_type="concern", target_code=concern.code)
    return concern


def concern_confirm_check(*, token: str) -> None:
    """Whether the neighbour's link can still be used (for the page GET shows); raises ConcernLinkError."""
    nonce = links.link_nonce(token=token, purpose=links.CONFIRM)
    concern = Concern.objects.filter(confirm_nonce=nonce).first()
    if concern is None:
        raise ConcernLinkError(_("This link is no longer valid."))
    if concern.state != Concern.State.UNCONFIRMED:
        raise ConcernLinkError(_("This link has already been used."))


def concern_cameras_view(*, concern: Concern, user) -> list[selectors.CoveringCamera]:
    """The cameras covering the concern, for staff: each owner reads in their history that staff looked."""
    covering = selectors.cameras_covering(concern)
    for camera in covering:
        record(actor=user, action=Action.CONCERN_CAMERAS_VIEWED, target_type="camera", target_code=camera.code,
               camera_code=camera.code, owner_code=camera.owner_code, concern=str(concern.code))
    return covering


def concern_asks_view(*, concern: Concern, user) -> list[OwnerAsk]:
    """The cameras whose owners were asked about the concern, for staff (once asked or closed): a read of those
    cameras like the look-up before the ask, so each owner reads in their history that staff looked."""
    asks = list(concern.asks.select_related("camera__owner"))
    for ask in asks:
        record(actor=user, action=Action.CONCERN_CAMERAS_VIEWED, target_type="camera", target_code=ask.camera.code,
               camera_code=ask.camera.code, owner_code=ask.camera.owner.code, concern=str(concern.code))
    return asks


def concern_owners_ask(*, concern: Concern, user) -> int:
    """Asks the owner of every camera covering the concern by email; masks the home in their live views until they
    answer when CONNECT_CONCERN_MASK_PENDING is on. With no camera covering it, the concern closes at once and the
    neighbour is told so. Returns how many cameras' owners were asked."""
    with transaction.atomic():
        concern = Concern.objects.select_for_update().get(pk=concern.pk)
        if concern.state != Concern.State.OPEN:
            raise ValidationError("The owners were already asked about this concern.")
        codes = [c.code for c in selectors.cameras_covering(concern)]
        cameras = list(Camera.objects.select_related("owner").filter(code__in=codes))
        for camera in cameras:
            ask = OwnerAsk.objects.create(concern=concern, camera=camera, link_nonce=links.new_nonce())
            record(actor=user, action=Action.CONCERN_OWNER_ASKED, target_type="camera", target_code=camera.code,
                   camera_code=camera.code, owner_code=camera.owner.code, concern=str(concern.code))
            outbox.enqueue("concerns.tasks.owner_ask_send_task", {"ask_id": ask.pk})
            if settings.CONCERN_MASK_PENDING and camera.level == Camera.Level.INTEGRATED:
                _mask_hold(ask=ask, camera=camera, concern=concern)
        concern.state, concern.asked_at = Concern.State.ASKED, timezone.now()
        concern.save(update_fields=["state", "asked_at"])
        if not cameras:
            _close(concern=concern, actor=user)
    return len(cameras)


def _mask_hold(*, ask: OwnerAsk, camera: Camera, concern: Concern) -> None:
    band = pending_mask.home_band(camera_lng=camera.longitude, camera_lat=camera.latitude,
                                  direction_deg=camera.direction_deg, field_of_view_deg=camera.field_of_view_deg,
                                  home_lng=concern.location.x, home_lat=concern.location.y)
    if band is None:
        return
    integration_services.pending_mask_place(camera=camera, points=band, held_for=_held_for(ask))
    record(actor=None, action=Action.CONCERN_MASK_HELD, target_type="camera", target_code=camera.code,
           camera_code=camera.code, owner_code=camera.owner.code, concern=str(concern.code))


def _held_for(ask: OwnerAsk) -> str:
    return f"concern-ask:{ask.code}"


def ask_link_use(*, token: str) -> OwnerAsk:
    """Uses an owner's emailed link once: the view then signs the owner in to the portal on the request."""
    nonce = links.link_nonce(token=token, purpose=links.ASK)
    with transaction.atomic():
        claimed = OwnerAsk.objects.filter(link_nonce=nonce, link_used_at__isnull=True).update(
            link_used_at=timezone.now())
        ask = OwnerAsk.objects.select_related("camera__owner").filter(link_nonce=nonce).first()
    if ask is None:
        raise ConcernLinkError(_("This link is no longer valid."))
    if claimed != 1:
        raise ConcernLinkError(_("This link has already been used. Sign in to the owner portal to see the "
                                 "request."))
    return ask


def ask_link_pages(ask: OwnerAsk) -> list[str]:
    """What an owner's emailed link opens: the request's page, and its camera's mask editor and still picture."""
    camera = ask.camera.code
    return [reverse("concerns:portal_detail", args=[ask.code]), reverse("integration:portal_masks", args=[camera]),
            reverse("integration:portal_still", args=[camera])]


def ask_link_check(*, token: str) -> None:
    nonce = links.link_nonce(token=token, purpose=links.ASK)
    ask = OwnerAsk.objects.filter(link_nonce=nonce).first()
    if ask is None:
        raise ConcernLinkError(_("This link is no longer valid."))
    if ask.link_used_at is not None:
        raise ConcernLinkError(_("This link has already been used. Sign in to the owner portal to see the "
                                 "request."))


def ask_answer(*, ask: OwnerAsk, owner: Owner, answer: str) -> None:
    """The owner's answer. 'Masked' needs a mask the owner drew on that camera; the mask held pending the answer is
    lifted either way (the owner decides). The last answer closes the concern and mails the neighbour."""
    if answer not in (OwnerAsk.Answer.REAIMED, OwnerAsk.Answer.MASKED, OwnerAsk.Answer.DECLINED):
        raise ValidationError(_("Choose one of the answers."))
    if answer == OwnerAsk.Answer.MASKED:
        _masks_hide_home_check(ask)
    with transaction.atomic():
        ask = OwnerAsk.objects.select_for_update().select_related("camera", "concern").get(pk=ask.pk,
                                                                                         camera__owner=owner)
        if not ask.is_pending:
            raise ValidationError(_("You have already answered this request."))
        ask.answer, ask.answered_at = answer, timezone.now()
        ask.save(update_fields=["answer", "answered_at"])
        integration_services.pending_masks_lift(held_for=_held_for(ask))
        record(actor="owner", action=Action.CONCERN_ANSWERED, target_type="camera", target_code=ask.camera.code,
               camera_code=ask.camera.code, owner_code=owner.code, concern=str(ask.concern.code), answer=answer)
        concern = Concern.objects.select_for_update().get(pk=ask.concern_id)
        if concern.state == Concern.State.ASKED and not concern.asks.filter(answer=OwnerAsk.Answer.PENDING).exists():
            _close(concern=concern, actor=None)


def _masks_hide_home_check(ask: OwnerAsk) -> None:
    """A 'masked' answer stands only if the owner's masks hide the home where it falls in the camera's picture
    (placed from the camera's direction and field of view, as the held mask is): any mask elsewhere is no answer."""
    masks = owner_masks_of(ask.camera_id)
    if not masks:
        raise ValidationError(_("This camera has no privacy mask yet: draw one over that home first, then "
                                "answer."))
    camera, home = ask.camera, ask.concern.location
    span = pending_mask.home_span(camera_lng=camera.longitude, camera_lat=camera.latitude,
                                  direction_deg=camera.direction_deg, field_of_view_deg=camera.field_of_view_deg,
                                  home_lng=home.x, home_lat=home.y)
    if span is None or pending_mask.masks_cover_span(masks, span):
        return
    raise ValidationError(_(
        "Your privacy mask does not hide that home yet. In this camera's picture the home is between "
        "%(left)d%% and %(right)d%% of the width from the left edge, around the middle of the height: draw the mask "
        "over that part, save it, then answer.")
        % {"left": math.floor(span[0] * 100), "right": math.ceil(span[1] * 100)})


def concern_close(*, concern: Concern, user) -> None:
    """Staff close a concern whose owners have not all answered: those count as 'did not answer'."""
    with transaction.atomic():
        concern = Concern.objects.select_for_update().get(pk=concern.pk)
        if concern.state != Concern.State.ASKED:
            raise ValidationError("Only a concern whose owners were asked can be closed.")
        for ask in concern.asks.filter(answer=OwnerAsk.Answer.PENDING):
            integration_services.pending_masks_lift(held_for=_held_for(ask))
        concern.asks.filter(answer=OwnerAsk.Answer.PENDING).update(answer=OwnerAsk.Answer.UNANSWERED)
        _close(concern=concern, actor=user)


def _close(*, concern: Concern, actor) -> None:
    concern.state, concern.closed_at = Concern.State.CLOSED, timezone.now()
    concern.save(update_fields=["state", "closed_at"])
    counts = outcome_counts(concern)
    record(actor=actor, action=Action.CONCERN_CLOSED, target_type="concern", target_code=concern.code, **counts)
    outbox.enqueue("concerns.tasks.concern_outcome_send_task", {"concern_id": concern.pk})


UNCONFIRMED_KEEP_DAYS = 7


def concerns_purge() -> str:
    """Deletes concerns never confirmed after a week (an email, an address and a text, nothing more), and erases the
    email and free text of concerns closed more than CONNECT_CONCERN_KEEP_DAYS ago. A run that purges anything
    leaves a ledger entry with the counts."""
    now = timezone.now()
    with transaction.atomic():
        deleted = Concern.objects.filter(state=Concern.State.UNCONFIRMED,
                                         created_at__lt=now - timedelta(days=UNCONFIRMED_KEEP_DAYS)).delete()[0]
        erased = (Concern.objects.filter(state=Concern.State.CLOSED,
                                         closed_at__lt=now - timedelta(days=settings.CONCERN_KEEP_DAYS))
                  .exclude(email="", text="").update(email="", text=""))
        if deleted or erased:
            record(actor=None, action=Action.CONCERNS_PURGED, target_type="concern", deleted=deleted, erased=erased,
                   keep_days=settings.CONCERN_KEEP_DAYS, unconfirmed_keep_days=UNCONFIRMED_KEEP_DAYS)
    return f"deleted {deleted}, erased {erased}"
