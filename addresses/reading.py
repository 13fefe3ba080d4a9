"""Reading a city's address file (CSV or GeoJSON) into address points, row by row. A bad row is reported with its
line number and skipped; a file that cannot be read at all raises ImportFileError and nothing is imported."""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import Point

from addresses.columns import ColumnError, detect
from addresses.text import search_text

_WKT_POINT = re.compile(r"^\s*POINT\s*\(\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\)\s*$", re.IGNORECASE)
_LAT_LNG_PAIR = re.compile(r"^\s*\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)\s*$")  # Socrata's "(35.77, -78.63)"
_DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW"}
_ORDINAL = re.compile(r"^(\d+)(ST|ND|RD|TH)$")


class ImportFileError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class AddressRow:
    address: str
    search_text: str
    lng: float
    lat: float


@dataclass
class ReadResult:
    rows: list[AddressRow] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    columns: dict[str, str] = field(default_factory=dict)  # field -> the file's column, as detected


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")  # older county exports; never fails, marks what it lost


def readable_case(text: str) -> str:
    """County files shout ("1200 FAYETTEVILLE ST NW"): shown as "1200 Fayetteville St NW". Mixed case is kept."""
    if text != text.upper():
        return text
    words = []
    for word in text.split(" "):
        ordinal = _ORDINAL.match(word)
        if word in _DIRECTIONS:
            words.append(word)
        elif ordinal:
            words.append(ordinal.group(1) + ordinal.group(2).lower())
        else:
            words.append(word.capitalize())
    return " ".join(words)


def _value(props: dict, column: str | None) -> str:
    if not column:
        return ""
    value = props.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a house number stored as 1200.0
    return " ".join(str(value).split())


def _address_text(props: dict, columns: dict[str, str]) -> tuple[str, str]:
    """(street address, as shown with city and ZIP code)."""
    if columns.get("address"):
        street = _value(props, columns["address"])
    else:
        if not _value(props, columns.get("number")):
            raise ValueError("it has no house number")  # a street alone is not an address point
        parts = [_value(props, columns.get(name)) for name in ("number", "predir", "street", "type", "sufdir")]
        street = " ".join(part for part in parts if part)
        unit = _value(props, columns.get("unit"))
        if unit and street:
            spelled = unit.startswith("#") or unit.lower().startswith(("apt", "unit", "ste", "suite"))
            street = f"{street} {unit}" if spelled else f"{street} #{unit}"
    if not street:
        return "", ""
    street = readable_case(street)
    city = readable_case(_value(props, columns.get("city")))
    zip_code = _value(props, columns.get("zip"))
    place = " ".join(part for part in (city, zip_code) if part and part.lower() not in street.lower())
    return street, f"{street}, {place}" if place else street


def _number(text) -> float:
    return float(str(text).strip())


def _coordinates(props: dict, columns: dict[str, str], geometry) -> tuple[float, float]:
    """(x, y) in the file's coordinates; ValueError saying what is wrong."""
    if geometry is not None:
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise ValueError("its geometry is not a Point")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise ValueError("its Point has no coordinates")
        return _number(coords[0]), _number(coords[1])
    if columns.get("lat") and columns.get("lng"):
        lat, lng = _value(props, columns["lat"]), _value(props, columns["lng"])
        if not lat or not lng:
            raise ValueError("it has no coordinates")
        try:
            return _number(lng), _number(lat)
        except ValueError:
            raise ValueError(f"its coordinates '{lat}', '{lng}' are not numbers") from None
    text = _value(props, columns.get("geometry"))
    match = _WKT_POINT.match(text)
    if match:
        return float(match.group(1)), float(match.group(2))
    match = _LAT_LNG_PAIR.match(text)
    if match:
        return float(match.group(2)), float(match.group(1))
    raise ValueError(f"its location '{text[:40]}' is neither POINT (x y) nor (lat, lng)" if text else
                     "it has no coordinates")


