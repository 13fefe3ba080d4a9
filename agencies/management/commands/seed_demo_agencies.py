"""Demo: outside agencies (issue 19). A federal agency and its agent; the legal reviewer; the demo owner's two
cameras answer case 26-004512 with a photo each; the agency's request without a warrant is refused, the one with a
warrant is approved for one camera's clip only, and that owner is told (the mail lands in the demo inbox).
Idempotent; demo mode only; after seed_demo and seed_demo_incidents."""

import io
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from PIL import Image, ImageDraw

from agencies import services
from agencies.models import OutsideAgency, RequestKind
from common import roles, sealed
from registry.models import Camera
from requests_app import evidence
from requests_app import services as request_services
from requests_app.models import FootageRequest, Incident

CASE = "26-004512"
AGENCY = "Federal Bureau of Examples (demo)"
PASSWORD = "connect-demo-2026"  # as seed_demo's staff


def _photo(label: str) -> bytes:
    image = Image.new("RGB", (320, 180), (40, 60, 90))
    ImageDraw.Draw(image).text((12, 80), f"{label}: demo frame", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _user(username: str, *, first: str, last: str) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={
        "first_name": first, "last_name": last, "email": f"{username}@example.gov"})
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_agencies runs only in demo mode (CONNECT_MODE=demo).")
        if OutsideAgency.objects.filter(name=AGENCY).exists():
            return
        incident = Incident.objects.filter(case_number=CASE).first()
        if incident is None:
            raise CommandError(f"Run seed_demo_incidents first: case {CASE} is missing.")
        reviewer = _user("lawyer", first="Robin", last="Castillo")
        reviewer.is_staff = True
        reviewer.save()
        reviewer.groups.add(Group.objects.get(name=roles.LEGAL_REVIEWER))
        agency = OutsideAgency.objects.create(name=AGENCY, type=OutsideAgency.Type.FEDERAL, jurisdiction_state="DC")
        agent = _user("federal", first="Morgan", last="Hale")
        services.agency_member_add(agency=agency, user=agent, actor=None)
        agent.refresh_from_db()
        clips = self._answers(incident)

        try:
            services.agency_request_file(user=agent, kind=RequestKind.CASE_FOOTAGE, legal_basis="subpoena",
                                         purpose="Interstate theft ring (demo)", case_number=CASE)
        except services.AgencyRequestRefused as refused:
            self.stdout.write(f"demo agency request refused: {refused.reason}")
        now = timezone.now()
        warrant = services.WarrantGiven(
            file=SimpleUploadedFile("warrant.pdf", b"%PDF-1.4\n% demo warrant for case 26-004512\n"),
            court="US District Court, E.D.N.C. (demo)", number="5:26-mj-0042", judge="Hon. Pat Example",
            signed_on=now.date(), scope=f"Video held by the program for case {CASE}",
            scope_kinds=[RequestKind.CASE_FOOTAGE], scope_case_number=CASE, scope_starts_at=None, scope_ends_at=None,
            expires_at=now + timedelta(days=30))
        filed = services.agency_request_file(user=agent, kind=RequestKind.CASE_FOOTAGE, legal_basis="warrant",
                                             purpose="Interstate theft ring (demo)", case_number=CASE,
                                             warrant=warrant)
        services.agency_request_approve(request=filed, reviewer=reviewer, until=now + timedelta(days=14),
                                        reason="Warrant 5:26-mj-0042 covers the case; the porch photo only",
                                        clip_codes=[clips[0].code])
        self.stdout.write(f"demo agency request approved for one clip: /agency/review/{filed.code}/")

    def _answers(self, incident):
        """The demo owner's cameras answer the case with a photo each, through the consent service."""
        made = []
        for camera in Camera.objects.filter(owner__email="resident@example.org").order_by("label")[:2]:
            request = FootageRequest.objects.create(
                incident=incident, camera=camera, camera_label=camera.label, nonce=f"demo-agency-{camera.code}",
                state=FootageRequest.State.SENT, sent_at=timezone.now(),
                expires_at=timezone.now() + timedelta(days=settings.REQUEST_LINK_DAYS))
            photo = _photo(camera.label)
            writer = sealed.EncryptingWriter(str(evidence.evidence_dir() / f"incoming-demo-{camera.code.hex}.cnev"))
            writer.write(photo)
            writer.close()
            upload = evidence.SealedUpload(name=f"{camera.label.lower().replace(' ', '-')}.jpg",
                                           path=Path(writer.path), size=writer.size,
                                           sha256=writer.sha256.hexdigest(), data_key=writer.data_key,
                                           lease=writer.lease)
            made += request_services.consent_upload(request=request, uploads=[upload], keep_days=90)
        return made
