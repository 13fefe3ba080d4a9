"""Typed parsers for CONNECT_* environment variables.

Each parser rejects junk with ImproperlyConfigured naming the variable, so a typo in a deployment
fails at start-up instead of silently falling back to a default.
"""

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from connect.presets import POLICY_VARIABLE, POLICY_VARIABLES, PRESETS, Preset

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# Where each variable's value came from, in the order settings read them: the staff settings page
# (audit/settings_page.py) lists it. Only the process's own lookups are noted, not a test's `environ`.
SOURCE_ENV, SOURCE_DEFAULT = "environment", "default"
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|DSN|_KEYS?$|_KEY_FILE$")


@dataclass
class Lookup:
    name: str
    value: str
    source: str  # SOURCE_ENV, "preset seattle@1" or SOURCE_DEFAULT
    secret: bool = False


LOOKUPS: dict[str, Lookup] = {}


def active_preset(environ=None) -> Preset | None:
    """The preset CONNECT_POLICY names, or None; an unknown name stops start-up, listing the presets."""
    value = ((environ if environ is not None else os.environ).get(POLICY_VARIABLE) or "").strip().lower()
    if not value:
        return None
    if value not in PRESETS:
        raise ImproperlyConfigured(f"{POLICY_VARIABLE} must name a policy preset: {', '.join(PRESETS)}; "
                                   f"not {value!r} (docs/POLICY.md)")
    return PRESETS[value]


def _lookup(name: str, environ=None) -> tuple[str | None, str]:
    """(value, source): the environment first, then the active preset, else None (the parser's default)."""
    value = (environ if environ is not None else os.environ).get(name)
    if value is not None and value.strip() != "":
        return value.strip(), SOURCE_ENV
    preset = active_preset(environ)
    if preset is not None and name in preset.values:
        return preset.values[name], f"preset {preset.label}"
    return None, SOURCE_DEFAULT


def _note(name: str, value, source: str, environ, *, secret: bool = False) -> None:
    if environ is not None:
        return
    secret = secret or bool(_SECRET_NAME.search(name))
    LOOKUPS[name] = Lookup(name=name, value=shown_value(value, secret=secret), source=source, secret=secret)


def shown_value(value, *, secret: bool = False) -> str:
    """A value as the settings page shows it: secrets only say whether they are set."""
    if secret:
        return "(set, hidden)" if value else "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_url_shown(str(item)) for item in value)
    return _url_shown(str(value))


def _url_shown(text: str) -> str:
    """A URL's password and query string may carry credentials (a geocoder's API key): hidden."""
    if "://" not in text:
        return text
    parts = urlparse(text)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":(hidden)@"))
    if parts.query:
        parts = parts._replace(query="(hidden)")
    return parts.geturl()


def _raw(name: str, environ=None) -> str | None:
    value, source = _lookup(name, environ)
    if value is not None:
        _note(name, value, source, environ)
    return value


def _defaulted(name: str, default, environ):
    _note(name, default, SOURCE_DEFAULT, environ)
    return default


def env_policy(*, environ=None) -> Preset | None:
    """Read first in settings: a bad CONNECT_POLICY fails start-up before anything else is parsed."""
    preset = active_preset(environ)
    _note(POLICY_VARIABLE, preset.name if preset else "", SOURCE_ENV if preset else SOURCE_DEFAULT, environ)
    return preset


def source_of(name: str) -> str:
    lookup = LOOKUPS.get(name)
    return lookup.source if lookup else SOURCE_DEFAULT


def policy_in_force(*, environ=None) -> dict:
    """The program's policy as settings read it: the preset (if any) and every policy variable's value and
    source, with a fingerprint over them that changes when any of them does (the ledger records each change)."""
    preset = active_preset(environ)
    values = {}
    for name in POLICY_VARIABLES:
        lookup = LOOKUPS.get(name) if environ is None else None
        if lookup is not None:
            values[name] = {"value": lookup.value, "source": lookup.source}
        else:  # a variable this release does not read (yet): its raw value, if any
            value, source = _lookup(name, environ)
            values[name] = {"value": value or "", "source": source}
    label = preset.label if preset else ""
    digest = hashlib.sha256(json.dumps({"preset": label, "values": values}, sort_keys=True).encode()).hexdigest()
    return {"name": preset.name if preset else "", "version": preset.version if preset else None,
            "label": label, "program": preset.program if preset else "", "values": values, "fingerprint": digest}


