"""Writes for invitation campaigns: create, send (mail) or print (letters), count visits and registrations,
unsubscribe. Mail goes through the outbox and common.mail's session, one message per recipient in their language."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from addresses.models import AddressPoint
from audit.actions import Action
from audit.ledger import record
from common import outbox
from common.mail import MailRefused, MailSession, render_templated
from invitations import codes
from invitations.models import Campaign, Recipient, Unsubscribe
from registry.selectors import owner_languages_by_email

log = logging.getLogger(__name__)


class CampaignTooLarge(Exception):
    """The area holds more addresses than one campaign may print."""

    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


def _multi(area: GEOSGeometry | None) -> MultiPolygon | None:
    if area is None:
        return None
    area = area.clone()
    area.srid = area.srid or 4326
    return area if isinstance(area, MultiPolygon) else MultiPolygon(area, srid=area.srid)


def _recipient_new(**fields) -> Recipient:
    """A recipient with a fresh short code (drawn again in the unlikely case it is taken)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Recipient.objects.create(short_code=codes.short_code_new(), **fields)
        except IntegrityError:
            continue
    raise RuntimeError("no free short code after 5 draws")


@transaction.atomic
def campaign_create_email(*, actor, name: str, language: str, rows: list[tuple[str, str]],
                          area: GEOSGeometry | None = None, district: str = "") -> Campaign:
    """An email campaign to `rows` (address, language or ""), not sent yet. A recipient's language: the one the
    list gives, else the one a registered owner chose, else the campaign's."""
    campaign = Campaign.objects.create(name=name, channel=Campaign.Channel.EMAIL, language=language,
                                       area=_multi(area), district=district, created_by=actor)
    known = owner_languages_by_email(emails=[address for address, _lang in rows])
    for address, row_language in rows:
        _recipient_new(campaign=campaign, email=address, email_hash=codes.email_hash(address),
                       language=row_language or known.get(address.strip().lower(), ""))
    return campaign


def addresses_in(area: GEOSGeometry):
    return AddressPoint.objects.filter(location__coveredby=area).order_by("search_text", "id")


@transaction.atomic
def campaign_create_letters(*, actor, name: str, language: str, area: GEOSGeometry, district: str = "") -> Campaign:
    """A letter campaign to every address point inside `area`, one letter (and code) each."""
    area = _multi(area)
    points = list(addresses_in(area).values_list("address", "location")[:settings.INVITE_LETTERS_MAX + 1])
    if len(points) > settings.INVITE_LETTERS_MAX:
        raise CampaignTooLarge(addresses_in(area).count())
    campaign = Campaign.objects.create(name=name, channel=Campaign.Channel.LETTER, language=language, area=area,
                                       district=district, created_by=actor)
    for address, location in points:
        _recipient_new(campaign=campaign, address=address, location=location, language=language)
    return campaign


def campaign_send(*, actor, campaign: Campaign) -> bool:
    """Queues an email campaign's mail once; False if it was queued already."""
    with transaction.atomic():
        claimed = Campaign.objects.filter(pk=campaign.pk, channel=Campaign.Channel.EMAIL,
                                          status=Campaign.Status.DRAFT).update(status=Campaign.Status.SENDING)
        if claimed:
            outbox.enqueue("invitations.tasks.campaign_mail_task",
                           {"campaign_id": campaign.pk, "actor_id": getattr(actor, "pk", None)})
    return bool(claimed)


def _unsubscribed(address: str) -> bool:
    """Whether the address unsubscribed, under the keyed hash or the unkeyed one stored before the key existed. A
    legacy entry found is rekeyed, so the unkeyed hashes left dwindle with every campaign."""
    keyed, legacy = codes.email_hash(address), codes.email_hash_legacy(address)
    if Unsubscribe.objects.filter(email_hash=keyed).exists():
        return True
    old = Unsubscribe.objects.filter(email_hash=legacy).first()
    if old is None:
        return False
    Unsubscribe.objects.filter(pk=old.pk).update(email_hash=keyed)
    return True


def landing_url(recipient: Recipient) -> str:
    return settings.PUBLIC_URL + reverse("invitations:landing", kwargs={"code": recipient.short_code})


def unsubscribe_url(address_hash: str) -> str:
    return settings.PUBLIC_URL + reverse("invitations:unsubscribe",
                                         kwargs={"token": codes.unsubscribe_token(address_hash)})


