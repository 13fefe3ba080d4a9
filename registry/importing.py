"""Import of agency cameras (traffic, CCTV) from CSV or GeoJSON, validated row by row.

Nothing is saved unless every row is valid, or the importer chose to skip the rejected rows.
"""

import csv
import io
import json
from dataclasses import dataclass, field

from django.db import transaction

from registry.forms import CameraForm
from registry.models import Camera, Owner
from registry.services import camera_build, cameras_registered_record

CSV_COLUMNS = ("label", "latitude", "longitude", "address", "placement", "direction_deg", "field_of_view_deg",
               "range_m", "records", "retention_days", "level")
MAX_ROWS = 20000


class ImportFileError(Exception):
    pass


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, why)


def _rows_from_csv(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"label", "latitude", "longitude"} <= {f.strip() for f in reader.fieldnames}:
        raise ImportFileError("The CSV needs a header row with at least label, latitude and longitude. "
                              f"Known columns: {', '.join(CSV_COLUMNS)}.")
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _rows_from_geojson(text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"This is not valid GeoJSON: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportFileError("The GeoJSON must be a FeatureCollection of Point features.")
    rows = []
    for feature in data.get("features") or []:
        props = dict((feature or {}).get("properties") or {})
        geometry = (feature or {}).get("geometry") or {}
        coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            props.setdefault("longitude", coords[0])
            props.setdefault("latitude", coords[1])
        rows.append(props)
    return rows


def parse_upload(name: str, content: bytes) -> list[dict]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The file must be UTF-8 text (CSV or GeoJSON).") from None
    rows = _rows_from_geojson(text) if name.lower().endswith((".geojson", ".json")) else _rows_from_csv(text)
    if not rows:
        raise ImportFileError("The file has no camera rows.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"At most {MAX_ROWS} cameras per file; split the file.")
    return rows


def _validate(row: dict) -> tuple[dict | None, str]:
    data = {key: row.get(key) for key in CSV_COLUMNS if row.get(key) not in (None, "")}
    data.setdefault("placement", Camera.Placement.OUTDOOR)
    # No direction given: treat the camera as seeing all round (a dome), rather than guessing one.
    data.setdefault("field_of_view_deg", 90 if "direction_deg" in data else 360)
    data.setdefault("direction_deg", 0)
    data.setdefault("range_m", 50)
    data.setdefault("retention_days", 30)
    records = str(data.get("records", "true")).strip().lower()
    data["records"] = "on" if records in {"1", "true", "yes", "y", ""} else ""
    # Agency cameras on public poles face public space by their nature; the agency attests by importing.
    if data["placement"] == Camera.Placement.OUTDOOR:
        data["faces_public"] = "on"
    level = data.pop("level", Camera.Level.REGISTERED)
    if level not in Camera.Level.values:
        return None, f"level must be one of {', '.join(Camera.Level.values)}"
    form = CameraForm(data)
    if not form.is_valid():
        problems = [f"{name if name != '__all__' else 'row'}: {' '.join(errors)}"
                    for name, errors in form.errors.items()]
        return None, "; ".join(problems)
    cleaned = dict(form.cleaned_data, level=level)
    return cleaned, ""


def cameras_import(*, owner: Owner, rows: list[dict], skip_rejected: bool) -> ImportReport:
    """Validates every row; saves all valid rows only if none was rejected or skip_rejected is set."""
    if owner.kind != Owner.Kind.AGENCY:
        raise ImportFileError("Cameras can be imported only for an agency owner.")
    report = ImportReport(rows=len(rows))
    valid = []
    for number, row in enumerate(rows, start=1):
        cleaned, why = _validate(row)
        if cleaned is None:
            report.rejected.append((number, why))
        else:
            valid.append(cleaned)
    if report.rejected and not skip_rejected:
        return report
    with transaction.atomic():
        cameras = []
        for data in valid:
            camera = camera_build(data, owner=owner)
            camera.level, camera.status, camera.verified = data["level"], Camera.Status.ACTIVE, True
            cameras.append(camera)
        Camera.objects.bulk_create(cameras, batch_size=1000)
        for camera in cameras:
            cameras_registered_record(camera=camera, kind=owner.kind)
    report.imported = len(valid)
    return report
