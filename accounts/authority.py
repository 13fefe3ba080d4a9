"""Who may change whose account. Administrators run staff accounts, but a superuser's or another Administrator's
password, roles, permissions, active state and second factor are out of their reach: otherwise one
Administrator's account (or a stolen session of it) takes over every other, up to the superuser."""

from common import roles


def is_administrator(user) -> bool:
    return user.groups.filter(name=roles.ADMINISTRATOR).exists()


def may_manage(*, actor, target) -> bool:
    """Whether `actor` may change `target`'s credentials, roles or state (None: a new account)."""
    if actor.is_superuser or target is None:
        return True
    if target.pk == actor.pk:
        return False  # one's own roles and password go through other doors (the password form asks the old one)
    return not (target.is_superuser or is_administrator(target))
