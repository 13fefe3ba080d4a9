"""The public transparency report, built from the access ledger alone (so it stays true after purges).

Aggregates only: never an individual, never who declined. Counts from 0 to 4 are shown as "fewer than 5"; in
the breakdowns, where the month's total would give such a count away, it is "withheld" with another cell.
"""

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from audit.actions import Action
from audit.models import AccessEntry

SMALL = 5
FORMAT = 8  # of monthly()'s result, as cached by audit.views: raise it whenever its shape changes
KINDS = ("resident", "business", "agency")
ANSWERS = {"uploaded": "clips", "no_footage": "no_footage", "declined": "declined"}
REQUEST_ACTIONS = {Action.REQUEST_MAILED: "sent", Action.REQUEST_ANSWERED: None, Action.REQUEST_LAPSED: "unanswered"}
REQUEST_FIGURES = ("sent", "clips", "no_footage", "declined", "unanswered")
# Public area requests (public_requests): requests published, and people who shared clips in answer.
PUBLIC_ACTIONS = {Action.PUBLIC_REQUEST_PUBLISHED: "public_requests", Action.PUBLIC_ANSWER_SHARED: "public_answers",
                  # Searches of a case's clips by object and attribute (detections; never faces).
                  Action.DETECTIONS_SEARCHED: "attribute_searches",
                  # Live watches set on cases' live views, and the matches they marked on one (never faces).
                  Action.LIVE_WATCH_SET: "live_watches", Action.LIVE_WATCH_MATCH_SHOWN: "live_watch_matches"}
LIVE_FIGURES = ("live_sessions", "live_minutes", "overrides")
BREAKDOWN_FIGURES = REQUEST_FIGURES + LIVE_FIGURES
# Neighbours' concerns (the concerns app): concerns confirmed, camera owners asked, and the owners' answers.
CONCERN_FIGURES = ("concerns", "concern_owners_asked", "concern_masked", "concern_reaimed", "concern_declined")
CONCERN_ACTIONS = {Action.CONCERN_RECEIVED: "concerns", Action.CONCERN_OWNER_ASKED: "concern_owners_asked"}
CONCERN_ANSWERS = {"masked": "concern_masked", "reaimed": "concern_reaimed", "declined": "concern_declined"}
BREAKDOWNS = ("offense", "district")  # each of those figures is also given per offense type and per district
NO_INCIDENT = "no incident (allowed by the owner)"
# The ledger holds no entry per decline (one would tell auditors which request was declined): the app that keeps
# the requests registers a counter here at start-up (requests_app.apps). Each counter(since=) yields rows
# {"month": date, "offense_type", "district", "n"}: declines the ledger records as "request.lapsed", like
# unanswered requests. (Declines from before that are still "request.answered" entries, counted above.)
decline_counters: list = []


def shown(count: int) -> str:
    # Zero too: "0" beside "fewer than 5" would tell whether anyone at all near a known case declined.
    return "fewer than 5" if count < SMALL else str(count)


SMALL_GROUPS = "other (groups with fewer than 5 requests and fewer than 5 live views)"
WITHHELD = "withheld"


def _withhold(cells: dict, total: int) -> set:
    """The cells of one line (one figure across groups, summing to `total`) to show as "withheld" so no count
    under 5 can be worked out from the total shown above it (complementary suppression).

    The counts under 5 and the smallest other cell are withheld together, under one label that says nothing of
    their size: a reader learns only that they add up to the rest of the total, at least 5 across two or more
    groups, so each could be anything from 0 to that sum. (A separate label for the added cell would say it is 5
    or more, and the sum would then narrow the small ones.)"""
    small = {g for g, v in cells.items() if v < SMALL}
    if total < SMALL or not small:  # the total says nothing, or there is nothing to protect
        return set()
    others = sorted((g for g in cells if g not in small), key=lambda g: (cells[g], g))
    return small | set(others[:1])  # with the smallest other (at least 5), two or more cells summing to 5 or more


def breakdown_shown(month: dict, by: str) -> dict:
    """One breakdown of a month as published: counts under 5 as "fewer than 5", or, where the month's total
    would give them away, "withheld" together with one more cell (`_withhold`)."""
    groups = month[f"by_{by}"]
    cells = {group: {figure: shown(value) for figure, value in figures.items()} for group, figures in groups.items()}
    for figure in BREAKDOWN_FIGURES:
        for group in _withhold({g: figures[figure] for g, figures in groups.items()}, month[figure]):
            cells[group][figure] = WITHHELD
    return dict(sorted(cells.items()))


