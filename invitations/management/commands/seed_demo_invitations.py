"""Demo: an email campaign to a few invented addresses in the Downtown district (sent: the mail lands in the demo
inbox, with its unsubscribe link) and a letter campaign to the address points of a few downtown blocks (its PDF
prints from the campaign page). Idempotent; demo mode only."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Polygon
from django.core.management.base import BaseCommand, CommandError

from common.districts import district_area
from invitations import services
from invitations.models import Campaign

EMAIL_CAMPAIGN = "Downtown neighbours (demo)"
LETTER_CAMPAIGN = "Downtown blocks letters (demo)"
DEMO_LIST = [("maria.lopez@example.org", "es"), ("james.carter@example.org", ""), ("li.wei@example.org", ""),
             ("ana.garcia@example.org", "es"), ("tom.baker@example.org", ""), ("sam.reed@example.org", "")]
# A few blocks of downtown (about 66 of the generated address points): dozens of letters, not thousands.
LETTER_AREA = (-78.6422, 35.7756, -78.6342, 35.7836)


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_invitations runs only in demo mode (CONNECT_MODE=demo).")
        admin = get_user_model().objects.filter(username="admin").first()
        if not Campaign.objects.filter(name=EMAIL_CAMPAIGN).exists():
            campaign = services.campaign_create_email(actor=admin, name=EMAIL_CAMPAIGN, language="en",
                                                      rows=DEMO_LIST, area=district_area("Downtown"),
                                                      district="Downtown")
            services.campaign_send(actor=admin, campaign=campaign)
            self.stdout.write(f"demo invitations mailed: {len(DEMO_LIST)}")
        if not Campaign.objects.filter(name=LETTER_CAMPAIGN).exists():
            area = Polygon.from_bbox(LETTER_AREA)
            area.srid = 4326
            campaign = services.campaign_create_letters(actor=admin, name=LETTER_CAMPAIGN, language="en", area=area)
            self.stdout.write(f"demo invitation letters: {campaign.recipients.count()}")
