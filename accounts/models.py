"""Sign-in attempts and account locks: the CJIS lockout (5 failures in 15 minutes locks until unlocked)."""

from django.conf import settings
from django.db import models


class SignInAttempt(models.Model):
    username = models.CharField(max_length=150, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.username} {'ok' if self.succeeded else 'failed'} {self.at:%Y-%m-%d %H:%M}"


class AccountLock(models.Model):
    """A locked account stays locked until an administrator unlocks it."""

    username = models.CharField(max_length=150, db_index=True)
    locked_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200)
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-locked_at"]
        constraints = [models.UniqueConstraint(fields=["username"], condition=models.Q(unlocked_at__isnull=True),
                                               name="one_open_lock_per_username")]

    def __str__(self):
        return f"{self.username} locked {self.locked_at:%Y-%m-%d %H:%M}"
