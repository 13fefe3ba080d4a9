"""Shared set-up for the benchmarks: the connect_bench database, Django, and the synthetic camera registry.

Every benchmark runs against its own database, `connect_bench` (never the dev server's `connect`). The
dataset is made in SQL (INSERT ... SELECT generate_series) and described by a row in `bench_dataset`, so a
rerun that asks for the same dataset reuses it instead of building it again.

The dataset: `n` active outdoor cameras spread uniformly over the Raleigh box, owned by a few owners of
every kind, one camera in ten integrated. It is drawn in two strata so that exactly n/10 cameras fall in
VIEWPORT (a box covering 10% of the Raleigh box, in its middle) and the other 9n/10 elsewhere in the
Raleigh box: the density is the same everywhere, and the viewport holds a known number of cameras.
"""

import os
import statistics
import sys
import time
from pathlib import Path

import _services

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "connect_bench"
# The servers PG_PORT / REDIS_PORT or CONNECT_DATABASE_URL / CONNECT_REDIS_URL name (bench/_services.py).
PG, REDIS = _services.servers(Path(sys.argv[0]).stem)
DATABASE_URL = f"{PG}/{DB_NAME}"
# The Redis database connect's processes use for benchmarks on connect_bench (the dev server's is 0, the tests' 15).
REDIS_DB = 13

# Raleigh, NC: west, south, east, north in degrees.
RALEIGH = (-78.82, 35.70, -78.47, 35.97)


def _viewport() -> tuple[float, float, float, float]:
    """The middle of RALEIGH scaled by sqrt(0.1) on each side: 10% of its area (in degrees squared)."""
    west, south, east, north = RALEIGH
    k = 0.1 ** 0.5
    cx, cy, w, h = (west + east) / 2, (south + north) / 2, (east - west) * k, (north - south) * k
    return (round(cx - w / 2, 6), round(cy - h / 2, 6), round(cx + w / 2, 6), round(cy + h / 2, 6))


VIEWPORT = _viewport()
OWNERS = 30  # a few owners, ten of each kind
GENERATOR = "uniform-raleigh-v1"  # change when the generator below changes, so old datasets are rebuilt


def log(*parts) -> None:
    """Progress goes to stderr: stdout's last line is the JSON result."""
    print(*parts, file=sys.stderr, flush=True)


def ensure_database() -> None:
    """Creates connect_bench if it is missing (template1 carries PostGIS, so it is spatial at once)."""
    _services.database_ensure(PG, DB_NAME, Path(sys.argv[0]).stem)


def bench_env(redis_db: int = REDIS_DB) -> dict[str, str]:
    """The environment connect runs with here: demo mode on connect_bench, the benchmark's Redis database."""
    return {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": f"{REDIS}/{redis_db}",
            "DJANGO_SETTINGS_MODULE": "connect.settings"}


def setup_django(redis_db: int = REDIS_DB) -> None:
    """Points Django at connect_bench and Redis database `redis_db`, sets it up and migrates. Call before importing
    connect's modules."""
    ensure_database()
    os.environ.update(bench_env(redis_db))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _sql(cursor, statement: str, params=None):
    cursor.execute(statement, params)
    return cursor


def current_dataset() -> str | None:
    from django.db import connection

    with connection.cursor() as cursor:
        _sql(cursor, "CREATE TABLE IF NOT EXISTS bench_dataset (id int PRIMARY KEY, spec text NOT NULL)")
        row = _sql(cursor, "SELECT spec FROM bench_dataset WHERE id = 1").fetchone()
    return row[0] if row else None


def dataset_spec(n: int) -> str:
    return f"{GENERATOR} n={n}"


def current_size() -> int | None:
    """The camera count of the dataset in place, if it was made by this generator."""
    spec = current_dataset()
    if spec and spec.startswith(GENERATOR + " n="):
        return int(spec.split("n=")[1])
    return None


