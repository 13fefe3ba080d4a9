"""The pilot's queue and its end: admits waiting signatures oldest first as places free, and after the program's last
day stops every live share (and purges registrations when CONNECT_PILOT_END_REGISTRATIONS=purge). Idempotent: beat
runs it every few minutes, and a stopped share runs it at once."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from common import outbox
from common.mail import send_templated
from integration import pilot, selectors, services
from integration.models import LiveShare, LiveShareWaiting
from registry import services as registry_services
from registry.models import Camera, Owner


def pilot_limits_apply(*, now=None) -> dict[str, int]:
    if pilot.program_ended(now):
        return pilot_end_apply()
    return {"admitted": queue_admit()}


def queue_admit() -> int:
    """Admits the oldest waiting signatures of each kind into the places free; drops those no longer eligible."""
    admitted = 0
    for kind in Owner.Kind.values:
        if pilot.program_ended():
            break
        with transaction.atomic():
            pilot.queue_lock(kind)
            free = pilot.places_left(kind)
            for waiting in LiveShareWaiting.objects.filter(kind=kind).select_related("camera__owner").order_by(
                    "signed_at"):
                if free is not None and free <= 0:
                    break
                camera = Camera.objects.select_for_update().get(pk=waiting.camera_id)
                problem = selectors.live_share_ineligible(camera)
                if problem or camera.owner.kind != kind or selectors.live_share_current(camera) is not None:
                    waiting.delete()  # paused, gone indoor, or shared already: its place goes to the next
                    continue
                services.live_share_create(camera=camera, signed_name=waiting.signed_name, signed_at=timezone.now(),
                                           ip=waiting.signed_ip, limits=waiting.limits, admitted=True)
                waiting.delete()
                _news(camera, "admitted")
                admitted += 1
                free = None if free is None else free - 1
    return admitted


def queue_admit_after_commit() -> None:
    """A place may have freed (a share stopped): admit the next once this transaction commits."""
    transaction.on_commit(queue_admit)


def pilot_end_apply() -> dict[str, int]:
    """The program is over: every live share stops, the queue empties, and registrations go if so set."""
    stopped = 0
    purging = settings.PILOT_END_REGISTRATIONS == "purge"
    for share in LiveShare.objects.filter(revoked_at__isnull=True).select_related("camera__owner"):
        if services.live_share_stop(camera=share.camera, by="program end"):
            stopped += 1
            if not purging:  # a purged owner gets the one mail below instead
                _news(share.camera, "pilot_ended")
    dropped = LiveShareWaiting.objects.all().delete()[0]
    purged = 0
    if purging:
        # Those who took part in the pilot; anyone registering afterwards joined a program that goes on.
        for owner in Owner.objects.filter(created_at__date__lte=settings.PILOT_ENDS).iterator():
            with transaction.atomic():  # the notice first: once deleted, nobody knows the address
                send_templated(to=owner.email, name="pilot-ended-purged", language=owner.language,
                               context={"owner": owner, "cameras": list(owner.cameras.all())})
                registry_services.owner_delete(owner=owner)
            purged += 1
    if stopped or dropped or purged:
        record(actor=None, action=Action.PILOT_ENDED, target_type="program", ended=str(settings.PILOT_ENDS),
               shares_stopped=stopped, queue_dropped=dropped, owners_purged=purged)
    return {"stopped": stopped, "dropped": dropped, "purged": purged}


def _news(camera: Camera, news: str) -> None:
    outbox.enqueue("integration.tasks.live_share_news_send_task", {"camera_id": camera.pk, "news": news})
