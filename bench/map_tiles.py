"""Staff map at a million cameras: the whole city at zoom 11 and pans at zoom 15 through GET /map/cameras.json.

    .venv/bin/python bench/map_tiles.py          # 200 of each request and bare query
    .venv/bin/python bench/map_tiles.py --quick  # 30 of each

Dataset: 1,000,000 active cameras over Raleigh (bench/_data.py; kept between runs, as the other 1M benchmarks
keep it). It starts connect's real ASGI server and the ledger's sealer (as the Procfile does:
api_nearby.running_server) on connect_bench, signs a Crime analyst in through a database session, and times,
alternately, on keep-alive connections that ask for gzip (a load generator's light client, bench/_light_http.py, so
that http.client's parsing of the answer's headers is not timed as connect's):
  city       GET /map/cameras.json for a 1280x800 px view at zoom 11 holding the whole city (groups with the true
             count of every camera), body read to the end; its bytes on the wire are the compressed body
  pan        GET /map/cameras.json for 1280x800 px views at zoom 15, each 256 px east of the last (a pan), wrapping
             across the city
  street     the same pan at zoom 17, past the squares' zooms: each camera in view (PostGIS's GeoJSON, up to
             CONNECT_MAP_MAX_FEATURES) through the route's usual path; reference, not a target of the issue
  bare_*     the selector's SQL (registry.selectors._CLUSTERS_SQL; for street, _GEOJSON_SQL) with the parameters the
             view passes, through psycopg on a connection with jit off (as connect's own)
  bare_*_recorded  reference, not the target's baseline: the same SQL with the view's ledger entry inserted and
             committed in the same statement (a real entry of the bench's analyst): the floor of an answer that
             must be recorded, durably, before it leaves
The web process's CPU per request is reported too (bench/_cpu.py). Reference, not a target: `sample_clustering`,
the same groups computed from registry_camera itself (no kept counts: what a request would cost without them), a
few times; and the old answer, /map/cameras.geojson for the city view (20,000 cameras of the million, in heap
order), its bytes and time.

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import gzip
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _cpu import cpu_seconds, pid_serving  # noqa: E402
from _light_http import KeepAlive  # noqa: E402
from api_nearby import running_server  # noqa: E402
from map_geojson import USERNAME as ANALYST  # noqa: E402
from map_geojson import analyst_session_cookie  # noqa: E402

CAMERAS = 1_000_000
REDIS_DB = 1
WIDTH, HEIGHT = 1280, 800  # the map's size in px
CITY_ZOOM, PAN_ZOOM, STREET_ZOOM = 11, 15, 17


def view(lng: float, lat: float, zoom: int) -> tuple[float, float, float, float]:
    """The box a WIDTH x HEIGHT map centred at (lng, lat) shows at this zoom (Web Mercator, 256 px tiles)."""
    scale = 256 * 2 ** zoom
    cx = (lng + 180) / 360 * scale
    cy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale

    def lng_of(x):
        return x / scale * 360 - 180

    def lat_of(y):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))

    return (round(lng_of(cx - WIDTH / 2), 6), round(lat_of(cy + HEIGHT / 2), 6), round(lng_of(cx + WIDTH / 2), 6),
            round(lat_of(cy - HEIGHT / 2), 6))


def pan_views(count: int, zoom: int = PAN_ZOOM) -> list[tuple[float, float, float, float]]:
    """Views at this zoom, each 256 px east of the last, in rows across the city."""
    west, south, east, north = _data.RALEIGH
    step = 256 * 360 / (256 * 2 ** zoom)  # 256 px in degrees of longitude
    columns = max(1, int((east - west) / step) - 4)
    rows = [south + (north - south) * (i + 0.5) / 6 for i in range(6)]
    return [view(west + step * (2 + i % columns), rows[(i // columns) % len(rows)], zoom) for i in range(count)]


def decoded(body: bytes, encoding: str | None):
    """An answer's JSON, from its body as sent."""
    return json.loads(gzip.decompress(body) if encoding == "gzip" else body)


def path_for(box, zoom: int, endpoint: str = "/map/cameras.json") -> str:
    return f"{endpoint}?bbox={','.join(str(v) for v in box)}&zoom={zoom}"