def ensure_cameras(n: int, *, seed: float = 0.42) -> None:
    """Makes registry_camera hold exactly the dataset of n cameras described above; reuses it if it does."""
    from django.db import connection, transaction

    if n % 10:
        raise ValueError("n must be a multiple of 10")
    spec = dataset_spec(n)
    with connection.cursor() as cursor:
        active = _sql(cursor, "SELECT count(*) FROM registry_camera WHERE status = 'active'").fetchone()[0]
    if current_dataset() == spec and active == n:
        log(f"dataset: reusing {n:,} cameras")
        return
    log(f"dataset: building {n:,} cameras ...")
    started = time.perf_counter()
    inside, outside = n // 10, n - n // 10
    vw, vs, ve, vn = VIEWPORT
    rw, rs, re_, rn = RALEIGH
    with transaction.atomic(), connection.cursor() as cursor:
        # CASCADE empties the (empty here) tables that point at cameras or owners: links, requests, shares.
        _sql(cursor, "TRUNCATE registry_owner, registry_camera RESTART IDENTITY CASCADE")
        _sql(cursor, "DELETE FROM bench_dataset")
        _sql(cursor, """
            INSERT INTO registry_owner (code, kind, name, email, phone, address, terms_version,
                                        terms_accepted_at, created_at, confirmed_at, daily_digest, language)
            SELECT gen_random_uuid(), (ARRAY['resident', 'business', 'agency'])[1 + i %% 3],
                   'Bench owner ' || i, 'owner' || i || '@bench.invalid', '', '', 'bench', now(), now(), now(), false,
                   'en'
            FROM generate_series(1, %(owners)s) AS i
        """, {"owners": OWNERS})
        _sql(cursor, "SELECT setseed(%s)", (seed,))
        # Stratum 1: n/10 cameras inside the viewport. Stratum 2: 9n/10 in the rest of the Raleigh box
        # (drawn over the whole box, those inside the viewport dropped; 1.25x candidates leave ample margin).
        _sql(cursor, """
            WITH points AS (
                SELECT ST_MakePoint(%(vw)s + random() * (%(ve)s - %(vw)s), %(vs)s + random() * (%(vn)s - %(vs)s)) AS p
                FROM generate_series(1, %(inside)s)
                UNION ALL
                (SELECT p FROM (
                    SELECT ST_MakePoint(%(rw)s + random() * (%(re)s - %(rw)s),
                                        %(rs)s + random() * (%(rn)s - %(rs)s)) AS p
                    FROM generate_series(1, (%(outside)s * 1.25)::int)
                 ) AS candidates
                 WHERE NOT (ST_X(p) BETWEEN %(vw)s AND %(ve)s AND ST_Y(p) BETWEEN %(vs)s AND %(vn)s)
                 LIMIT %(outside)s)
            ), numbered AS (
                SELECT row_number() OVER () AS i, p FROM points
            )
            INSERT INTO registry_camera (code, owner_id, label, location, address, placement, direction_deg,
                field_of_view_deg, range_m, records, retention_days, level, status, faces_public, verified,
                created_at, updated_at)
            SELECT gen_random_uuid(), 1 + i %% %(owners)s, 'Camera ' || i, ST_SetSRID(p, 4326)::geography,
                   i || ' Bench St, Raleigh, NC', 'outdoor', floor(random() * 360)::int,
                   (ARRAY[60, 90, 120, 360])[1 + i %% 4], 20 + floor(random() * 40)::int, true, 7,
                   CASE WHEN i %% 10 = 0 THEN 'integrated' ELSE 'registered' END, 'active', true, true, now(), now()
            FROM numbered
        """, {"vw": vw, "vs": vs, "ve": ve, "vn": vn, "rw": rw, "rs": rs, "re": re_, "rn": rn,
              "inside": inside, "outside": outside, "owners": OWNERS})
        got = _sql(cursor, "SELECT count(*) FROM registry_camera").fetchone()[0]
        if got != n:
            raise RuntimeError(f"dataset generator made {got} cameras, not {n}")
        _sql(cursor, "INSERT INTO bench_dataset (id, spec) VALUES (1, %s)", (spec,))
    with connection.cursor() as cursor:  # VACUUM cannot run in a transaction; Django autocommits here
        _sql(cursor, "VACUUM (ANALYZE) registry_owner")
        _sql(cursor, "VACUUM (ANALYZE) registry_camera")
    log(f"dataset: built {n:,} cameras in {time.perf_counter() - started:.1f} s")


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50 / p95 / mean / min of samples in seconds, as milliseconds rounded to 0.01."""
    ordered = sorted(samples_s)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
        "n": len(ordered),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import platform

    from django.db import connection

    with connection.cursor() as cursor:
        pg = _sql(cursor, "SHOW server_version").fetchone()[0]
        postgis = _sql(cursor, "SELECT PostGIS_Lib_Version()").fetchone()[0]
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpus": str(os.cpu_count()),
        "memory_gib": f"{mem_kib / 1024 / 1024:.1f}",
        "python": platform.python_version(),
        "postgresql": pg,
        "postgis": postgis,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
