"""Demo: privacy training for the analyst and supervisor, and signed live shares for the demo's integrated
cameras (all hours, an incident within 300 m required, 30-minute views). Idempotent; demo mode only.

Shares are signed through the owners' own service (live_share_sign), so the ledger holds the same
live.share_signed entries the transparency report counts."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integration.models import LiveShare, TrainingRecord
from integration.services import live_share_sign
from registry.models import Camera

ALL_HOURS = {day: ["00:00", "24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DEMO_LIMITS = {"hours": ALL_HOURS, "incident_required": True, "incident_radius_m": 300, "max_session_minutes": 30,
               "notify_each_view": False}


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_live runs only in demo mode (CONNECT_MODE=demo).")
        today = timezone.localdate()
        for user in get_user_model().objects.filter(username__in=["analyst", "supervisor"]):
            if not TrainingRecord.objects.filter(user=user).exists():
                TrainingRecord.objects.create(user=user, completed_on=today - timedelta(days=40), hours=4,
                                              recorded_by="demo")
        current = LiveShare.objects.filter(revoked_at__isnull=True).values("camera_id")
        unshared = (Camera.objects.filter(level=Camera.Level.INTEGRATED, placement=Camera.Placement.OUTDOOR)
                    .exclude(pk__in=current).select_related("owner"))
        signed, refused = 0, []
        for camera in unshared:
            try:
                live_share_sign(camera=camera, signed_name=camera.owner.name, ip=None, limits=DEMO_LIMITS)
            except ValidationError as problem:  # e.g. a paused camera: left as it is, and said
                refused.append(f"{camera.code}: {' '.join(problem.messages)}")
                continue
            signed += 1
        if signed:
            self.stdout.write(f"demo live shares signed: {signed}")
        for line in refused:
            self.stderr.write(f"not shared live: {line}")
