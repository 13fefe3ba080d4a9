"""The registry tells us an owner registered; a registration that came through an invitation is counted."""

from invitations import services


def registration_count(sender, owner, invite: str = "", **kwargs) -> None:
    services.invitation_registered(code=invite)
