"""Radius search: cameras within 500 m and 2 km of a random point in Raleigh, at 10k, 100k and 1M cameras.

    .venv/bin/python bench/nearby.py            # 10k, 100k, 1M cameras; 500 m (400 points) and 2 km (100 points)
    .venv/bin/python bench/nearby.py --quick    # 10k and 100k; a quarter of the points (well under a minute)
    .venv/bin/python bench/nearby.py --radius 2000 --sizes 1000000   # one case
    .venv/bin/python bench/nearby.py --explain  # also prints EXPLAIN ANALYZE of each query at the largest size

For each point it times, in a shuffled order:
  selector      registry.selectors.cameras_near(point=, radius_m=), exactly as /map/nearby.json calls it:
                one SQL query through Django's cursor (its pooled connection, jit off as connect sets it), at
                most 500 rows, returned as NearbyCamera objects
  selector_sql  (diagnostic) the selector's own SQL text (selectors._NEAR_SQL) and parameters on the raw
                psycopg cursor of Django's connection, rows fetched as tuples: the database-and-driver share
  selector_sql_server_jit  (diagnostic) the same on a plain connection with the server's settings (jit on by
                default): what connect paid before it turned JIT off
  bare          SELECT id ... WHERE status='active' AND ST_DWithin(location, ST_GeogFromText(...), radius)
                on a plain psycopg connection with the server's settings, as a DBA would run it (the headline
                baseline)
  bare_ordered  the same plus ST_Distance, ORDER BY distance LIMIT 500 (the least the database must do)
  bare_jit_off, bare_ordered_jit_off  both again on a plain connection with jit off
The headline ratio is the selector's p50 over bare's; `ratio_best_bare_p50` divides by the fastest of the four bare
variants instead. Every raw query binds its parameters on the client, as Django does.

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

RADII_M = (500, 2000)
LIMIT = 500  # cameras_near's default, which /map/nearby.json uses

BARE_SQL = (
    "SELECT id FROM registry_camera "
    "WHERE status = 'active' AND ST_DWithin(location, ST_GeogFromText(%(p)s), %(r)s)"
)
BARE_ORDERED_SQL = (
    "SELECT id, ST_Distance(location, ST_GeogFromText(%(p)s)) AS distance_m FROM registry_camera "
    "WHERE status = 'active' AND ST_DWithin(location, ST_GeogFromText(%(p)s), %(r)s) "
    "ORDER BY distance_m LIMIT 500"
)
BARE_VARIANTS = ("bare", "bare_ordered", "bare_jit_off", "bare_ordered_jit_off")


def random_points(count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    west, south, east, north = _data.RALEIGH
    return [(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(count)]


def ewkt(x: float, y: float) -> str:
    return f"SRID=4326;POINT({x:.7f} {y:.7f})"


def plain_connection(options: str = ""):
    """A psycopg connection outside Django, binding on the client like Django; `options` as in libpq."""
    import psycopg

    return psycopg.connect(_data.DATABASE_URL, options=options, autocommit=True, cursor_factory=psycopg.ClientCursor)


def measure(size: int, radius_m: int, samples: int, warmup: int, explain: bool) -> dict:
    from django.contrib.gis.geos import Point
    from django.db import connection

    from registry import selectors

    _data.ensure_cameras(size)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection the selector uses (client-side binding, like Django)
    server_default, jit_off = plain_connection(), plain_connection("-c jit=off")
    settings = {name: conn.execute("SHOW jit").fetchone()[0]
                for name, conn in (("django", raw), ("server_default", server_default), ("jit_off", jit_off))}

    def selector_params(x, y):  # what cameras_near passes for this point
        return {"point": ewkt(x, y), "radius": radius_m, "statuses": ["active"], "limit": LIMIT}

    def fetch(conn, sql, params):
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    def bare(x, y):
        return {"p": ewkt(x, y), "r": radius_m}

    variants = {
        "selector": lambda x, y: len(selectors.cameras_near(point=Point(x, y, srid=4326), radius_m=radius_m)),
        "selector_sql": lambda x, y: fetch(raw, selectors._NEAR_SQL, selector_params(x, y)),
        "selector_sql_server_jit": lambda x, y: fetch(server_default, selectors._NEAR_SQL, selector_params(x, y)),
        "bare": lambda x, y: fetch(server_default, BARE_SQL, bare(x, y)),
        "bare_ordered": lambda x, y: fetch(server_default, BARE_ORDERED_SQL, bare(x, y)),
        "bare_jit_off": lambda x, y: fetch(jit_off, BARE_SQL, bare(x, y)),
        "bare_ordered_jit_off": lambda x, y: fetch(jit_off, BARE_ORDERED_SQL, bare(x, y)),
    }
    times = {name: [] for name in variants}
    rows = {name: [] for name in variants}
    order_rng = random.Random(size + radius_m)

    for x, y in random_points(warmup, seed=1):  # warm caches and code paths; not recorded
        for run in variants.values():
            run(x, y)
    for x, y in random_points(samples, seed=2):
        names = list(variants)
        order_rng.shuffle(names)
        for name in names:
            started = time.perf_counter()
            count = variants[name](x, y)
            times[name].append(time.perf_counter() - started)
            rows[name].append(count)

    result = {name: _data.percentiles(times[name]) for name in variants}
    for name in variants:
        result[name]["rows_mean"] = round(sum(rows[name]) / len(rows[name]), 1)
    selector, bare_p, ordered = result["selector"], result["bare"], result["bare_ordered"]
    best = min(BARE_VARIANTS, key=lambda name: result[name]["p50_ms"])
    result["jit"] = settings
    result["ratio_p50"] = _data.ratio(selector["p50_ms"], bare_p["p50_ms"])
    result["ratio_p95"] = _data.ratio(selector["p95_ms"], bare_p["p95_ms"])
    result["ratio_ordered_p50"] = _data.ratio(selector["p50_ms"], ordered["p50_ms"])
    result["best_bare"] = best
    result["ratio_best_bare_p50"] = _data.ratio(selector["p50_ms"], result[best]["p50_ms"])
    result["jit_share_before_p50_ms"] = round(
        result["selector_sql_server_jit"]["p50_ms"] - result["selector_sql"]["p50_ms"], 2)

    if explain:
        x, y = random_points(1, seed=3)[0]
        for label, conn, sql, params in (
                ("selector", raw, selectors._NEAR_SQL, selector_params(x, y)),
                ("selector, server's jit", server_default, selectors._NEAR_SQL, selector_params(x, y)),
                ("bare", server_default, BARE_SQL, bare(x, y)),
                ("bare_ordered", server_default, BARE_ORDERED_SQL, bare(x, y))):
            with conn.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, VERBOSE) " + sql, params)
                plan = "\n".join(line for (line,) in cursor.fetchall())
            _data.log(f"--- EXPLAIN ANALYZE {label} at {size:,} cameras, {radius_m} m ---\n{plan}")
    server_default.close()
    jit_off.close()
    return result


def camera_table_options() -> list[str]:
    """registry_camera's storage options: migration 0003 sets parallel_workers=0."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'registry_camera'::regclass")
        return cursor.fetchone()[0] or []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k cameras, fewer points")
    parser.add_argument("--sizes", type=lambda text: [int(v) for v in text.split(",")],
                        help="camera counts, e.g. 10000,1000000")
    parser.add_argument("--radius", type=lambda text: [int(v) for v in text.split(",")],
                        help="radii in metres, e.g. 500,2000 (the default)")
    parser.add_argument("--samples", type=int, help="timed points per size and radius")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE at the largest size to stderr")
    args = parser.parse_args()
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    radii = args.radius or list(RADII_M)
    warmup = 10 if args.quick else 40

    def samples_for(radius_m: int) -> int:
        """Fewer points at larger radii, whose queries take longer: 400 at 500 m, 100 at 2 km (a quarter quick)."""
        if args.samples:
            return args.samples
        full = 400 if radius_m <= 500 else 100
        return full // 4 if args.quick else full

    _data.setup_django()
    # Measure the dataset already in place first: a rerun then builds as little as it can.
    current = _data.current_size()
    results = {}
    for size in sorted(sizes, key=lambda n: (n != current, n)):
        for radius_m in radii:
            samples = samples_for(radius_m)
            _data.log(f"nearby: {size:,} cameras, {radius_m} m, {samples} points ...")
            r = measure(size, radius_m, samples, warmup, explain=args.explain and size == max(sizes))
            results.setdefault(size, {})[radius_m] = r
            _data.log(f"  selector p50 {r['selector']['p50_ms']} ms p95 {r['selector']['p95_ms']} ms | "
                      f"selector SQL p50 {r['selector_sql']['p50_ms']} ms (server's jit: "
                      f"{r['selector_sql_server_jit']['p50_ms']} ms) | bare p50 {r['bare']['p50_ms']} ms "
                      f"(jit off {r['bare_jit_off']['p50_ms']} ms) | bare ordered p50 {r['bare_ordered']['p50_ms']}"
                      f" ms (jit off {r['bare_ordered_jit_off']['p50_ms']} ms) | ratio p50 {r['ratio_p50']} "
                      f"(to best bare, {r['best_bare']}: {r['ratio_best_bare_p50']})")

    at_size, at_radius = max(sizes), max(radii)
    largest = results[at_size][at_radius]
    summary = {
        "benchmark": "nearby",
        "radii_m": radii,
        "limit": LIMIT,
        "samples": {str(radius_m): samples_for(radius_m) for radius_m in radii},
        "quick": args.quick,
        "camera_table_options": camera_table_options(),
        "sizes": {str(size): {str(radius_m): results[size][radius_m] for radius_m in radii}
                  for size in sorted(results)},
        "targets": {
            "at_size": at_size,
            "at_radius_m": at_radius,
            "ratio_max": 2,
            "ratio_met": largest["ratio_p50"] <= 2,
            "ratio_best_bare_met": largest["ratio_best_bare_p50"] <= 2,
            "p50_ms_max_at_500_m": 10,
            "p50_met_at_500_m": results[at_size][500]["selector"]["p50_ms"] <= 10 if 500 in radii else None,
        },
        "machine": _data.machine(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
