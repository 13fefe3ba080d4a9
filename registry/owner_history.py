"""What an owner is shown of the ledger ("Who accessed my cameras" and the daily digest): one row per entry, and
one summary row per camera and day for the map searches that returned it (a busy corner can be in hundreds), and
one for the staff map viewports that showed it."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.actions import Action
from audit.selectors import map_views_of, owner_history, owner_map_searches
from registry.models import Camera, Owner

HISTORY_LIMIT = 500


def history_rows(*, owner: Owner, since=None, until=None, limit: int = HISTORY_LIMIT) -> list[dict]:
    """Newest first: {at, camera, who, what, case, why, summary}."""
    labels = {str(code): label for code, label in owner.cameras.values_list("code", "label")}
    labels[""] = _("your registration")  # an entry about the owner, not one camera (their contact details)
    deleted = _("a camera you deleted")
    entries = owner_history(owner_code=owner.code)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    rows = [_entry_row(entry, labels.get(entry.camera_code, deleted)) for entry in entries[:limit]]
    rows += [_search_row(search, labels.get(search["camera_code"], deleted))
             for search in owner_map_searches(owner_code=owner.code, since=since, until=until)[:limit]]
    shown = [(str(code), point.x, point.y) for code, point in owner.cameras.filter(
        status=Camera.Status.ACTIVE).values_list("code", "location")]  # only active cameras are on the map
    rows += [_map_view_row(view, labels.get(view["camera_code"], deleted))
             for view in map_views_of(cameras=shown, since=since, until=until)[:limit]]
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:limit]


def _who(*, units, labels) -> str:
    if settings.OWNER_HISTORY_SHOWS == "unit":
        return ", ".join(sorted({unit or _("Staff") for unit in units})) or _("Staff")
    return ", ".join(sorted(labels))


def _entry_row(entry, camera: str) -> dict:
    if entry.detail.get("outside_agency"):  # an outside agency's person, under a request the program approved
        who = _("%(agency)s (an outside agency)") % {"agency": entry.detail["outside_agency"]}
    elif entry.actor_id is not None:
        who = _who(units=[entry.detail.get("unit")], labels=[entry.actor_label])
    else:
        who = _("You") if entry.actor_label == "owner" else settings.AGENCY_NAME
    what = str(Action(entry.action).owner_sees)
    if entry.action == Action.LIVE_ENDED and entry.detail.get("minutes") is not None:
        what += " " + _("after %(minutes)s min") % {"minutes": entry.detail["minutes"]}  # how long it lasted
    why = entry.reason
    if entry.action == Action.AGENCY_OWNER_TOLD:  # whom the program gave the footage to
        why = entry.detail.get("agency", "")
    return {"at": entry.at, "camera": camera, "who": who, "what": what, "case": entry.case_number,
            "why": why, "summary": False, "seq": entry.seq}


def _search_row(search: dict, camera: str) -> dict:
    count = search["searches"]
    cases = sorted(case for case in search["cases"] if case)
    if "" in search["cases"]:
        cases.append(_("no case given"))
    return {
        "at": search["last_at"], "camera": camera, "who": _who(units=search["units"], labels=search["actors"]),
        "what": ngettext("was in %(count)d map search", "was in %(count)d map searches", count) % {"count": count},
        "case": ", ".join(cases), "why": "", "summary": True,
    }


def _map_view_row(view: dict, camera: str) -> dict:
    count = view["views"]
    return {
        "at": view["last_at"], "camera": camera, "who": _who(units=view["units"], labels=view["actors"]),
        "what": ngettext("was in view on the staff map %(count)d time", "was in view on the staff map %(count)d times",
                         count) % {"count": count},
        "case": "", "why": "", "summary": True,
    }
