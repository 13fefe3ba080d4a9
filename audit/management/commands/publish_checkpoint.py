"""Adds the entries sealed since the last public checkpoint to the ledger's Merkle tree and signs a new checkpoint
(as beat does daily); exits 1, publishing nothing, if those entries do not verify."""

from django.core.management.base import BaseCommand, CommandError

from audit import publishing, signing


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        try:
            checkpoint = publishing.publish()
        except publishing.ChainBroken as exc:
            raise CommandError(f"nothing published: {exc}") from None
        if checkpoint is None:
            self.stdout.write("no entries since the last checkpoint: nothing published")
        else:
            self.stdout.write(f"published the {checkpoint.day} checkpoint of {checkpoint.tree_size} entries, root "
                              f"{checkpoint.root}, signed by key {signing.key_id()} ({signing.public_key_b64()})")
