"""Staff map viewport: GET /map/cameras.geojson?bbox=... for a viewport holding 10,000 active cameras.

    .venv/bin/python bench/map_geojson.py          # 200 requests and 200 bare queries
    .venv/bin/python bench/map_geojson.py --quick  # 30 of each (well under a minute)

Dataset: 100,000 active cameras over Raleigh, exactly 10,000 of them inside the viewport (bench/_data.py).
It starts connect's real ASGI server (uvicorn, as the Procfile does, on a free port, on connect_bench, with
connect's own settings: pooled database connections), signs a staff user of the "Crime analyst" role in
through a database session, and times, alternately:
  http   GET /map/cameras.geojson?bbox=<viewport> on one keep-alive connection, body read to the end
  bare   the selector's current SQL text (registry.selectors._GEOJSON_SQL) with the parameters the view
         passes, run through psycopg directly on its own connection with the server's settings (as a DBA
         would run it: jit on by default, where connect turns it off), the GeoJSON text fetched
  bare_jit_off  the same on a connection with jit off, as connect's own (the ratio to it is reported too)
Diagnostics, not targets: `inprocess` (selectors.cameras_geojson_in_bbox called in this process, no HTTP),
how many database sessions the server opened per request (pg_stat_database.sessions; 0 when the pool
works) and how many connections it held open at the end (pg_stat_activity). It also counts the features
returned against the cameras in the box (exactly, by ST_Intersects).

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import free_port  # noqa: E402
from _sessions import signed_in, staff_user  # noqa: E402

CAMERAS = 100_000  # 10% of them, 10,000, inside _data.VIEWPORT
USERNAME = "bench-crime-analyst"
SERVER_APP_NAME = "connect-bench-web"


def analyst_session_cookie() -> tuple[str, str]:
    """A signed-in session for a staff user in the Crime analyst group: (cookie name, session key)."""
    from common.roles import CRIME_ANALYST

    return signed_in(staff_user(USERNAME, CRIME_ANALYST))



def start_server(port: int, log_file) -> subprocess.Popen:
    """connect's web process as the Procfile runs it, on connect_bench and the Redis database bench_env() names."""
    env = {**os.environ, **_data.bench_env()}
    # Same database; the name only lets pg_stat_activity tell the server's connections from ours.
    env["CONNECT_DATABASE_URL"] = f"{_data.DATABASE_URL}?application_name={SERVER_APP_NAME}"
    command = [sys.executable, "-m", "uvicorn", "connect.asgi:application",
               "--host", "127.0.0.1", "--port", str(port), "--no-server-header"]
    return subprocess.Popen(command, cwd=_data.ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def wait_until_serving(port: int, path: str, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 401:  # up, and refusing a request without a session as it should
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer in time")


def db_sessions() -> tuple[int, int]:
    """(sessions ever opened on connect_bench, connections the server holds open now).

    The first is PostgreSQL 14+'s pg_stat_database.sessions; backends report it within about a second."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        opened = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [SERVER_APP_NAME])
        return opened, cursor.fetchone()[0]


def codes_in_box(west: float, south: float, east: float, north: float) -> set[str]:
    """The codes of the active cameras inside the box, by an exact 2-D test (ST_Intersects, edges included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT code::text FROM registry_camera WHERE status = 'active' AND "
                       "ST_Intersects(location::geometry, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                       [west, south, east, north])
        return {code for (code,) in cursor.fetchall()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--samples", type=int, help="timed requests (and as many bare queries)")
    args = parser.parse_args()
    samples = args.samples or (30 if args.quick else 200)
    warmup = 5 if args.quick else 20

    _data.setup_django()
    _data.ensure_cameras(CAMERAS)

    import psycopg
    from django.conf import settings

    from registry import selectors

    west, south, east, north = _data.VIEWPORT
    path = f"/map/cameras.geojson?bbox={west},{south},{east},{north}"
    # Exactly what the view passes to the selector for this request.
    params = {"west": west, "south": south, "east": east, "north": north, "kinds": list(selectors.ALL_KINDS),
              "levels": list(selectors.ALL_LEVELS), "limit": settings.MAP_MAX_FEATURES}
    cookie_name, session_key = analyst_session_cookie()
    headers = {"Cookie": f"{cookie_name}={session_key}", "Accept": "application/geo+json"}

    # The baseline's own connection. Client-side binding, as Django's psycopg cursors use (no prepared plan).
    bare_conn = psycopg.connect(_data.DATABASE_URL, autocommit=True, cursor_factory=psycopg.ClientCursor)
    jit_off_conn = psycopg.connect(_data.DATABASE_URL, autocommit=True, cursor_factory=psycopg.ClientCursor,
                                   options="-c jit=off")

    def bare(conn=bare_conn) -> int:
        with conn.cursor() as cursor:
            cursor.execute(selectors._GEOJSON_SQL, params)
            return len(cursor.fetchone()[0])

    port = free_port()
    redis_url = f"{_data.REDIS}/{_data.REDIS_DB}"  # the server's, as bench_env() gives it; claimed for the run
    with _services.redis_database(redis_url, "map_geojson"), tempfile.TemporaryFile(mode="w+") as server_log:
        server = start_server(port, server_log)
        try:
            wait_until_serving(port, path, server)
            http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def get() -> tuple[str, bytes]:
                http_conn.request("GET", path, headers=headers)
                response = http_conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
                return response.getheader("Content-Type"), body

            content_type, body = get()
            collection = json.loads(body)
            returned = [f["properties"]["code"] for f in collection["features"]]
            in_box = codes_in_box(west, south, east, north)
            outside, missing = len(set(returned) - in_box), len(in_box - set(returned))
            _data.log(f"map: {len(returned):,} features for {len(in_box):,} cameras in the bbox ({outside:,} "
                      f"outside it, {missing:,} missing), {len(body) / 1e6:.2f} MB, "
                      f"truncated={collection['truncated']}")

            for _ in range(warmup):
                get()
                bare()
                bare(jit_off_conn)
            runs = {"http": get, "bare": bare, "bare_jit_off": lambda: bare(jit_off_conn)}
            times = {name: [] for name in runs}
            time.sleep(2)
            sessions_before, _ = db_sessions()
            _data.log(f"map: timing {samples} requests and {samples} of each bare query ...")
            for i in range(samples):
                names = list(runs)
                for name in names[i % 3:] + names[:i % 3]:  # each one first in turn
                    started = time.perf_counter()
                    runs[name]()
                    times[name].append(time.perf_counter() - started)
            time.sleep(2)  # let the backends report their statistics
            sessions_after, server_connections_open = db_sessions()
            sessions_opened = sessions_after - sessions_before
            http_conn.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.returncode not in (0, -15):
                server_log.seek(0)
                _data.log(server_log.read()[-3000:])

    inprocess_times = []
    for _ in range(max(10, samples // 4)):
        started = time.perf_counter()
        selectors.cameras_geojson_in_bbox(west=west, south=south, east=east, north=north,
                                          limit=settings.MAP_MAX_FEATURES)
        inprocess_times.append(time.perf_counter() - started)
    bare_conn.close()
    jit_off_conn.close()

    result_http = _data.percentiles(times["http"])
    result_bare = _data.percentiles(times["bare"])
    result_bare_jit_off = _data.percentiles(times["bare_jit_off"])
    summary = {
        "benchmark": "map_geojson",
        "quick": args.quick,
        "cameras": CAMERAS,
        "bbox": [west, south, east, north],
        "cameras_in_bbox": len(in_box),
        "features_returned": len(returned),
        "features_outside_bbox": outside,
        "cameras_in_bbox_missing": missing,
        "truncated": collection["truncated"],
        "body_bytes": len(body),
        "content_type": content_type,
        "http": result_http,
        "bare": result_bare,
        "bare_jit_off": result_bare_jit_off,
        "inprocess": _data.percentiles(inprocess_times),
        "ratio_p50": _data.ratio(result_http["p50_ms"], result_bare["p50_ms"]),
        "ratio_p95": _data.ratio(result_http["p95_ms"], result_bare["p95_ms"]),
        "ratio_jit_off_p50": _data.ratio(result_http["p50_ms"], result_bare_jit_off["p50_ms"]),
        "db_sessions_opened_per_request": round(sessions_opened / samples, 2),
        "server_db_connections_open_after": server_connections_open,
        "targets": {"p50_ms_max": 150, "ratio_max": 1.5,
                    "p50_met": result_http["p50_ms"] <= 150,
                    "ratio_met": result_http["p50_ms"] <= 1.5 * result_bare["p50_ms"]},
        "machine": _data.machine(),
    }
    _data.log(f"map: http p50 {result_http['p50_ms']} ms p95 {result_http['p95_ms']} ms | bare p50 "
              f"{result_bare['p50_ms']} ms p95 {result_bare['p95_ms']} ms (jit off: p50 {result_bare_jit_off['p50_ms']}"
              f" ms) | ratio p50 {summary['ratio_p50']} (to jit off {summary['ratio_jit_off_p50']}) | "
              f"db sessions per request {summary['db_sessions_opened_per_request']}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
