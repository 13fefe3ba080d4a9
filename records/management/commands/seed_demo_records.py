"""Demo: a closed case whose footage the demo owner shared, ready for a records release (with
CONNECT_RECORDS_POLICY=releasable) or a refusal letter (confidential, the default). Idempotent; demo mode only."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from common import sealed
from records.demo import plate_scene_mp4
from registry.models import Camera
from requests_app import evidence, evidence_keys
from requests_app.models import Clip, FootageRequest, Incident

CASE = "26-003170"


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_records runs only in demo mode (CONNECT_MODE=demo).")
        if Incident.objects.filter(case_number=CASE).exists():
            return
        camera = Camera.objects.filter(owner__email="resident@example.org").order_by("pk").first()
        if camera is None:
            raise CommandError("run seed_demo first: the demo owner's camera shares the clip")
        investigator = get_user_model().objects.filter(username="investigator").first()
        now = timezone.now()
        writer = sealed.EncryptingWriter(str(evidence.evidence_dir() / "incoming-demo-records.cnev"))
        writer.write(plate_scene_mp4())
        writer.close()
        upload = evidence.SealedUpload(name="driveway-2026-03-02.mp4", path=Path(writer.path), size=writer.size,
                                       sha256=writer.sha256.hexdigest(), data_key=writer.data_key,
                                       lease=writer.lease)
        info = upload.media()
        upload.store()
        with transaction.atomic():
            incident = Incident.objects.create(
                case_number=CASE, offense_type="Hit and run", location=camera.location, address="Oberlin Rd",
                starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=40) + timedelta(hours=1),
                owner_summary="A parked car was hit on this block and the driver left.",
                internal_notes="Demo case for a public-records release.", created_by=investigator,
                status=Incident.Status.CLOSED, closed_at=now - timedelta(days=3))
            request = FootageRequest.objects.create(
                incident=incident, camera=camera, camera_label=camera.label, nonce=f"demo-records-{incident.code}",
                state=FootageRequest.State.UPLOADED, sent_at=now - timedelta(days=39),
                answered_at=now - timedelta(days=39))
            clip = Clip(code=upload.code, request=request, incident=incident, original_name=upload.name,
                        media_format=info.media_format, size=upload.size, sha256=upload.sha256,
                        duration_s=info.duration_s, width=info.width, height=info.height,
                        keep_days_after_close=settings.CLIP_KEEP_DAYS_MAX, uploaded_by="owner")
            clip.stored_name = upload.stored_as
            evidence_keys.clip_key_seal(clip, upload.data_key)
            clip.save()
            upload.kept = True
        self.stdout.write(f"demo closed case {CASE} with a shared clip created (records releases)")
