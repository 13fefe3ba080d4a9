"""Records the policy in force in the ledger if it differs from the last one recorded (`make run` runs it at start,
beat every five minutes): one entry per change of policy, not per process start."""

from django.conf import settings
from django.core.management.base import BaseCommand

from audit import policy


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        label = settings.POLICY["label"] or "no preset"
        if policy.policy_record_if_changed():
            self.stdout.write(f"recorded the policy in force ({label}, {settings.POLICY['fingerprint'][:12]})")
        else:
            self.stdout.write(f"policy unchanged ({label})")
