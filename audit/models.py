"""The access ledger. Entries carry labels as well as ids, so they stay readable after their subjects are purged.

Tamper evidence: every entry carries an HMAC of its own content and of the entry before it, so editing,
removing or inserting an entry breaks the chain (`manage.py audit_verify` finds where). The database itself
refuses UPDATE and DELETE on the table (audit/sql/); only the retention purge may delete entries past the
retention period, and it leaves a signed checkpoint the chain continues from.

Writing happens in two steps (audit/ledger/, its SQL in audit/sql/). `record()` inserts a `PendingEntry`,
without any lock, in the caller's transaction; sealing then moves pending entries into the chain in batches
under one lock. So:

- `at` is the time of the event: when `record()` was called (UTC), not when the entry was sealed.
- `seq` is the order of sealing. Entries are sealed within milliseconds, or when the caller's transaction
  commits, or (after a crash in between) by the next seal: the next writer, `audit_verify` or the beat task
  every minute. So `at` rises with `seq` only roughly: an entry recorded early in a long transaction gets a
  later `seq` than entries recorded meanwhile by others.
"""

from django.db import models
from django.utils import timezone


class AccessEntry(models.Model):
    seq = models.BigIntegerField(unique=True, help_text="Position in the chain, from 1")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True, help_text="user name, 'owner' or 'system'")
    action = models.CharField(max_length=48, db_index=True)
    target_type = models.CharField(max_length=48, blank=True)
    target_code = models.CharField(max_length=64, blank=True, db_index=True)
    camera_code = models.CharField(max_length=64, blank=True, db_index=True)
    owner_code = models.CharField(max_length=64, blank=True, db_index=True)
    incident_code = models.CharField(max_length=64, blank=True, db_index=True)
    case_number = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    # The pending entry this was sealed from (None before migration 0004). Not covered by the hash: it is what
    # lets the database allow a pending entry's DELETE (only once this row exists), and makes sealing once-only.
    pending_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "access entries"
        # The staff settings page (every setting, its value with secrets hidden, and where it came from).
        permissions = [("view_settings", "Can view the settings in force and their sources")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class PendingEntry(models.Model):
    """An entry recorded but not yet sealed into the chain: normally for milliseconds.

    The database refuses UPDATE, and allows DELETE only of an entry whose identical copy is in the chain
    (audit/sql/), so a pending entry leaves only by being sealed. `mac` (HMAC under CONNECT_LEDGER_KEY over
    the id and the content but `unit`) is checked before sealing: a row written into this table by anything
    but `record()` is never sealed and `audit_verify` names it. Readers never see pending entries.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=48)
    target_type = models.CharField(max_length=48, blank=True)
    target_code = models.CharField(max_length=64, blank=True)
    camera_code = models.CharField(max_length=64, blank=True)
    owner_code = models.CharField(max_length=64, blank=True)
    incident_code = models.CharField(max_length=64, blank=True)
    case_number = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    mac = models.CharField(max_length=64)
    # The actor's role(s), read from the role tables by the INSERT; sealing puts it in `detail` as "unit".
    unit = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "pending entries"
        # Sealing takes the oldest first; the table churns, so this index also keeps scans off its dead rows.
        indexes = [models.Index(fields=["at", "id"], name="audit_pending_at_id")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} (pending)"


class LedgerCheckpoint(models.Model):
    """Left by a retention purge: the chain's state at the last purged entry, signed (HMAC) by the server."""

    created_at = models.DateTimeField(default=timezone.now)
    upto_seq = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64)
    purged = models.PositiveIntegerField()
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-upto_seq"]

    def __str__(self):
        return f"checkpoint at entry {self.upto_seq}"


class LedgerTreeBlock(models.Model):
    """One complete, aligned subtree of the public Merkle tree over the chain (audit/merkle.py): level 0 holds each
    entry's leaf hash, level k the hash of 2^k leaves from index * 2^k. Kept when the entries are purged, so every
    published checkpoint stays provable. A changed row cannot pass: proofs are checked against signed roots."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="audit_tree_block_unique")]

    def __str__(self):
        return f"tree block {self.level}/{self.index}"


class PublishedCheckpoint(models.Model):
    """A signed statement, published daily, of the public Merkle tree's size and root and the chain's head
    (audit/publishing.py). Anyone holding the public key can check it, and that a later one extends it."""

    created_at = models.DateTimeField(default=timezone.now)
    day = models.DateField()
    first_seq = models.BigIntegerField(help_text="The entry that is leaf 0")
    tree_size = models.BigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    chain_head = models.CharField(max_length=64)
    statement = models.TextField(help_text="Exactly the text signed")
    signature = models.CharField(max_length=128, help_text="Ed25519, base64")
    key_id = models.CharField(max_length=16)

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self):
        return f"checkpoint of {self.day} ({self.tree_size} entries)"
