"""`record` is the one way to write the access ledger. audit imports no other app: callers pass plain values."""

from audit.models import AccessEntry


def _label(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def record(
    *, actor, action: str, target_type: str = "", target_code="", camera_code="", owner_code="",
    incident_code="", case_number: str = "", reason: str = "", **detail,
) -> AccessEntry:
    """Appends one entry. `actor` is a user, a label such as 'owner', or None for the system."""
    actor_id, actor_label = _label(actor)
    return AccessEntry.objects.create(
        actor_id=actor_id, actor_label=actor_label, action=action, target_type=target_type,
        target_code=str(target_code or ""), camera_code=str(camera_code or ""), owner_code=str(owner_code or ""),
        incident_code=str(incident_code or ""), case_number=case_number, reason=reason, detail=detail,
    )