def unread_variables(*, environ=None) -> list[str]:
    """CONNECT_* variables set in the environment that connect never read: a typo, or a retired setting."""
    env = environ if environ is not None else os.environ
    read = set(LOOKUPS) | {f"{name}_FILE" for name in LOOKUPS}
    return sorted(name for name in env if name.startswith("CONNECT_") and name not in read)


def env_str(name: str, default: str = "", *, environ=None) -> str:
    value = _raw(name, environ)
    return _defaulted(name, default, environ) if value is None else value


def env_bool(name: str, default: bool, *, environ=None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return _defaulted(name, default, environ)
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/yes/no/1/0/on/off, not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None, environ=None) -> int:
    value = _raw(name, environ)
    if value is None:
        return _defaulted(name, default, environ)
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}")
    return number


def env_list(name: str, default: list[str] | None = None, *, environ=None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return _defaulted(name, list(default or []), environ)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str = "", *, environ=None) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/systemd credentials)."""
    value, source = _lookup(name, environ)
    file_name, _ = _lookup(f"{name}_FILE", environ)
    if value is not None and file_name is not None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    if file_name is not None:
        try:
            secret = Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from None
        _note(name, secret, f"{SOURCE_ENV} ({name}_FILE)", environ, secret=True)
        return secret
    _note(name, value if value is not None else default, source, environ, secret=True)
    return default if value is None else value


def env_choice(name: str, default: str, choices: tuple[str, ...], *, environ=None) -> str:
    value = env_str(name, default, environ=environ).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def beat_variable(entry: str) -> str:
    """The variable overriding a beat entry's interval: "ledger-seal" -> CONNECT_BEAT_LEDGER_SEAL."""
    return "CONNECT_BEAT_" + entry.upper().replace("-", "_")


def beat_expiry(seconds: int) -> int:
    """A run not started within 95% of its period (at least 10 s under it) is dropped: the next one is due."""
    return max(seconds - max(seconds // 20, 10), seconds // 2)


def parse_beat_schedule(entries: dict[str, tuple[str, int]], *, environ=None) -> dict:
    """Celery beat's table from {entry: (task, default seconds)}, each interval overridable in seconds by the
    entry's beat_variable (10 s to a year), each run expiring just under its period."""
    schedule = {}
    for entry, (task, default_seconds) in entries.items():
        seconds = env_int(beat_variable(entry), default_seconds, minimum=10, maximum=366 * 86400, environ=environ)
        schedule[entry] = {"task": task, "schedule": timedelta(seconds=seconds),
                           "options": {"expires": beat_expiry(seconds)}}
    return schedule


def env_retired(replacements: dict[str, str], *, environ=None) -> None:
    """A variable connect no longer reads, still set, is a deployment that would silently lose its setting."""
    for name, instead in replacements.items():
        if _lookup(name, environ)[0] is not None:
            raise ImproperlyConfigured(f"{name} is no longer read: set {instead} instead")


def parse_database_url(name: str, url: str) -> dict:
    """postgres://user:password@host:port/dbname?sslmode=require -> Django DATABASES entry (PostGIS)."""
    parts = urlparse(url)
    if parts.scheme not in {"postgres", "postgresql", "postgis"} or not parts.path.strip("/"):
        raise ImproperlyConfigured(f"{name} must look like postgres://user:password@host:5432/dbname, not {url!r}")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a bad port: {url!r}") from None
    # A psycopg pool rather than CONN_MAX_AGE: under ASGI persistent connections are never reused, and a
    # new PostGIS session cost ~10 ms per request (bench/map_geojson.py).
    options.setdefault("pool", {"min_size": 1, "max_size": 10, "timeout": 10})
    # JIT compiling costs more than it saves on connect's short queries: at a million cameras it added 137 ms to a
    # 2 km nearby search (bench/nearby.py). Off for connect's sessions unless the URL's `options` sets a jit parameter.
    if "jit" not in options.get("options", ""):
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,
        # Ask the pool to check a connection before use: after a database restart or failover the pool
        # would otherwise hand out dead ones (seen as 500s in bench/map_geojson.py). connect.db_pool makes the
        # first dead one found have the other idle ones checked at once.
        "CONN_HEALTH_CHECKS": True,
    }


def parse_redis_url(name: str, url: str) -> str:
    """A plain Redis URL or a Sentinel one (common/redis_url.py), checked here so a bad one fails at start-up."""
    from common.redis_url import RedisUrlError, sentinel_target

    try:
        if sentinel_target(url) is not None:
            return url
    except RedisUrlError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}, not {url!r}") from None
    parts = urlparse(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0 or "
                                   f"redis+sentinel://host:26379,host2:26379/mymaster/0, not {url!r}")
    return url


