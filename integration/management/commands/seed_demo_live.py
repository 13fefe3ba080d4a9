"""Demo: privacy training for the analyst and supervisor, and signed live shares for the demo's integrated
cameras (all hours, an incident within 300 m required, 30-minute views). Idempotent; demo mode only."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integration.models import LiveShare, TrainingRecord
from registry.models import Camera


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
        now = timezone.now()
        shares = [LiveShare(camera=camera, terms_version=settings.LIVE_TERMS_VERSION, signed_name=camera.owner.name,
                            signed_at=now) for camera in unshared]
        LiveShare.objects.bulk_create(shares, batch_size=1000)
        if shares:
            self.stdout.write(f"demo live shares signed: {len(shares)}")
