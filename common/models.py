"""The transactional outbox's table (common/outbox.py): work to queue once the transaction that asked for it
has committed, kept until it has been handed to the broker."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    task = models.CharField(max_length=200, help_text="The Celery task's registered name")
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the broker took it; the row is then only history, deleted after a while (outbox.purge).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # A dispatcher holds the row until then; a dispatcher that died lets it go when this passes.
    leased_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True),
                                name="outbox_waiting")]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"

    @property
    def queued(self) -> bool:
        return self.dispatched_at is not None