def _merge_small_groups(groups: dict) -> dict:
    """A group with fewer than five requests and five live views would describe single cases: such groups are
    pooled."""
    merged = defaultdict(lambda: dict.fromkeys(BREAKDOWN_FIGURES, 0))
    for name, figures in groups.items():
        target = name if figures["sent"] >= SMALL or figures["live_sessions"] >= SMALL else SMALL_GROUPS
        for figure, value in figures.items():
            merged[target][figure] += value
    return dict(merged)


def _month_starts(months: int, today: date) -> list[date]:
    year, month = today.year, today.month
    starts = []
    for _month in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _blank() -> dict:
    return {"registered": dict.fromkeys(KINDS, 0), "newly_integrated": dict.fromkeys(KINDS, 0),
            **dict.fromkeys(REQUEST_FIGURES, 0), **dict.fromkeys(CONCERN_FIGURES, 0),
            **dict.fromkeys(PUBLIC_ACTIONS.values(), 0),
            "answer_seconds": [], "live_sessions": 0, "live_minutes": 0,
            "overrides": 0, **{f"by_{by}": defaultdict(lambda: dict.fromkeys(BREAKDOWN_FIGURES, 0))
                               for by in BREAKDOWNS}}


def _groups(action: str, offense_type, district) -> dict:
    """The offense-type and district groups of one ledger entry. Live views without an incident record an
    empty offense type; entries from before the report grouped live views record none."""
    if action.startswith("live.") and offense_type == "":
        offense = NO_INCIDENT
    else:
        offense = offense_type or "other"
    return {"offense": offense, "district": district or "unknown"}


def monthly(*, months: int = 12, today: date | None = None) -> list[dict]:
    starts = _month_starts(months, today or datetime.now(UTC).date())
    data = {start: _blank() for start in starts}
    since = datetime.combine(starts[0], datetime.min.time(), UTC)
    rows = (AccessEntry.objects.filter(at__gte=since, action__in=(
                Action.CAMERA_REGISTERED, Action.REQUEST_MAILED, Action.REQUEST_ANSWERED,
                Action.REQUEST_LAPSED, Action.LIVE_ENDED, Action.LIVE_OVERRIDE, *CONCERN_ACTIONS,
                Action.CONCERN_ANSWERED, *PUBLIC_ACTIONS))
            .annotate(month=TruncMonth("at", tzinfo=UTC))
            .values("month", "action", "detail__kind", "detail__answer", "detail__offense_type", "detail__district")
            .annotate(n=Count("id")))
    for row in rows:
        month = data.get(row["month"].date())
        if month is None:
            continue
        action, n = row["action"], row["n"]
        if action == Action.CAMERA_REGISTERED:
            if row["detail__kind"] in KINDS:
                month["registered"][row["detail__kind"]] += n
            continue
        if action in CONCERN_ACTIONS or action == Action.CONCERN_ANSWERED:
            figure = CONCERN_ACTIONS.get(action) or CONCERN_ANSWERS.get(row["detail__answer"])
            if figure:
                month[figure] += n
            continue
        if action in PUBLIC_ACTIONS:
            month[PUBLIC_ACTIONS[action]] += n  # totals only: a request is one case, so no breakdown
            continue
        if action == Action.LIVE_ENDED:
            figure = "live_sessions"
        elif action == Action.LIVE_OVERRIDE:
            figure = "overrides"
        elif action != Action.REQUEST_ANSWERED:
            figure = REQUEST_ACTIONS[action]
        elif row["detail__answer"] in ANSWERS:
            figure = ANSWERS[row["detail__answer"]]
        else:
            continue
        month[figure] += n
        for by, group in _groups(action, row["detail__offense_type"], row["detail__district"]).items():
            month[f"by_{by}"][group][figure] += n
    _retract_replaced_answers(data, since)
    _add_declines(data, since)
    _add_newly_integrated(data, since)
    _add_live_minutes(data, since)  # before groups are pooled: minutes are grouped like the views
    for month in data.values():
        for by in BREAKDOWNS:
            month[f"by_{by}"] = _merge_small_groups(month[f"by_{by}"])
    _add_answer_times(data, since)
    return [{"month": start, **data[start]} for start in starts]


