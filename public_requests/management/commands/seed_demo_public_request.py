"""Demo: an approved public request for case 26-004512 on /requests/ (posted by the demo investigator, approved by
the demo supervisor). Idempotent; demo mode only; run after seed_demo and seed_demo_incidents."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from public_requests import services
from public_requests.models import PublicRequest
from requests_app.models import Incident

CASE = "26-004512"


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_public_request runs only in demo mode (CONNECT_MODE=demo).")
        incident = Incident.objects.filter(case_number=CASE).first()
        if incident is None:
            raise CommandError(f"Run seed_demo_incidents first: case {CASE} is not there.")
        if PublicRequest.objects.filter(incident=incident).exists():
            return
        users = get_user_model().objects
        investigator, supervisor = users.get(username="investigator"), users.get(username="supervisor")
        posted = services.public_request_post(
            user=investigator, incident=incident, starts_at=incident.starts_at, ends_at=incident.ends_at,
            answers_until=timezone.now() + timedelta(days=14),
            summary="A parked car was broken into near Oberlin Road last night. If your camera saw people or "
                    "vehicles passing between these times, please share the footage.")
        if posted.state == PublicRequest.State.PENDING:
            services.public_request_approve(public_request=posted, user=supervisor)
        self.stdout.write(f"demo public request for {CASE} published")