def parse_bbox(name: str, value: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be 'west,south,east,north' in degrees, not {value!r}") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ImproperlyConfigured(f"{name} is not a valid bounding box: {value!r}")
    return west, south, east, north


def parse_service_area(name: str, value: str) -> dict:
    """A bbox 'w,s,e,n', a GeoJSON geometry, or the path of a GeoJSON file -> a GeoJSON geometry dict."""
    text = value.strip()
    if not text.startswith("{") and not text[:1].isdigit() and text[:1] != "-":
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}: cannot read {value}: {exc.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            geometry = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"{name} is not valid GeoJSON: {exc}") from None
        if geometry.get("type") == "Feature":
            geometry = geometry.get("geometry") or {}
        if geometry.get("type") not in {"Polygon", "MultiPolygon"}:
            raise ImproperlyConfigured(f"{name} must be a GeoJSON Polygon or MultiPolygon")
        return geometry
    west, south, east, north = parse_bbox(name, text)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
# A WMTS RESTful template names the tile by matrix, row and column: the same as zoom, y and x in Web Mercator.
_WMTS = {"{TileMatrix}": "{z}", "{TileRow}": "{y}", "{TileCol}": "{x}"}


def parse_map_tiles(name: str, value: str, attribution: str) -> tuple[str, str]:
    """CONNECT_MAP_TILES -> (tile URL template, attribution), or ("", "") for `off`.

    Empty means OpenStreetMap's standard tiles, whose licence requires their attribution: it is always shown with
    them, whatever CONNECT_MAP_ATTRIBUTION says. A WMTS RESTful URL works with its {TileMatrix}/{TileRow}/
    {TileCol}, once its layer, style and tile matrix set are written into it."""
    text = value.strip()
    if text.lower() == "off":
        return "", ""
    if not text:
        text = OSM_TILES
    for wmts, xyz in _WMTS.items():
        text = text.replace(wmts, xyz)
    parts = urlparse(text.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc or any(p not in text for p in ("{z}", "{x}", "{y}")):
        raise ImproperlyConfigured(f"{name} must be 'off' or an http(s) tile URL with {{z}}, {{x}} and {{y}} (or a "
                                   f"WMTS URL with {{TileMatrix}}, {{TileRow}} and {{TileCol}}), not {value!r}")
    if parts.hostname and parts.hostname.endswith("openstreetmap.org") and "OpenStreetMap" not in attribution:
        attribution = f"{OSM_ATTRIBUTION} {attribution}".strip()
    return text, attribution


def tile_origin(template: str) -> list[str]:
    """The Content-Security-Policy source that allows exactly the tile server ({s} subdomains as a wildcard)."""
    if not template:
        return []
    parts = urlparse(template.replace("{s}", "*"))
    return [f"{parts.scheme}://{parts.netloc}"]


def parse_aes_key(name: str, value: str) -> bytes:
    """A 256-bit key written as base64. Make one with:
    python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"
    """
    import base64
    import binascii

    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} must be base64 of 32 random bytes") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes (AES-256), not {len(key)}")
    return key


def parse_evidence_storage(name: str, value: str) -> dict:
    """'local' (files in CONNECT_EVIDENCE_DIR) or 's3://bucket/optional/prefix' -> {"kind", "bucket", "prefix"}."""
    import re

    text = value.strip()
    if text == "local":
        return {"kind": "local", "bucket": "", "prefix": ""}
    parts = urlparse(text)
    # S3's bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens.
    if parts.scheme != "s3" or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", parts.netloc or "") \
            or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be 'local' or 's3://bucket/optional-prefix', not {value!r}")
    return {"kind": "s3", "bucket": parts.netloc, "prefix": parts.path.strip("/")}