# --- Integration. A camera becomes integrated when its owner signs the live-sharing terms (live.share_signed; no
# live view without them) and stops being so when the share is stopped, by the owner, by staff or with the
# camera's deletion (live.share_stopped). Signing entries written before they carried the owner's kind take it
# from the camera's registration entry.
SIGNED, STOPPED = Action.LIVE_SHARE_SIGNED, Action.LIVE_SHARE_STOPPED
CARRIED = "integrated_cameras"  # in a ledger.purged entry: {camera code: kind} integrated as of the purged entries


def _registered_kinds(codes: set) -> dict[str, str]:
    if not codes:
        return {}
    return dict(AccessEntry.objects.filter(action=Action.CAMERA_REGISTERED, camera_code__in=codes)
                .values_list("camera_code", "detail__kind"))


def integration_replay(entries, state: dict[str, str]) -> dict[str, str]:
    """`state` ({camera code: owner kind} of integrated cameras) carried through the signings and stoppings
    among `entries`, in the ledger's order."""
    rows = list(entries.filter(action__in=[SIGNED, STOPPED]).order_by("seq")
                .values_list("action", "camera_code", "detail__kind"))
    registered = _registered_kinds({code for action, code, kind in rows if action == SIGNED and kind not in KINDS})
    state = dict(state)
    for action, code, kind in rows:
        if action == STOPPED:
            state.pop(code, None)
        else:
            state[code] = kind if kind in KINDS else registered.get(code, "unknown")
    return state


def integrations_carried() -> dict[str, str]:
    """The integrated cameras as of the entries the retention purges removed, as the latest purge recorded them."""
    carried = (AccessEntry.objects.filter(action=Action.LEDGER_PURGED, detail__has_key=CARRIED).order_by("-seq")
               .values_list(f"detail__{CARRIED}", flat=True).first())
    return carried if isinstance(carried, dict) else {}


def integrated_now() -> dict[str, int]:
    """Cameras shared live at this moment, per kind of owner."""
    state = integration_replay(AccessEntry.objects.all(), integrations_carried())
    counts = dict.fromkeys(KINDS, 0)
    for kind in state.values():
        if kind in counts:
            counts[kind] += 1
    return counts


def _add_newly_integrated(data: dict, since: datetime) -> None:
    """Cameras whose owner signed the live-sharing terms in the month (each camera once a month)."""
    rows = list(AccessEntry.objects.filter(at__gte=since, action=SIGNED).values_list("at", "camera_code",
                                                                                     "detail__kind"))
    registered = _registered_kinds({code for _, code, kind in rows if kind not in KINDS})
    seen = set()
    for at, code, kind in rows:
        start, kind = date(at.year, at.month, 1), kind if kind in KINDS else registered.get(code)
        if start in data and kind in KINDS and (start, code) not in seen:
            seen.add((start, code))
            data[start]["newly_integrated"][kind] += 1


def _add_answer_times(data: dict, since: datetime) -> None:
    for at, seconds in AccessEntry.objects.filter(at__gte=since, action=Action.REQUEST_ANSWERED).values_list(
            "at", "detail__answer_seconds"):
        month = data.get(date(at.year, at.month, 1))
        if month is not None and isinstance(seconds, int):
            month["answer_seconds"].append(seconds)
    for month in data.values():
        times = month.pop("answer_seconds")
        # A median of fewer than five answers would say too much about the few who answered.
        month["median_hours"] = round(statistics.median(times) / 3600, 1) if len(times) >= SMALL else None


def _retract_replaced_answers(data: dict, since: datetime) -> None:
    """An owner who answered "no footage" and shared clips later is one request answered with clips: the ledger
    keeps both answers (the later one names the `earlier_answer` it replaces), and the earlier one stops counting
    in its own month."""
    later = AccessEntry.objects.filter(at__gte=since, action=Action.REQUEST_ANSWERED, detail__has_key="earlier_answer")
    for seq, code, earlier in later.values_list("seq", "target_code", "detail__earlier_answer"):
        figure = ANSWERS.get(earlier)
        replaced = (AccessEntry.objects.filter(at__gte=since, action=Action.REQUEST_ANSWERED, target_code=code,
                                               seq__lt=seq, detail__answer=earlier)
                    .order_by("-seq").values_list("at", "detail__offense_type", "detail__district").first())
        if figure is None or replaced is None:  # the earlier answer is before the report's months
            continue
        at, offense_type, district = replaced
        month = data.get(date(at.year, at.month, 1))
        if month is None:
            continue
        month[figure] -= 1
        for by, group in _groups(Action.REQUEST_ANSWERED, offense_type, district).items():
            month[f"by_{by}"][group][figure] -= 1


