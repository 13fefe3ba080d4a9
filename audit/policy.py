"""The program's policy in force: in plain words for /transparency/, and each change of it recorded in the ledger.

Settings build `settings.POLICY` (connect/env.py `policy_in_force`): the preset's name and version, every policy
variable's value and source, and a fingerprint over them. This module reads settings only, so it stays below
every app. Variables another part of connect parses (records, warrants) are read as typed settings when they
exist, else as the raw value settings saw.
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.actions import Action
from audit.ledger import record
from audit.models import AccessEntry, PendingEntry

_POLICY_LOCK = 0x706F6C69  # "poli": one recorder at a time, so a change is one entry however many processes start

# Agency kinds a warrant rule may name (CONNECT_WARRANT_REQUIRED_TYPES), in plain words.
_AGENCY_KINDS = {
    "federal": gettext_lazy("federal agencies"),
    "police": gettext_lazy("other police departments"),
    "prosecutor": gettext_lazy("prosecutors' offices"),
    "other": gettext_lazy("other outside agencies"),
}


def _records_policy() -> str:
    return settings.RECORDS_POLICY


def _objection_days() -> int:
    return settings.RECORDS_OBJECTION_DAYS


def _warrant_kinds() -> list[str]:
    return [kind.strip().lower() for kind in settings.WARRANT_REQUIRED_TYPES if kind.strip()]


def _program_state() -> str:
    return settings.PROGRAM_STATE


def _kind_words(kind: str) -> str:
    if kind == "out_of_state":
        return _("any agency from outside %(state)s") % {"state": _program_state()}
    return str(_AGENCY_KINDS.get(kind, kind))


def _live_words() -> str:
    if settings.LIVE_RESIDENTIAL_ALLOWED:
        return _("Allowed for residents' cameras as for businesses', within the limits each owner sets.")
    return _("Not allowed for residents' cameras: only businesses' and the agency's own cameras may be watched live.")


def _training_words() -> str:
    hours = ngettext("%(hours)s hour", "%(hours)s hours", settings.TRAINING_MIN_HOURS) % {
        "hours": settings.TRAINING_MIN_HOURS}
    return _("Crime analysts need at least %(hours)s of privacy training, renewed every %(days)s days, before "
             "any live view.") % {"hours": hours, "days": settings.TRAINING_VALID_DAYS}


def _records_words() -> str:
    if _records_policy() == "releasable":
        return _("Once a case is closed, its shared footage (with faces, licence plates and private areas blurred) "
                 "and the registry (without owners' personal details) may be released on a public-records "
                 "request. Owners are told first and have %(days)s days to object.") % {"days": _objection_days()}
    return _("Shared video and the camera registry are confidential: they are never released on a public-records "
             "request.")


def _warrant_words() -> str:
    words = _warrant_rule_words()
    if not settings.AGENCY_LIVE_VIEWS:
        words += " " + _("No outside agency is ever given a live view.")
    return words


def _warrant_rule_words() -> str:
    kinds = _warrant_kinds()
    if not kinds:
        return _("No kind of outside agency needs a warrant under this policy; every request still names its "
                 "legal basis and is approved or refused by the program's legal reviewer.")
    words = [_kind_words(kind) for kind in kinds]
    if len(words) > 1:
        words = [_("%(some)s and %(last)s") % {"some": ", ".join(words[:-1]), "last": words[-1]}]
    return _("A warrant or court order is required before %(kinds)s receive any footage, camera locations or live "
             "view.") % {"kinds": words[0]}


def _pilot_words() -> str:
    caps = settings.LIVE_MAX_PER_KIND
    labels = {"agency": gettext_lazy("the agency's cameras"), "business": gettext_lazy("businesses' cameras"),
              "resident": gettext_lazy("residents' cameras")}
    limits = [_("%(count)s of %(kind)s") % {"count": caps[kind], "kind": labels[kind]}
              for kind in ("agency", "business", "resident") if caps.get(kind)]
    parts = []
    if limits:
        parts.append(_("At most these cameras share live at once: %(limits)s.") % {"limits": ", ".join(limits)})
    if settings.PILOT_ENDS:
        day = date_format(settings.PILOT_ENDS, "DATE_FORMAT")
        if settings.PILOT_DAYS and settings.PILOT_STARTS:
            parts.append(_("A %(days)s-day pilot, from %(start)s to %(end)s; live sharing stops after it.") % {
                "days": settings.PILOT_DAYS, "start": date_format(settings.PILOT_STARTS, "DATE_FORMAT"), "end": day})
        else:
            parts.append(_("The pilot ends on %(end)s; live sharing stops after it.") % {"end": day})
    return " ".join(parts) or _("Not a pilot: no limit on how many cameras share live, and no end date.")


def _retention_words() -> str:
    return _("Owners choose how long their clips are kept after a case closes, between %(min)s and %(max)s days. "
             "Details of live viewing sessions are kept %(live)s days; the access ledger, %(ledger)s days.") % {
        "min": settings.CLIP_KEEP_DAYS_MIN, "max": settings.CLIP_KEEP_DAYS_MAX,
        "live": settings.LIVE_SESSION_KEEP_DAYS, "ledger": settings.LEDGER_KEEP_DAYS}


RULES = (
    (gettext_lazy("Live view of residents' cameras"), _live_words),
    (gettext_lazy("Training"), _training_words),
    (gettext_lazy("Public records"), _records_words),
    (gettext_lazy("Outside agencies"), _warrant_words),
    (gettext_lazy("Pilot"), _pilot_words),
    (gettext_lazy("Retention"), _retention_words),
)


def policy_in_plain_words() -> dict:
    """For /transparency/: the policy's name and version, whether settings changed it, and each rule in words."""
    policy = settings.POLICY
    from_env = sorted(name for name, item in policy["values"].items() if item["source"] == "environment")
    if policy["name"]:
        title = format_lazy(gettext_lazy("The {name} policy, version {version}"), name=policy["name"].capitalize(),
                            version=policy["version"])
    else:
        title = gettext_lazy("connect's default policy (no preset)")
    return {"title": title, "label": policy["label"], "fingerprint": policy["fingerprint"][:12],
            "changed_by_settings": from_env, "rules": [(heading, words()) for heading, words in RULES]}


def _last_recorded_fingerprint() -> str | None:
    """The newest policy entry's fingerprint, sealed or still pending."""
    for model, order in ((PendingEntry, "-at"), (AccessEntry, "-seq")):
        detail = (model.objects.filter(action=Action.POLICY_APPLIED).order_by(order)
                  .values_list("detail", flat=True).first())
        if detail is not None:
            return detail.get("fingerprint")
    return None


def policy_record_if_changed() -> bool:
    """Records the policy in force when it differs from the last one recorded: one entry per change, however many
    processes start with it. True when it recorded."""
    policy = settings.POLICY
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_POLICY_LOCK])
        previous = _last_recorded_fingerprint()
        if previous == policy["fingerprint"]:
            return False
        record(actor=None, action=Action.POLICY_APPLIED, target_type="policy", target_code=policy["label"] or "none",
               fingerprint=policy["fingerprint"], previous=previous or "", preset=policy["label"],
               values=policy["values"])
    return True
