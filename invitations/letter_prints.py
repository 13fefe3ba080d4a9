"""Writes for printed letters: a build is asked for (POST), a Celery task builds the PDF with its progress and seals
it, staff download it. Only the download counts as printing, in the ledger: one entry per download, and the letters
count as sent from the first."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from common import outbox
from invitations import letter_files, letters
from invitations.models import Campaign, LetterPrint

log = logging.getLogger(__name__)
_UNFINISHED = (LetterPrint.Status.QUEUED, LetterPrint.Status.BUILDING)


def letters_build_request(*, actor, campaign: Campaign) -> LetterPrint:
    """Queues a build of the campaign's letters; a build already waiting or under way is returned instead of a
    second one (a double click builds once)."""
    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=campaign.pk)  # two clicks at once: one build
        unfinished = campaign.prints.filter(status__in=_UNFINISHED).first()
        if unfinished is not None:
            return unfinished
        letter_print = LetterPrint.objects.create(campaign=campaign, requested_by=actor,
                                                  pages=campaign.recipients.count())
        outbox.enqueue("invitations.tasks.letters_build_task", {"print_id": letter_print.pk})
    return letter_print


def letters_build(*, print_id: int) -> str:
    """Builds and seals one queued PDF, reporting its pages as it goes; replaces the campaign's older builds."""
    if not LetterPrint.objects.filter(pk=print_id, status=LetterPrint.Status.QUEUED).update(
            status=LetterPrint.Status.BUILDING):
        return "not queued"
    letter_print = LetterPrint.objects.select_related("campaign").get(pk=print_id)

    def progress(done: int) -> None:
        LetterPrint.objects.filter(pk=print_id).update(pages_done=done)

    try:
        fields = letter_files.seal(letters.letters_pdf(letter_print.campaign, progress=progress))
    except Exception:
        log.exception("letters of campaign %s not built", letter_print.campaign.code)
        LetterPrint.objects.filter(pk=print_id).update(status=LetterPrint.Status.FAILED)
        return "failed"
    older = list(letter_print.campaign.prints.filter(status=LetterPrint.Status.READY).exclude(pk=print_id))
    LetterPrint.objects.filter(pk=print_id).update(status=LetterPrint.Status.READY, ready_at=timezone.now(),
                                                   pages_done=F("pages"), **fields)
    for stale in older:
        letter_files.delete(stale.stored_name)
        stale.delete()
    return f"built {letter_print.pages} pages"


@transaction.atomic
def letters_downloaded(*, actor, letter_print: LetterPrint) -> None:
    """A download of the built letters: the letters count as sent at the first, and each download is one ledger
    entry (who holds copies)."""
    campaign = letter_print.campaign
    now = timezone.now()
    first = campaign.recipients.filter(sent_at__isnull=True).update(sent_at=now)
    Campaign.objects.filter(pk=campaign.pk, sent_at__isnull=True).update(status=Campaign.Status.SENT, sent_at=now)
    record(actor=actor, action=Action.INVITATIONS_PRINTED, target_type="campaign", target_code=campaign.code,
           letters=letter_print.pages, first_printing=bool(first), campaign=campaign.name,
           build=str(letter_print.code))