def _add_declines(data: dict, since: datetime) -> None:
    for counter in decline_counters:
        for row in counter(since=since):
            month = data.get(row["month"])
            if month is None:
                continue
            cells = [month] + [month[f"by_{by}"][group] for by, group in
                               _groups(Action.REQUEST_ANSWERED, row["offense_type"], row["district"]).items()]
            for cell in cells:  # recorded as lapses in the ledger: declined, not unanswered
                cell["declined"] += row["n"]
                cell["unanswered"] = max(0, cell["unanswered"] - row["n"])


def _add_live_minutes(data: dict, since: datetime) -> None:
    ended = AccessEntry.objects.filter(at__gte=since, action=Action.LIVE_ENDED)
    for at, minutes, offense_type, district in ended.values_list("at", "detail__minutes", "detail__offense_type",
                                                                 "detail__district"):
        month = data.get(date(at.year, at.month, 1))
        if month is not None and isinstance(minutes, int | float):
            month["live_minutes"] += round(minutes)
            for by, group in _groups(Action.LIVE_ENDED, offense_type, district).items():
                month[f"by_{by}"][group]["live_minutes"] += round(minutes)


def csv_rows(report: list[dict], *, integrated: dict[str, int], as_of: date):
    yield ["month", "figure", "by", "group", "value"]
    for kind in KINDS:  # a state, not a month's events: dated the day the report was made
        yield [as_of.isoformat(), f"cameras_integrated_now_{kind}", "", "", shown(integrated[kind])]
    for month in report:
        label = month["month"].strftime("%Y-%m")
        for kind in KINDS:
            yield [label, f"cameras_registered_{kind}", "", "", shown(month["registered"][kind])]
            yield [label, f"cameras_newly_integrated_{kind}", "", "", shown(month["newly_integrated"][kind])]
        for figure in REQUEST_FIGURES:
            yield [label, f"requests_{figure}", "", "", shown(month[figure])]
        median = "" if month["median_hours"] is None else month["median_hours"]
        yield [label, "median_hours_to_answer", "", "", median]
        for figure in ("live_sessions", "live_minutes", "overrides", *CONCERN_FIGURES,
                       *PUBLIC_ACTIONS.values()):
            yield [label, figure, "", "", shown(month[figure])]
        for by in BREAKDOWNS:
            for group, figures in breakdown_shown(month, by).items():
                for figure in BREAKDOWN_FIGURES:
                    name = f"requests_{figure}" if figure in REQUEST_FIGURES else figure
                    yield [label, name, by, group, figures[figure]]


def chart(report: list[dict], *, width: int = 720, height: int = 200) -> dict:
    """Bars for requests sent and answered with clips per month, as SVG geometry (small counts not drawn)."""
    top = max([m["sent"] for m in report] + [SMALL])
    slot = width / len(report)
    bars = []
    for i, month in enumerate(report):
        for j, key in enumerate(("sent", "clips")):
            value = month[key] if month[key] >= SMALL else 0
            h = round(value / top * (height - 30))
            bars.append({"x": round(i * slot + 6 + j * (slot - 12) / 2), "w": round((slot - 14) / 2),
                         "y": height - 20 - h, "h": h, "css": key,
                         "title": f"{date_format(month['month'], 'M Y')}: {displayed(shown(month[key]))}"})
    labels = [{"x": round(i * slot + slot / 2), "text": date_format(m["month"], "M")} for i, m in enumerate(report)]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "baseline": height - 20}


BREAKDOWN_TITLES = {"offense": "Offense type", "district": "District"}
# The words the published figures use, in the reader's language on the page (the CSV keeps them in English).
DISPLAY_WORDS = {"fewer than 5": _("fewer than 5"), WITHHELD: _("withheld"),
                 SMALL_GROUPS: _("other (groups with fewer than 5 requests and fewer than 5 live views)"),
                 NO_INCIDENT: _("no incident (allowed by the owner)"), "other": _("other"), "unknown": _("unknown")}


