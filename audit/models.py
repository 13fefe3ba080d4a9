"""The access ledger. Entries carry labels as well as ids, so they stay readable after their subjects are purged.

This is the first, plain form of the ledger; hash chaining, append-only triggers and retention belong to
the accountability issue and extend this table.
"""

from django.db import models


class AccessEntry(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
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

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "access entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
