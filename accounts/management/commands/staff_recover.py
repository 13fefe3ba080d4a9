"""The way back when no Administrator can sign in (all locked, disabled, or their phones lost). It needs a shell
on the server, which is the proof of authority here; each use goes into the ledger under the system user's name.

    manage.py staff_recover USERNAME [--set-password] [--remove-second-factor]
"""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from common.change_history import command_label


class Command(BaseCommand):
    help = "Unlocks and re-enables a staff account; optionally sets its password or removes its second factor."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--set-password", action="store_true", help="ask for a new password (twice)")
        parser.add_argument("--remove-second-factor", action="store_true",
                            help="remove its authenticator and recovery codes, so it enrols again")

    def handle(self, *args, username, set_password, remove_second_factor, **options):
        user = get_user_model().objects.filter(username__iexact=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        password = self._ask_password(user) if set_password else None
        done = services.account_recover(user=user, by=command_label(sys.argv), password=password,
                                        remove_second_factor=remove_second_factor)
        self.stdout.write(f"{user.get_username()}: {', '.join(done) or 'nothing to do'}. Recorded in the ledger.")

    def _ask_password(self, user) -> str:
        password = getpass.getpass("New password: ")
        if password != getpass.getpass("Again: "):
            raise CommandError("The passwords differ.")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        return password
