"""Auditors: a read-only search over the access ledger, with CSV export (itself recorded)."""

import csv
import json

from django.conf import settings
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit import publishing, selectors, signing
from audit import transparency as transparency_report
from audit.actions import Action
from audit.forms import AuditSearchForm
from audit.ledger import record
from audit.policy import policy_in_plain_words
from common.access import staff_permission_required
from common.streamed_response import streamed

CSV_COLUMNS = ("seq", "at", "actor_label", "action", "target_type", "target_code", "camera_code", "owner_code",
               "incident_code", "case_number", "reason", "detail", "entry_hash")


def _cell(value) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a sign-in name can be anything."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_value(entry, column: str) -> str:
    if column == "at":
        return entry.at.isoformat()  # UTC, with its offset: a machine-readable column
    if column == "detail":
        # JSON, not Python's repr: other tools read this column back
        return _cell(json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, default=str))
    return _cell(getattr(entry, column))


class _Echo:
    def write(self, value):
        return value


@require_GET
@staff_permission_required("audit.view_accessentry")
def search(request):
    form = AuditSearchForm(request.GET or None)
    entries, page = None, None
    if form.is_valid():
        entries = selectors.entries_search(**form.cleaned_data)
        if request.GET.get("format") == "csv":
            record(actor=request.user, action=Action.LEDGER_EXPORTED, target_type="ledger",
                   query=request.GET.urlencode()[:500])
            writer = csv.writer(_Echo())
            rows = (writer.writerow([_csv_value(e, c) for c in CSV_COLUMNS]) for e in entries.iterator(chunk_size=2000))
            response = StreamingHttpResponse(streamed(request, _with_header(writer, rows)), content_type="text/csv")
            response["Content-Disposition"] = 'attachment; filename="connect-access-ledger.csv"'
            return response
        record(actor=request.user, action=Action.LEDGER_SEARCHED, target_type="ledger",
               query=request.GET.urlencode()[:500])
        page = Paginator(entries, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "audit/search.html", {"form": form, "page": page, "query": query.urlencode()})


def _with_header(writer, rows):
    yield writer.writerow(CSV_COLUMNS)
    yield from rows


def _cached_report() -> dict:
    """Cached for ten minutes per state of the ledger: public visitors do not re-aggregate it on every view."""
    from django.core.cache import cache

    from audit.models import AccessEntry

    # The chain's head names the ledger's state (a seq alone repeats across databases sharing a Redis, as test
    # runs do); the format's version keeps a report cached by the previous release from reaching this one.
    head = AccessEntry.objects.order_by("-seq").values_list("entry_hash", flat=True).first()
    key = f"transparency:{transparency_report.FORMAT}:{head}"
    try:
        report = cache.get(key)
    except Exception:  # Redis gone: build it, the page still works
        report = None
    if report is None:
        report = {"months": transparency_report.monthly(), "integrated_now": transparency_report.integrated_now(),
                  "outside_agencies": transparency_report.outside_agencies(), "as_of": timezone.localdate()}
        try:
            cache.set(key, report, timeout=600)
        except Exception:
            pass
    return report


@require_GET
def transparency(request):
    """Public, no sign-in: the program in aggregate."""
    report = _cached_report()
    months, integrated_now = report["months"], report["integrated_now"]
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        rows = transparency_report.csv_rows(months, integrated=integrated_now, as_of=report["as_of"])
        response = StreamingHttpResponse(streamed(request, (writer.writerow(row) for row in rows)),
                                         content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="connect-transparency.csv"'
        return response
    return render(request, "audit/transparency.html", {
        "months": transparency_report.for_page(months), "chart": transparency_report.chart(months),
        "integrated_now": {kind: transparency_report.displayed(transparency_report.shown(n))
                           for kind, n in integrated_now.items()},
        "outside_agencies": transparency_report.outside_agencies_shown(report["outside_agencies"]),
        "as_of": report["as_of"], "checkpoints": _checkpoints(), "public_url": settings.PUBLIC_URL,
        "policy": policy_in_plain_words()})


def _checkpoints() -> dict:
    return {"public_key": signing.public_key_b64(), "key_id": signing.key_id(), "latest": publishing.latest()}
