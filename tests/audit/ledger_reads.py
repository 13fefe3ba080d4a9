"""Reading what the ledger holds while a sealer may be running: entries move from pending to sealed in one
transaction, so sealed and pending are read in one statement (one snapshot). Read in two, an entry sealed between
them is in neither."""

from audit.models import AccessEntry, PendingEntry


def recorded_targets(action, **filters) -> list[str]:
    """The target codes of every entry with `action` (and `filters`), sealed or pending, one per entry."""
    sealed = AccessEntry.objects.filter(action=action, **filters).values_list("target_code", flat=True)
    pending = PendingEntry.objects.filter(action=action, **filters).values_list("target_code", flat=True)
    return list(sealed.union(pending, all=True))


def recorded_details(action, **filters) -> list[dict]:
    """The detail of every entry with `action` (and `filters`), sealed or pending, one per entry."""
    sealed = AccessEntry.objects.filter(action=action, **filters).values_list("detail", flat=True)
    pending = PendingEntry.objects.filter(action=action, **filters).values_list("detail", flat=True)
    return list(sealed.union(pending, all=True))
