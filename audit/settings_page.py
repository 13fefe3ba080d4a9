"""Staff (administrators and auditors): every setting connect read, its value with secrets hidden, and where it
came from (the environment, a policy preset, or connect's default). Reading it is a ledger entry."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.actions import Action
from audit.ledger import record
from common.access import staff_permission_required


@require_GET
@staff_permission_required("audit.view_settings")
def settings_in_force(request):
    record(actor=request.user, action=Action.SETTINGS_VIEWED, target_type="settings")
    lookups = sorted(settings.SETTINGS_LOOKUPS.values(), key=lambda lookup: lookup.name)
    policy_names = set(settings.POLICY["values"])
    return render(request, "audit/settings.html", {
        "lookups": lookups, "policy": settings.POLICY, "policy_names": policy_names,
        "unread": settings.SETTINGS_UNREAD,
        # Policy variables this release does not read itself yet: shown with the value the preset or environment
        # gives them, for the parts of connect that will.
        "policy_unread": [(name, item) for name, item in sorted(settings.POLICY["values"].items())
                          if name not in settings.SETTINGS_LOOKUPS]})
