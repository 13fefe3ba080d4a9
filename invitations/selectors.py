"""Reads for campaign pages: the figures, suppressed under 5 so a small campaign does not point at a person."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from invitations.models import Campaign

SUPPRESS_UNDER = 5


def count_shown(value: int) -> str:
    return _("fewer than 5") if value < SUPPRESS_UNDER else str(value)


@dataclass(frozen=True)
class CampaignFigures:
    sends: str
    visits: str
    registrations: str
    skipped_unsubscribed: str
    waiting: int  # not yet sent (staff need the exact number to know the send is going on)


def campaign_figures(campaign: Campaign) -> CampaignFigures:
    recipients = campaign.recipients
    unsent = recipients.filter(sent_at__isnull=True)
    if campaign.channel == Campaign.Channel.EMAIL:
        unsent = unsent.exclude(email="")  # an address cleared unsent: it unsubscribed or was refused
    return CampaignFigures(
        sends=count_shown(recipients.filter(sent_at__isnull=False).count()),
        visits=count_shown(campaign.visits), registrations=count_shown(campaign.registrations),
        skipped_unsubscribed=count_shown(campaign.skipped_unsubscribed),
        waiting=unsent.count())


def campaigns_all():
    return Campaign.objects.select_related("created_by").order_by("-created_at")
