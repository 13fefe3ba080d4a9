"""The access ledger. Entries carry labels as well as ids, so they stay readable after their subjects are purged.

Tamper evidence: every entry carries the SHA-256 of its own content and of the entry before it, so
editing, removing or inserting an entry breaks the chain (`manage.py audit_verify` finds where). The
database itself refuses UPDATE and DELETE on the table (migration 0002); only the retention purge may
delete entries past the retention period, and it leaves a signed checkpoint the chain continues from.
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

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "access entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


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