def sample_clustering_sql() -> str:
    """The city view's groups from registry_camera itself: what each request would read without kept counts."""
    return """
    SELECT count(*), avg(ST_Y(c.location::geometry)), avg(ST_X(c.location::geometry))
    FROM registry_camera c JOIN registry_owner o ON o.id = c.owner_id
    WHERE c.status = 'active' AND (o.confirmed_at IS NOT NULL OR o.kind = 'agency')
      AND c.location && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)::geography
    GROUP BY floor((ST_X(c.location::geometry) + 180) / 360 * 2 ^ %(zoom)s),
             floor((1 - asinh(tan(radians(ST_Y(c.location::geometry)))) / pi()) / 2 * 2 ^ %(zoom)s)
    """


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--samples", type=int, help="timed requests of each kind (and as many bare queries)")
    args = parser.parse_args()
    samples = args.samples or (30 if args.quick else 200)
    warmup = 5 if args.quick else 20

    _data.setup_django(REDIS_DB)
    _data.ensure_cameras(CAMERAS)

    import psycopg
    from django.conf import settings

    from registry import selectors

    west, south, east, north = _data.RALEIGH
    city = view((west + east) / 2, (south + north) / 2, CITY_ZOOM)
    pans = pan_views(samples + warmup)
    streets = pan_views(samples + warmup, STREET_ZOOM)
    cookie_name, session_key = analyst_session_cookie()
    headers = {"Cookie": f"{cookie_name}={session_key}", "Accept-Encoding": "gzip"}

    def cluster_params(box, zoom):
        w, s, e, n = box
        return selectors.camera_clusters_params(west=w, south=s, east=e, north=n, zoom=selectors.map_cell_zoom(zoom))

    bare_conn = psycopg.connect(_data.DATABASE_URL, autocommit=True, cursor_factory=psycopg.ClientCursor,
                                options="-c jit=off")

    def bare(params) -> int:
        with bare_conn.cursor() as cursor:
            cursor.execute(selectors._CLUSTERS_SQL, params)
            return len(cursor.fetchall())

    def bare_street(box) -> int:
        with bare_conn.cursor() as cursor:
            cursor.execute(selectors._GEOJSON_SQL, selectors._geojson_params(
                *box, selectors.ALL_KINDS, selectors.ALL_LEVELS, settings.MAP_MAX_FEATURES))
            return len(cursor.fetchone()[0])

    from django.contrib.auth.models import User

    from audit.ledger.writing import pending_insert_select
    from registry import services

    analyst = User.objects.get(username=ANALYST)

    def bare_recorded(box, zoom) -> int:
        """The bare SQL with the view's ledger entry written and committed in the same statement: the floor of any
        answer that must be recorded before it leaves (one durable commit). A real entry of the bench's analyst."""
        params = cluster_params(box, zoom)
        entry = services.map_view_entry(actor=analyst, **selectors.squares_extent(params), kinds=params["kinds"],
                                        levels=params["levels"])
        insert, insert_params, _ = pending_insert_select(entry, condition="TRUE")
        with bare_conn.cursor() as cursor:
            cursor.execute(f"WITH groups AS ({selectors._CLUSTERS_SQL}), entry AS ({insert} RETURNING 1) "
                           "SELECT * FROM groups", {**params, **insert_params})
            return len(cursor.fetchall())

    redis_url = f"{_data.REDIS}/{REDIS_DB}"
    with _services.redis_database(redis_url, "map_tiles"), running_server(redis_url) as port:
        http_conn = KeepAlive("127.0.0.1", port, timeout=120)

        def get(path: str) -> tuple[bytes, str | None]:
            status, answer_headers, body = http_conn.get(http_conn.request_bytes(path, headers))
            if status != 200:  # the body as sent (compressed): these are the bytes on the wire
                raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
            encoding = answer_headers.get(b"content-encoding")
            return body, encoding.decode() if encoding else None

        city_body, encoding = get(path_for(city, CITY_ZOOM))
        city_json = decoded(city_body, encoding)
        _data.log(f"map_tiles: city view {city} -> {city_json['mode']}, {len(city_json.get('clusters', []))} "
                  f"groups, total {city_json.get('total'):,}, {len(city_body):,} bytes ({encoding})")
        pan_body, pan_encoding = get(path_for(pans[0], PAN_ZOOM))
        pan_json = decoded(pan_body, pan_encoding)
        street_body, street_encoding = get(path_for(streets[0], STREET_ZOOM))
        street_json = decoded(street_body, street_encoding)

        for i in range(warmup):
            get(path_for(city, CITY_ZOOM))
            get(path_for(pans[i], PAN_ZOOM))
            bare(cluster_params(city, CITY_ZOOM))
            bare(cluster_params(pans[i], PAN_ZOOM))
            get(path_for(streets[i], STREET_ZOOM))
            bare_street(streets[i])
        runs = {
            "city": lambda i: get(path_for(city, CITY_ZOOM)),
            "bare_city": lambda i: bare(cluster_params(city, CITY_ZOOM)),
            "pan": lambda i: get(path_for(pans[warmup + i], PAN_ZOOM)),
            "bare_pan": lambda i: bare(cluster_params(pans[warmup + i], PAN_ZOOM)),
            "bare_city_recorded": lambda i: bare_recorded(city, CITY_ZOOM),
            "bare_pan_recorded": lambda i: bare_recorded(pans[warmup + i], PAN_ZOOM),
            "street": lambda i: get(path_for(streets[warmup + i], STREET_ZOOM)),
            "bare_street": lambda i: bare_street(streets[warmup + i]),
        }
        times = {name: [] for name in runs}
        cpu_used = dict.fromkeys(runs, 0.0)  # the web process's CPU seconds during each kind's requests
        server_pid = pid_serving(port)
        _data.log(f"map_tiles: timing {samples} of each: {', '.join(runs)} ...")
        for i in range(samples):
            names = list(runs)
            for name in names[i % len(names):] + names[:i % len(names)]:  # each one first in turn
                cpu = cpu_seconds(server_pid)  # read outside the timing
                started = time.perf_counter()
                runs[name](i)
                times[name].append(time.perf_counter() - started)
                cpu_used[name] += cpu_seconds(server_pid) - cpu

        # The old answer for the same view: 20,000 cameras of the million, for comparison.
        old_times = []
        for _ in range(3):
            started = time.perf_counter()
            old_body, old_encoding = get(path_for(city, CITY_ZOOM, "/map/cameras.geojson"))
            old_times.append(time.perf_counter() - started)
        http_conn.close()

    sample_times = []
    city_params = {"west": city[0], "south": city[1], "east": city[2], "north": city[3],
                   "zoom": selectors.map_cell_zoom(CITY_ZOOM)}
    for _ in range(2 if args.quick else 5):
        started = time.perf_counter()
        with bare_conn.cursor() as cursor:
            cursor.execute(sample_clustering_sql(), city_params)
            on_the_fly = cursor.fetchall()
        sample_times.append(time.perf_counter() - started)
    with bare_conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_camera WHERE status = 'active'")
        active = cursor.fetchone()[0]
    bare_conn.close()

    figures = {name: _data.percentiles(values) for name, values in times.items()}
    city_p50, pan_p50 = figures["city"]["p50_ms"], figures["pan"]["p50_ms"]
    summary = {
        "benchmark": "map_tiles",
        "quick": args.quick,
        "cameras": CAMERAS,
        "city_view": {"bbox": list(city), "zoom": CITY_ZOOM, "mode": city_json["mode"],
                      "groups": len(city_json.get("clusters", [])), "total": city_json.get("total"),
                      "active_cameras": active, "true_counts": city_json.get("total") == active,
                      "wire_bytes": len(city_body), "content_encoding": encoding,
                      "json_bytes": len(gzip.decompress(city_body)) if encoding == "gzip" else len(city_body)},
        "pan_view": {"zoom": PAN_ZOOM, "mode": pan_json["mode"], "groups": len(pan_json.get("clusters", [])),
                     "total": pan_json.get("total"), "wire_bytes": len(pan_body)},
        "street_view": {"zoom": STREET_ZOOM, "mode": street_json["mode"],
                        "cameras": len(street_json.get("cameras", {}).get("features", [])),
                        "wire_bytes": len(street_body)},
        **figures,
        "ratio_city_p50": _data.ratio(city_p50, figures["bare_city"]["p50_ms"]),
        # The web process's CPU per request, from /proc (bench/_cpu.py): less at the mercy of a shared machine.
        "server_cpu_ms_per_request": {name: round(cpu_used[name] / samples * 1000, 1)
                                      for name in ("city", "pan", "street")},
        "ratio_pan_p50": _data.ratio(pan_p50, figures["bare_pan"]["p50_ms"]),
        # Reference, not the target: against the bare SQL with its ledger entry committed in the same statement.
        "ratio_city_p50_to_recorded": _data.ratio(city_p50, figures["bare_city_recorded"]["p50_ms"]),
        "ratio_pan_p50_to_recorded": _data.ratio(pan_p50, figures["bare_pan_recorded"]["p50_ms"]),
        "ratio_street_p50": _data.ratio(figures["street"]["p50_ms"], figures["bare_street"]["p50_ms"]),
        "reference_sample_clustering": {"p50_ms": round(statistics.median(sample_times) * 1000, 2),
                                        "n": len(sample_times), "groups": len(on_the_fly)},
        "reference_old_geojson": {"wire_bytes": len(old_body), "content_encoding": old_encoding,
                                  "p50_ms": round(sorted(old_times)[1] * 1000, 2)},
        "targets": {"city_wire_bytes_max": 300_000, "city_p50_ms_max": 100, "pan_p50_ms_max": 30,
                    "ratio_max": 2,
                    "city_bytes_met": len(city_body) < 300_000, "city_p50_met": city_p50 < 100,
                    "pan_p50_met": pan_p50 < 30,
                    "ratio_met": city_p50 <= 2 * figures["bare_city"]["p50_ms"]
                    and pan_p50 <= 2 * figures["bare_pan"]["p50_ms"]},
        "machine": _data.machine(),
    }
    _data.log(f"map_tiles: city p50 {city_p50} ms (bare {figures['bare_city']['p50_ms']} ms, ratio "
              f"{summary['ratio_city_p50']}), {len(city_body):,} bytes; pan p50 {pan_p50} ms (bare "
              f"{figures['bare_pan']['p50_ms']} ms, ratio {summary['ratio_pan_p50']}); without kept counts "
              f"{summary['reference_sample_clustering']['p50_ms']} ms")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