def displayed(value):
    return DISPLAY_WORDS.get(value, value) if isinstance(value, str) else value


def for_display(report: list[dict]) -> list[dict]:
    """Newest month first, every count passed through `shown`."""
    months = []
    for month in reversed(report):
        figures = (*REQUEST_FIGURES, "live_sessions", "live_minutes", "overrides", *CONCERN_FIGURES,
                   *PUBLIC_ACTIONS.values())
        months.append({
            "month": month["month"], "median_hours": month["median_hours"],
            "shown": {
                "registered": {k: shown(v) for k, v in month["registered"].items()},
                "newly_integrated": {k: shown(v) for k, v in month["newly_integrated"].items()},
                **{figure: shown(month[figure]) for figure in figures},
            },
            "breakdowns": [(BREAKDOWN_TITLES[by], breakdown_shown(month, by)) for by in BREAKDOWNS],
        })
    return months


def for_page(report: list[dict]) -> list[dict]:
    """`for_display` in the reader's language, for the HTML page (the API and the CSV keep the English words)."""
    titles = {"Offense type": _("Offense type"), "District": _("District")}
    months = for_display(report)
    for month in months:
        shown_figures = month["shown"]
        for kinds in ("registered", "newly_integrated"):
            shown_figures[kinds] = {k: displayed(v) for k, v in shown_figures[kinds].items()}
        for figure, value in shown_figures.items():
            if isinstance(value, str):
                shown_figures[figure] = displayed(value)
        month["breakdowns"] = [(titles.get(title, title), {
            displayed(group): {figure: displayed(value) for figure, value in cells.items()}
            for group, cells in groups.items()}) for title, groups in month["breakdowns"]]
    return months


# --- Outside agencies (agencies/): requests, approvals and refusals over the report's months, by agency type (with
# "(out of state)") and legal basis, as each entry recorded them. Refusals include those made as a request was filed
# (no warrant where the policy requires one, an expired warrant, one that does not cover the ask).
AGENCY_FIGURES = {Action.AGENCY_REQUEST_FILED: "requests", Action.AGENCY_REQUEST_APPROVED: "approved",
                  Action.AGENCY_REQUEST_REFUSED: "refused"}


def outside_agencies(*, months: int = 12, today: date | None = None) -> dict:
    """{(agency type, legal basis): {"requests", "approved", "refused"}} counted from the ledger."""
    starts = _month_starts(months, today or datetime.now(UTC).date())
    since = datetime.combine(starts[0], datetime.min.time(), UTC)
    rows = (AccessEntry.objects.filter(at__gte=since, action__in=list(AGENCY_FIGURES))
            .values("action", "detail__agency_type", "detail__legal_basis").annotate(n=Count("id")))
    table: dict = defaultdict(lambda: dict.fromkeys(AGENCY_FIGURES.values(), 0))
    for row in rows:
        key = (row["detail__agency_type"] or "unknown", row["detail__legal_basis"] or "unknown")
        table[key][AGENCY_FIGURES[row["action"]]] += row["n"]
    return dict(sorted(table.items()))


# The values agencies/ records, in the visitor's language (audit imports no app: the words are repeated here).
AGENCY_WORDS = {"police": _("police department"), "prosecutor": _("prosecutor's office"),
                "federal": _("federal agency"), "other": _("other agency"), "warrant": _("search warrant"),
                "court_order": _("court order"), "subpoena": _("subpoena"), "consent": _("owner's consent"),
                "exigent": _("exigent circumstances"), "unknown": _("unknown")}
OUT_OF_STATE = " (out of state)"


def _agency_words(value: str):
    if value.endswith(OUT_OF_STATE):
        return _("%(type)s, out of state") % {"type": _agency_words(value[:-len(OUT_OF_STATE)])}
    return AGENCY_WORDS.get(value, value)


def outside_agencies_shown(table: dict) -> list[dict]:
    """As published: counts under 5 as "fewer than 5" (a request is an agency's case; small counts stay vague)."""
    return [{"agency_type": _agency_words(agency_type), "legal_basis": _agency_words(basis),
             **{figure: displayed(shown(value)) for figure, value in figures.items()}}
            for (agency_type, basis), figures in table.items()]
