"""The ledger's retention: `purge()` deletes entries past CONNECT_LEDGER_KEEP_DAYS behind a signed checkpoint."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import transparency
from audit.actions import Action
from audit.chain import checkpoint_signature
from audit.ledger.locks import PURGE_LOCK
from audit.ledger.writing import record
from audit.models import AccessEntry, LedgerCheckpoint


def purge(*, batch: int = 10000) -> int:
    """Deletes entries older than CONNECT_LEDGER_KEEP_DAYS (never under 365), after leaving a signed checkpoint
    at the last one, so audit_verify continues from there. Idempotent; a purge cut off half-way resumes.

    It holds a lock of its own, not the ledger's: sealing appends after the last entry and the purge removes
    the first ones, so appends carry on meanwhile (if it removes every entry, the next seal still chains to
    the last one, which is what the checkpoint holds)."""
    cutoff = timezone.now() - timedelta(days=settings.LEDGER_KEEP_DAYS)
    # `at` is the time of the event and `seq` the order of sealing, so `at` may dip slightly along the chain:
    # the purge stops before the first entry that is still too young, whatever follows it.
    old = AccessEntry.objects.filter(at__lt=cutoff)
    first_young = AccessEntry.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    if first_young is not None:
        old = old.filter(seq__lt=first_young)
    last = old.order_by("-seq").values("seq", "entry_hash").first()
    if last is None:
        return 0
    purged = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PURGE_LOCK])
            # The append-only trigger lets this transaction delete entries past the retention period.
            cursor.execute("SELECT set_config('connect.ledger_purge', 'on', true), "
                           "set_config('connect.ledger_keep_days', %s, true)", [str(settings.LEDGER_KEEP_DAYS)])
        LedgerCheckpoint.objects.get_or_create(upto_seq=last["seq"], defaults={
            "last_hash": last["entry_hash"], "purged": 0,
            "signature": checkpoint_signature(last["seq"], last["entry_hash"])})
        # Cameras signed into live sharing in the entries about to go, and not stopped since, stay integrated.
        integrated = transparency.integration_replay(AccessEntry.objects.filter(seq__lte=last["seq"]),
                                                     transparency.integrations_carried())
        while True:
            ids = list(AccessEntry.objects.filter(seq__lte=last["seq"]).values_list("pk", flat=True)[:batch])
            if not ids:
                break
            purged += AccessEntry.objects.filter(pk__in=ids).delete()[0]
        LedgerCheckpoint.objects.filter(upto_seq=last["seq"]).update(purged=purged)
        # Recorded with the deletion: the transparency report's "cameras integrated now" reads it
        record(actor=None, action=Action.LEDGER_PURGED, target_type="ledger", upto_seq=last["seq"], entries=purged,
               **{transparency.CARRIED: integrated})
    return purged
