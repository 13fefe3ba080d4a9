"""Radius search: cameras within 500 m of a random point in Raleigh, at 10k, 100k and 1M cameras.

    .venv/bin/python bench/nearby.py            # 10k, 100k, 1M cameras; 400 points each
    .venv/bin/python bench/nearby.py --quick    # 10k and 100k; 100 points each (well under a minute)
    .venv/bin/python bench/nearby.py --explain  # also prints EXPLAIN ANALYZE of each query at the largest size

For each point it times, in a shuffled order, on one database connection (Django's, from its pool):
  selector      registry.selectors.cameras_near(point=, radius_m=500), exactly as /map/nearby.json calls it:
                one SQL query through Django's cursor, at most 500 rows, returned as NearbyCamera objects
  selector_sql  (diagnostic) the selector's own SQL text (selectors._NEAR_SQL) and parameters on the raw
                psycopg cursor, rows fetched as tuples: the database-and-driver share of the selector's time
  bare          SELECT id ... WHERE status='active' AND ST_DWithin(location, ST_GeogFromText(...), 500)
                (the headline baseline)
  bare_ordered  the same plus ST_Distance, ORDER BY distance LIMIT 500 (the least the database must do)

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

RADIUS_M = 500
LIMIT = 500  # cameras_near's default, which /map/nearby.json uses

BARE_SQL = (
    "SELECT id FROM registry_camera "
    "WHERE status = 'active' AND ST_DWithin(location, ST_GeogFromText(%(p)s), 500)"
)
BARE_ORDERED_SQL = (
    "SELECT id, ST_Distance(location, ST_GeogFromText(%(p)s)) AS distance_m FROM registry_camera "
    "WHERE status = 'active' AND ST_DWithin(location, ST_GeogFromText(%(p)s), 500) "
    "ORDER BY distance_m LIMIT 500"
)


def random_points(count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    west, south, east, north = _data.RALEIGH
    return [(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(count)]


def ewkt(x: float, y: float) -> str:
    return f"SRID=4326;POINT({x:.7f} {y:.7f})"


def measure(size: int, samples: int, warmup: int, explain: bool) -> dict:
    from django.contrib.gis.geos import Point
    from django.db import connection

    from registry import selectors

    _data.ensure_cameras(size)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection the selector uses (client-side binding, like Django)

    def selector_params(x, y):  # what cameras_near passes for this point
        return {"point": ewkt(x, y), "radius": RADIUS_M, "statuses": ["active"], "limit": LIMIT}

    def fetch(sql, params):
        with raw.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    variants = {
        "selector": lambda x, y: len(selectors.cameras_near(point=Point(x, y, srid=4326), radius_m=RADIUS_M)),
        "selector_sql": lambda x, y: fetch(selectors._NEAR_SQL, selector_params(x, y)),
        "bare": lambda x, y: fetch(BARE_SQL, {"p": ewkt(x, y)}),
        "bare_ordered": lambda x, y: fetch(BARE_ORDERED_SQL, {"p": ewkt(x, y)}),
    }
    times = {name: [] for name in variants}
    rows = {name: [] for name in variants}
    order_rng = random.Random(size)

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
    selector, bare, ordered = result["selector"], result["bare"], result["bare_ordered"]
    result["ratio_p50"] = _data.ratio(selector["p50_ms"], bare["p50_ms"])
    result["ratio_p95"] = _data.ratio(selector["p95_ms"], bare["p95_ms"])
    result["ratio_ordered_p50"] = _data.ratio(selector["p50_ms"], ordered["p50_ms"])

    if explain:
        x, y = random_points(1, seed=3)[0]
        for label, sql, params in (("selector", selectors._NEAR_SQL, selector_params(x, y)),
                                   ("bare", BARE_SQL, {"p": ewkt(x, y)}),
                                   ("bare_ordered", BARE_ORDERED_SQL, {"p": ewkt(x, y)})):
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, VERBOSE) " + sql, params)
                plan = "\n".join(line for (line,) in cursor.fetchall())
            _data.log(f"--- EXPLAIN ANALYZE {label} at {size:,} cameras ---\n{plan}")
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
    parser.add_argument("--samples", type=int, help="timed points per size")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE at the largest size to stderr")
    args = parser.parse_args()
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    samples = args.samples or (100 if args.quick else 400)
    warmup = 10 if args.quick else 40

    _data.setup_django()
    # Measure the dataset already in place first: a rerun then builds as little as it can.
    current = _data.current_size()
    results = {}
    for size in sorted(sizes, key=lambda n: (n != current, n)):
        _data.log(f"nearby: {size:,} cameras, {samples} points ...")
        results[size] = r = measure(size, samples, warmup, explain=args.explain and size == max(sizes))
        _data.log(f"  selector p50 {r['selector']['p50_ms']} ms p95 {r['selector']['p95_ms']} ms | "
                  f"selector SQL p50 {r['selector_sql']['p50_ms']} ms | bare p50 {r['bare']['p50_ms']} ms "
                  f"p95 {r['bare']['p95_ms']} ms | bare ordered p50 {r['bare_ordered']['p50_ms']} ms | "
                  f"ratio p50 {r['ratio_p50']} (to ordered {r['ratio_ordered_p50']})")

    largest = results[max(sizes)]
    summary = {
        "benchmark": "nearby",
        "radius_m": RADIUS_M,
        "limit": LIMIT,
        "samples_per_size": samples,
        "quick": args.quick,
        "camera_table_options": camera_table_options(),
        "sizes": {str(size): results[size] for size in sorted(results)},
        "targets": {
            "at_size": max(sizes),
            "p50_ms_max": 10,
            "ratio_max": 2,
            "p50_met": largest["selector"]["p50_ms"] <= 10,
            "ratio_met": largest["ratio_p50"] <= 2,
        },
        "machine": _data.machine(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