class _Reader:
    def __init__(self, *, columns: dict[str, str], srid: int, area):
        self.columns = columns
        self.transform = CoordTransform(SpatialReference(srid), SpatialReference(4326)) if srid != 4326 else None
        self.area = area  # a prepared geometry, or None to keep points anywhere
        self.result = ReadResult(columns=columns)

    def add(self, line: int, props: dict, geometry=None) -> None:
        try:
            street, address = _address_text(props, self.columns)
        except ValueError as exc:
            self.result.bad.append((line, str(exc)))
            return
        if not street:
            self.result.bad.append((line, "no address text"))
            return
        try:
            x, y = _coordinates(props, self.columns, geometry)
        except ValueError as exc:
            self.result.bad.append((line, str(exc)))
            return
        if self.transform:
            point = Point(x, y)
            point.transform(self.transform)
            x, y = point.x, point.y
        if not (-180 <= x <= 180 and -90 <= y <= 90) or (x == 0 and y == 0):
            hint = "" if self.transform else " (projected coordinates? give --srid)"
            self.result.bad.append((line, f"its coordinates {x:g}, {y:g} are not a place in degrees{hint}"))
            return
        if self.area is not None and not self.area.covers(Point(x, y)):
            self.result.bad.append((line, "it lies outside the service area"))
            return
        self.result.rows.append(AddressRow(address=address[:300], search_text=search_text(street)[:300],
                                           lng=x, lat=y))


def _read_csv(text: str, given: dict, srid: int, area) -> ReadResult:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ImportFileError("The CSV is empty: it needs a header row naming its columns.")
    try:
        columns = detect([name or "" for name in reader.fieldnames], given, has_geometry=False)
    except ColumnError as exc:
        raise ImportFileError(str(exc)) from None
    rows = _Reader(columns=columns, srid=srid, area=area)
    try:
        for props in reader:
            rows.add(reader.line_num, props)
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num}: the CSV is malformed ({exc}).") from None
    return rows.result


def _feature_lines(text: str, count: int) -> list[int]:
    """The line each feature starts on, found by decoding the features array element by element; feature
    numbers instead (1, 2, ...) if the file is laid out so that this cannot be done."""
    decoder = json.JSONDecoder()
    match = re.search(r'"features"\s*:\s*\[', text)
    lines, position = [], match.end() if match else -1
    while match and len(lines) < count:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            _, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        lines.append(text.count("\n", 0, position) + 1)
        position = end
    return lines if len(lines) == count else []


def _read_geojson(text: str, given: dict, srid: int, area) -> ReadResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"This is not valid GeoJSON: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or \
            not isinstance(data.get("features"), list):
        raise ImportFileError("The GeoJSON must be a FeatureCollection of Point features.")
    features = data["features"]
    names = []
    for feature in features:
        for name in ((feature or {}).get("properties") or {}) if isinstance(feature, dict) else {}:
            if name not in names:
                names.append(name)
        if len(names) > 200:
            break
    try:
        columns = detect(names, given, has_geometry=True)
    except ColumnError as exc:
        raise ImportFileError(str(exc)) from None
    lines = _feature_lines(text, len(features))
    rows = _Reader(columns=columns, srid=srid, area=area)
    for number, feature in enumerate(features, start=1):
        line = lines[number - 1] if lines else number
        if not isinstance(feature, dict):
            rows.result.bad.append((line, "it is not a Feature"))
            continue
        rows.add(line, feature.get("properties") or {}, feature.get("geometry"))
    return rows.result


def read_addresses(path: Path, *, columns: dict[str, str], srid: int = 4326, area=None,
                   file_format: str = "") -> ReadResult:
    """Rows of a CSV or GeoJSON file, by its extension unless `file_format` is given ('csv' or 'geojson')."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror}.") from None
    kind = file_format or ("geojson" if path.suffix.lower() in {".geojson", ".json"} else "csv")
    try:
        SpatialReference(srid)
    except Exception:
        raise ImportFileError(f"--srid {srid} is not a coordinate system GDAL knows (EPSG code).") from None
    text = _decode(content)
    if kind == "geojson":
        return _read_geojson(text, columns, srid, area)
    return _read_csv(text, columns, srid, area)
