"""API tokens for other systems (dispatch, vehicle location): one per integration, limited to the scopes it
needs, stored as a SHA-256 of the token (the token itself is shown once, when created), revocable."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Scope(models.TextChoices):
    REGISTRY_READ = "registry:read", "registry:read: cameras (no owner details)"
    DISPATCH_READ = "dispatch:read", "dispatch:read: calls for service and officer positions"
    DISPATCH_WRITE = "dispatch:write", "dispatch:write: push calls for service"
    POSITIONS_WRITE = "positions:write", "positions:write: push officer positions"


class ApiToken(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="The system using it, e.g. 'CAD (Motorola)'")
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Shown to tell tokens apart")
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices), default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A system of an outside agency: its scopes open nothing (api.permissions); it reaches only what a legal
    # reviewer approved for that agency (agencies).
    agency = models.ForeignKey("agencies.OutsideAgency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="api_tokens")

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def label(self) -> str:
        """The actor's name in the access ledger."""
        return f"api:{self.name}"
