"""What `/admin/` opens on: the work of each role the signed-in user holds, in a few small panels.

Each panel reads only what its role may read (the same selectors and permissions as the pages it links to) and
shows counts, case numbers and staff names, never an owner's details: those stay one owner at a time, with a
reason, in the ledger (registry/admin.py). A panel is a title, rows of (text, figure, link) and a word for empty.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import AccountLock
from audit import publishing
from audit.ledger import backlog, sealer_holds_lock
from audit.models import AccessEntry
from audit.review import weekly_review
from common import roles
from common.access import is_outside
from integration.models import ConnectorToken, LiveSession, LiveShare
from integration.overrides import overrides_for_supervisor
from integration.selectors import training_valid_until
from requests_app.evidence import evidence_store_health
from requests_app.models import Clip, FootageRequest, Incident
from requests_app.selectors import incidents_visible_to, requests_for_police

QUIET_DAYS = 14  # an open case with nothing sent, answered or uploaded for this long "has no activity"
TRAINING_WARN_DAYS = 30
CONNECTOR_OFFLINE_AFTER = timedelta(minutes=10)


@dataclass
class Row:
    text: str
    figure: str = ""
    url: str = ""
    warn: bool = False


@dataclass
class Panel:
    title: str
    rows: list[Row] = field(default_factory=list)
    empty: str = "Nothing here."
    more_url: str = ""


def _admin(name: str, *args, query: str = "") -> str:
    return reverse(f"admin:{name}", args=args) + (f"?{query}" if query else "")


# --- investigators ---------------------------------------------------------------------------------------------

def my_open_cases(user) -> Panel:
    """The open cases the user may view (an investigator's assigned ones), newest first, with how far their
    requests have got as police see it: declines look like no answer (requests_app.selectors)."""
    cases = list(incidents_visible_to(user=user).filter(status=Incident.Status.OPEN).order_by("-created_at")[:10])
    ids = [case.pk for case in cases]
    states: dict[int, dict[str, int]] = {}
    for row in (requests_for_police(FootageRequest.objects.filter(incident_id__in=ids))
                .values("incident_id", "police_state").annotate(n=Count("id"))):
        states.setdefault(row["incident_id"], {})[row["police_state"]] = row["n"]
    week = timezone.now() - timedelta(days=7)
    new_clips = dict(Clip.objects.filter(incident_id__in=ids, uploaded_at__gte=week)
                     .values_list("incident_id").annotate(n=Count("id")))
    view = FootageRequest.PoliceView
    rows = []
    for case in cases:
        counts = states.get(case.pk, {})
        total = sum(counts.values())
        shared, none = counts.get(view.UPLOADED, 0), counts.get(view.NO_FOOTAGE, 0)
        waiting = counts.get(view.SENT, 0) + counts.get(view.OPENED, 0)
        figure = (f"{total} requests: {shared} shared clips, {none} no footage, {waiting} waiting"
                  if total else "no requests sent yet")
        if new_clips.get(case.pk):
            figure += f"; {new_clips[case.pk]} new clips this week"
        rows.append(Row(f"{case.case_number} {case.offense_type}", figure,
                        _admin("requests_app_incident_change", case.pk), warn=bool(new_clips.get(case.pk))))
    return Panel("My open cases", rows, "No open cases.", _admin("requests_app_incident_changelist",
                                                                  query="status__exact=open"))


# --- crime analysts ---------------------------------------------------------------------------------------------

def my_live_views(user) -> Panel:
    sessions = list(LiveSession.objects.filter(analyst=user).select_related("incident")
                    .order_by("-started_at")[:8])
    rows = []
    for session in sessions:
        case = session.incident.case_number if session.incident else "no case (override)"
        if session.ended_at is None:
            state = f"open until {timezone.localtime(session.ends_by):%H:%M}"
        else:
            state = f"{timezone.localtime(session.started_at):%Y-%m-%d %H:%M}, {session.minutes} min"
        rows.append(Row(f"Camera view for {case}", state, _admin("integration_livesession_change", session.pk),
                        warn=session.ended_at is None))
    return Panel("My live views", rows, "No live views yet.",
                 _admin("integration_livesession_changelist") if user.has_perm("integration.view_livesession") else "")


def my_training(user) -> Panel:
    until = training_valid_until(user)
    today = timezone.localdate()
    if until is None:
        row = Row("Live-view privacy training", "none on record: live views are refused", warn=True)
    elif until < today:
        row = Row("Live-view privacy training", f"expired on {until:%Y-%m-%d}: live views are refused", warn=True)
    else:
        days = (until - today).days
        row = Row("Live-view privacy training", f"valid until {until:%Y-%m-%d} ({days} days)",
                  warn=days <= TRAINING_WARN_DAYS)
    return Panel("My training", [row])


# --- supervisors -------------------------------------------------------------------------------------------------

def overrides_to_review() -> Panel:
    """Live views opened this week without an incident nearby, on a supervisor's written reason."""
    week = timezone.now() - timedelta(days=7)
    sessions = (LiveSession.objects.filter(started_at__gte=week).exclude(override_reason="")
                .select_related("analyst").order_by("-started_at")[:10])
    rows = [Row(f"{s.analyst.get_username()}: {Truncator(s.override_reason).chars(80)}",
                f"{timezone.localtime(s.started_at):%Y-%m-%d %H:%M}", _admin("integration_livesession_change", s.pk),
                warn=True) for s in sessions]
    return Panel("Overrides this week", rows, "No overrides this week.",
                 _admin("integration_livesession_changelist"))


def overrides_waiting(user) -> Panel:
    rows = [Row(f"Case {o.incident.case_number}: {o.analyst.get_username()} asks", f"decide by "
                f"{timezone.localtime(o.decide_by):%H:%M}", reverse("integration:overrides") + f"#override-{o.code}",
                warn=True) for o in overrides_for_supervisor(user).pending]
    return Panel("Override requests waiting for you", rows, "None waiting.", reverse("integration:overrides"))


def quiet_cases() -> Panel:
    cutoff = timezone.now() - timedelta(days=QUIET_DAYS)
    cases = (Incident.objects.filter(status=Incident.Status.OPEN, created_at__lt=cutoff)
             .annotate(last_sent=Max("requests__sent_at"), last_answer=Max("requests__answered_at"),
                       last_clip=Max("clips__uploaded_at"))
             .filter(Q(last_sent__lt=cutoff) | Q(last_sent__isnull=True))
             .filter(Q(last_answer__lt=cutoff) | Q(last_answer__isnull=True))
             .filter(Q(last_clip__lt=cutoff) | Q(last_clip__isnull=True))
             .order_by("created_at")[:10])
    rows = [Row(f"{c.case_number} {c.offense_type}", f"opened {timezone.localtime(c.created_at):%Y-%m-%d}",
                _admin("requests_app_incident_change", c.pk)) for c in cases]
    return Panel(f"Open cases without activity for {QUIET_DAYS} days", rows, "Every open case is moving.")


# --- auditors ----------------------------------------------------------------------------------------------------

def unusual_access() -> Panel:
    review = weekly_review()
    figures = [
        ("Clips opened outside an assigned case", len(review["evidence_outside_case"])),
        ("Live views without an incident", len(review["live_without_incident"])),
        ("Supervisor overrides", len(review["overrides"])),
        ("Evidence integrity failures", len(review["integrity_failures"])),
        ("Accounts locked", len(review["locks"])),
        ("Map searches without a case", sum(row["n"] for row in review["searches_without_case"])),
        ("Owner contact details opened", sum(row["n"] for row in review["contact_views"])),
    ]
    rows = [Row(text, str(n), warn=bool(n) and text != "Owner contact details opened") for text, n in figures]
    return Panel("This week's unusual access", rows, more_url=reverse("audit:search"))


def chain_head() -> Panel:
    head = AccessEntry.objects.order_by("-seq").values("seq", "entry_hash", "at").first()
    checkpoint = publishing.latest()
    rows = [Row("Newest entry", f"#{head['seq']} at {timezone.localtime(head['at']):%Y-%m-%d %H:%M}, hash "
                f"{head['entry_hash'][:16]}…") if head else Row("Newest entry", "the ledger is empty")]
    rows.append(Row("Last public checkpoint", f"{checkpoint.day:%Y-%m-%d}, {checkpoint.tree_size} entries"
                    if checkpoint else "none published yet", reverse("audit:checkpoints"), warn=checkpoint is None))
    return Panel("The ledger", rows, more_url=reverse("audit:search"))


# --- administrators -----------------------------------------------------------------------------------------------

def locked_accounts() -> Panel:
    now = timezone.now()
    locks = (AccountLock.objects.filter(unlocked_at__isnull=True)
             .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("-locked_at")[:10])
    rows = [Row(f"{lock.username}{f' from {lock.address}' if lock.address else ''}", lock.reason,
                _admin("accounts_accountlock_change", lock.pk), warn=True) for lock in locks]
    return Panel("Locked accounts", rows, "No account is locked.", _admin("accounts_accountlock_changelist"))


def offline_connectors() -> Panel:
    """Cameras shared live whose connector has not been heard from lately (or never)."""
    cutoff = timezone.now() - CONNECTOR_OFFLINE_AFTER
    live = LiveShare.objects.filter(revoked_at__isnull=True).values("camera_id")
    tokens = (ConnectorToken.objects.filter(revoked_at__isnull=True, camera_id__in=live)
              .filter(Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True)).select_related("camera")
              .order_by("last_used_at")[:10])
    rows = [Row(f"Connector {t.prefix}… (camera {str(t.camera.code)[:8]})",
                f"last heard {timezone.localtime(t.last_used_at):%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                _admin("integration_connectortoken_change", t.pk), warn=True) for t in tokens]
    return Panel("Connectors offline", rows, "Every live camera's connector was heard from in the last 10 minutes.",
                 _admin("integration_connectortoken_changelist"))


def failed_sends() -> Panel:
    week = timezone.now() - timedelta(days=7)
    failed = (FootageRequest.objects.filter(state=FootageRequest.State.FAILED, created_at__gte=week)
              .values("incident__case_number").annotate(n=Count("id")).order_by("-n")[:10])
    rows = [Row(f"Case {row['incident__case_number']}", f"{row['n']} requests failed to send", warn=True)
            for row in failed]
    return Panel("Footage requests that failed to send this week", rows, "None failed.")


def services() -> Panel:
    store = evidence_store_health()
    if not store.reachable:
        store_row = Row("Evidence store", "unreachable", warn=True)
    elif store.free_bytes is not None and store.free_bytes < settings.HEALTH_MIN_FREE_MB * 1024 * 1024:
        store_row = Row("Evidence store", f"low on space: {store.free_bytes // 2**20} MiB free", warn=True)
    else:
        store_row = Row("Evidence store", "ok")
    waiting = backlog()
    running = sealer_holds_lock()
    sealer_row = Row("Ledger sealer", ("running" if running else "stopped: writers seal their own entries")
                     + (f", {waiting.count} entries waiting {waiting.lag_seconds:.0f} s" if waiting.count else ""),
                     warn=not running or waiting.lag_seconds > settings.HEALTH_SEALER_LAG_S)
    return Panel("Services", [store_row, sealer_row])


# --- who sees what -------------------------------------------------------------------------------------------------

# --- records officers ------------------------------------------------------------------------------------------

def records_work() -> Panel:
    """The records policy in force and the releases waiting for their decision (records/)."""
    from records.models import Redaction, Release

    url = reverse("records:dashboard")
    pending = Release.objects.filter(decision=Release.Decision.PENDING)
    failed = Redaction.objects.filter(release__in=pending, state=Redaction.State.FAILED).count()
    rows = [Row("Records policy in force", settings.RECORDS_POLICY, url),
            Row("Releases waiting for a decision", str(pending.count()), url)]
    if failed:
        rows.append(Row("Redactions that failed", str(failed), url, warn=True))
    return Panel("Public records", rows, more_url=url)


ROLE_PANELS = {
    roles.INVESTIGATOR: (my_open_cases,),
    roles.CRIME_ANALYST: (my_live_views, my_training),
    roles.SUPERVISOR: (overrides_waiting, overrides_to_review, quiet_cases, my_open_cases),
    roles.AUDITOR: (unusual_access, chain_head),
    roles.ADMINISTRATOR: (locked_accounts, offline_connectors, failed_sends, services),
    roles.RECORDS_OFFICER: (records_work,),
}
NEEDS_USER = {my_open_cases, my_live_views, my_training, overrides_waiting}


def panels_for(user) -> list[tuple[str, list[Panel]]]:
    """(role, its panels) for each role the user holds, in a fixed order; each panel made once. None for an outside
    agency's account, whatever groups it was given (its permissions are all refused)."""
    if is_outside(user):
        return []
    held = set(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        held |= {roles.ADMINISTRATOR, roles.AUDITOR}
    made, result = set(), []
    for role, makers in ROLE_PANELS.items():
        if role not in held:
            continue
        panels = [maker(user) if maker in NEEDS_USER else maker() for maker in makers if maker not in made]
        made.update(makers)
        if panels:
            result.append((role, panels))
    return result