def invitation_mail(*, campaign: Campaign, recipient: Recipient):
    """The invitation to one recipient, in their language, with RFC 2369 / RFC 8058 unsubscribe headers."""
    unsubscribe = unsubscribe_url(codes.email_hash(recipient.email))
    message = render_templated(to=recipient.email, name="invitation", language=recipient.language or campaign.language,
                               context={"url": landing_url(recipient), "unsubscribe_url": unsubscribe})
    # The https link only: nothing reads the agency's mailbox for "unsubscribe" mail, so a mailto: would promise an
    # unsubscribe that depends on someone noticing it.
    message.extra_headers.update({"List-Unsubscribe": f"<{unsubscribe}>",
                                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return message


def campaign_mail(*, campaign_id: int, actor_id: int | None = None) -> str:
    """Sends what is unsent of a campaign, each recipient under a row lock (so a second copy of the task sends
    nothing twice), skipping addresses that unsubscribed. The address is cleared once its mail went out."""
    campaign = Campaign.objects.get(pk=campaign_id)
    sent = skipped = refused = 0
    with MailSession() as session:
        for pk in list(campaign.recipients.filter(sent_at__isnull=True).exclude(email="").values_list("pk", flat=True)):
            with transaction.atomic():
                recipient = (Recipient.objects.select_for_update(skip_locked=True)
                             .filter(pk=pk, sent_at__isnull=True).exclude(email="").first())
                if recipient is None:
                    continue
                if _unsubscribed(recipient.email):
                    Recipient.objects.filter(pk=pk).update(email="")
                    skipped += 1
                    continue
                try:
                    session.send(invitation_mail(campaign=campaign, recipient=recipient))
                except MailRefused as exc:
                    log.info("invitation %s refused: %s", recipient.short_code, exc)
                    if exc.permanent:
                        Recipient.objects.filter(pk=pk).update(email="")
                    refused += 1
                    continue
                Recipient.objects.filter(pk=pk).update(sent_at=timezone.now(), email="",
                                                       email_hash=codes.email_hash(recipient.email))
                sent += 1
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign_id).update(
            status=Campaign.Status.SENT, sent_at=timezone.now(),
            skipped_unsubscribed=F("skipped_unsubscribed") + skipped)
        record(actor=_actor(actor_id), action=Action.INVITATIONS_SENT, target_type="campaign",
               target_code=campaign.code, sent=sent, skipped_unsubscribed=skipped, refused=refused,
               campaign=campaign.name)
    return f"sent {sent}, skipped {skipped}, refused {refused}"


def _actor(actor_id: int | None):
    return get_user_model().objects.filter(pk=actor_id).first() if actor_id else None


def invitation_of(*, code: str) -> Recipient | None:
    return Recipient.objects.select_related("campaign").filter(short_code=code).first()


def invitation_visit(*, code: str) -> Recipient | None:
    """The recipient behind a landing code; their first visit is counted. Called on a person's action only (the
    landing page's button, a typed code), never on a GET a mail scanner makes."""
    recipient = invitation_of(code=code)
    if recipient is None:
        return None
    with transaction.atomic():
        if Recipient.objects.filter(pk=recipient.pk, visited_at__isnull=True).update(visited_at=timezone.now()):
            Campaign.objects.filter(pk=recipient.campaign_id).update(visits=F("visits") + 1)
    return recipient


def invitation_registered(*, code: str) -> bool:
    """A registration made from an invitation's landing page: counted once per invitation. Called inside the
    registration's transaction, so a registration that fails counts nothing."""
    code = codes.short_code_parsed(code)
    if not code:
        return False
    recipient = Recipient.objects.filter(short_code=code).values("pk", "campaign_id").first()
    if recipient is None:
        return False
    if Recipient.objects.filter(pk=recipient["pk"], registered_at__isnull=True).update(registered_at=timezone.now()):
        Campaign.objects.filter(pk=recipient["campaign_id"]).update(registrations=F("registrations") + 1)
        return True
    return False


@transaction.atomic
def invitation_lists_purge() -> int:
    """Erases the addresses of invitations never mailed, CONNECT_INVITE_LIST_KEEP_DAYS after their campaign was
    made: an unsent list is not kept. The hash stays (it names no one and counts nothing more)."""
    cutoff = timezone.now() - timedelta(days=settings.INVITE_LIST_KEEP_DAYS)
    erased = (Recipient.objects.filter(campaign__created_at__lt=cutoff, sent_at__isnull=True).exclude(email="")
              .update(email=""))
    if erased:
        record(actor=None, action=Action.INVITATION_LISTS_PURGED, target_type="invitation", erased=erased,
               keep_days=settings.INVITE_LIST_KEEP_DAYS)
    return erased


@transaction.atomic
def unsubscribe(*, token: str, one_click: bool) -> bool:
    """Stops every later invitation to the address behind `token`. False for a link that is not ours."""
    address_hash = codes.unsubscribe_hash(token)
    if address_hash is None:
        return False
    _entry, created = Unsubscribe.objects.get_or_create(email_hash=address_hash)
    if created:
        record(actor="invitation recipient", action=Action.INVITATIONS_UNSUBSCRIBED, target_type="unsubscribe",
               one_click=one_click)
    return True
