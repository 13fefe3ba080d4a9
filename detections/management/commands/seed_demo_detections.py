"""Demo: a generated street clip shared for case 26-004512 by the owner of the camera nearest it, with a person in
a white hat and a backpack walking right from the third second, a passer-by and a car; queued for indexing like
any upload (the demo's worker indexes it). Idempotent; demo mode only."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from detections import synthetic
from registry.models import Camera
from registry.selectors import cameras_near
from requests_app import services
from requests_app.models import Clip, FootageRequest, Incident

CASE = "26-004512"
NAME = "oberlin-rd-driveway.mp4"
SUSPECT = synthetic.Figure("grey", "black", hat="white", bag=True, x=150, dx=110, start_s=2.0, height=260)
PASSER_BY = synthetic.Figure("red", "blue", x=1100, dx=-90, top=170, height=280)
CAR = synthetic.Vehicle("white", dx=280, start_s=4.0)


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_detections runs only in demo mode (CONNECT_MODE=demo).")
        incident = Incident.objects.filter(case_number=CASE).first()
        if incident is None or Clip.objects.filter(incident=incident, original_name=NAME).exists():
            return
        near = cameras_near(point=incident.location, radius_m=max(incident.radius_m, 2000), limit=1)
        if not near:
            self.stdout.write("no camera near the demo case: no demo clip")
            return
        camera = Camera.objects.get(code=near[0].code)
        request, _made = FootageRequest.objects.get_or_create(
            incident=incident, camera=camera, defaults={
                "camera_label": camera.label, "nonce": f"demo-detections-{incident.pk}", "state": "sent",
                "sent_at": timezone.now(), "expires_at": timezone.now() + timedelta(days=10)})
        video = synthetic.clip_mp4([SUSPECT, PASSER_BY], [CAR], seconds=8.0, fps=10)
        upload = services.sealed_upload_from_bytes(name=NAME, data=video)
        services.consent_upload(request=request, uploads=[upload], keep_days=settings.CLIP_KEEP_DAYS_MIN)
        self.stdout.write(f"demo clip {NAME} shared for {CASE}: the worker indexes it")
