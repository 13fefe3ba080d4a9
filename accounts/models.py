"""Sign-in attempts, account locks and the sessions each staff member holds.

The CJIS lockout (5 failures in 15 minutes) has two scopes: a user name from one address, which stays
locked until an Administrator unlocks it and ends the sessions signed in from that address, and the user
name from anywhere, which unlocks itself after CONNECT_LOCKOUT_UNLOCK_MINUTES (CJIS 5.5.3 allows 10
minutes) and only refuses new sign-ins. An attacker can thus keep someone from signing in anew for minutes
at a time, but cannot end their sessions from elsewhere, nor lock them out until an Administrator notices,
and one address cannot keep relocking a name. docs/SECURITY.md says why."""

from django.conf import settings
from django.db import models
from django.db.models import Q


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
    """A lock of a user name from one address (`address` set: until an Administrator unlocks it) or from
    everywhere (`address` empty: until `expires_at`, or an Administrator unlocks it sooner)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True,
                                           help_text="Empty: the user name is locked from every address.")
    locked_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until an administrator unlocks it.")
    reason = models.CharField(max_length=200)
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-locked_at"]
        indexes = [models.Index(fields=["locked_at"], name="account_lock_locked_at")]  # serves the ordering
        constraints = [models.UniqueConstraint(fields=["username", "address"], condition=Q(unlocked_at__isnull=True),
                                               nulls_distinct=False, name="one_open_lock_per_username_address")]

    def __str__(self):
        scope = f" from {self.address}" if self.address else ""
        return f"{self.username}{scope} locked {self.locked_at:%Y-%m-%d %H:%M}"


class StaffSession(models.Model):
    """Which sessions a user holds and where each signed in from, so signing out or a password reset can end all
    of them, and a lock from one address exactly those signed in from there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    address = models.GenericIPAddressField(null=True, blank=True, help_text="Where it signed in from.")

    def __str__(self):
        return f"{self.user_id} since {self.started_at:%Y-%m-%d %H:%M}"
