"""Type-ahead address search over HTTP at 200,000 address points, beside the bare trigram SQL in the same run.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/address_search.py          # 300 requests of each kind
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/address_search.py --quick  # 60 of each

Dataset: 200,000 generated Raleigh address points (addresses/demo.py, the demo's generator at a larger size), as
the set `bench-200k` in connect_bench; reused when it is already there. The queries are what a person types while
the list narrows: a house number and the start of the street ("2004 n oakw"), most of a street address, and a street
name alone ("glenwoo", which takes the word-start path on the GIN trigram index), drawn from the dataset with a fixed
seed. connect's real ASGI server (uvicorn, as the Procfile runs it) answers, with the ledger's sealer process
(`manage.py seal_ledger --follow`) beside it as in production, and these are timed in turn:
  http        GET /addresses/search.json?q=... anonymous, as the registration page asks (the per-address rate limit
              is checked in Redis on every request; its ceiling is raised so that it never refuses one)
  http_staff  the same signed in as a crime analyst: each search also writes its ledger entry
  bare        the selector's two SQL statements (addresses.selectors._PREFIX_SQL, then _WORD_SQL when the first
              found fewer than eight) run through psycopg on a connection of its own: no Django, no HTTP
Target (issue 16): http p50 under 50 ms. Ratios to bare are reported.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import http.client
import json
import os
import random
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import single_run_guard  # noqa: E402
from _sessions import staff_cookie  # noqa: E402
from api_nearby import running_server  # noqa: E402

ADDRESSES = 200_000
CITY = "bench-200k"
REDIS_DB = 17  # this script's own Redis database (bench/_services.py)
REDIS_URL = f"{_data.REDIS}/{REDIS_DB}"
USERNAME = "bench-address-analyst"


def ensure_addresses() -> None:
    """The 200,000 points of the generator, loaded once: kept when the set's count and first address match."""
    from django.db import connection

    from addresses.demo import demo_addresses
    from addresses.models import AddressPoint
    from addresses.services import address_points_replace

    rows = demo_addresses(ADDRESSES, seed=16)
    points = AddressPoint.objects.filter(city=CITY)
    if points.count() == ADDRESSES and points.filter(address=rows[0].address).exists():
        _data.log(f"addresses: reusing {ADDRESSES:,} points")
        return
    started = time.perf_counter()
    address_points_replace(city=CITY, rows=rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) addresses_addresspoint")
    _data.log(f"addresses: loaded {ADDRESSES:,} points in {time.perf_counter() - started:.1f} s")


def typed_queries(count: int) -> list[str]:
    """What people type, from addresses in the set: number and the start of the street, most of the address, or
    the start of the street's name."""
    from addresses.demo import demo_addresses

    rng = random.Random(7)
    rows = demo_addresses(ADDRESSES, seed=16)
    queries = []
    while len(queries) < count:
        street = rng.choice(rows).address.split(",")[0]
        number, name = street.split(" ", 1)
        kind = len(queries) % 3
        if kind == 0:
            queries.append(f"{number} {name[:rng.randint(1, 4)]}")
        elif kind == 1:
            queries.append(street[:max(6, len(street) - rng.randint(1, 4))])
        else:
            words = name.split(" ")
            word = max(words, key=len)
            queries.append(word[:rng.randint(3, len(word))] if len(word) > 3 else word)
    return queries


def staff_session_cookie() -> str:
    """A signed-in session of a crime analyst."""
    from common.roles import CRIME_ANALYST

    return staff_cookie(USERNAME, CRIME_ANALYST)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--samples", type=int, help="timed requests of each kind")
    args = parser.parse_args()
    samples = args.samples or (60 if args.quick else 300)
    warmup = 10 if args.quick else 30

    guard = single_run_guard("address_search")
    _data.setup_django(REDIS_DB)
    ensure_addresses()

    import psycopg

    from addresses import selectors
    from addresses.text import like_escaped, search_text

    queries = typed_queries(samples + warmup)
    cookie = staff_session_cookie()
    bare_conn = psycopg.connect(_data.DATABASE_URL, autocommit=True, cursor_factory=psycopg.ClientCursor)

    def bare(text: str) -> int:
        folded = like_escaped(search_text(text.split(",")[0]))
        params = {"prefix": f"{folded}%", "word": f"% {folded}%", "limit": selectors.SUGGESTIONS,
                  "candidates": selectors.CANDIDATES}
        with bare_conn.cursor() as cursor:
            found = cursor.execute(selectors._PREFIX_SQL, params).fetchall()
            if len(found) < selectors.SUGGESTIONS:
                found += cursor.execute(selectors._WORD_SQL,
                                        {**params, "limit": selectors.SUGGESTIONS - len(found)}).fetchall()
        return len(found)

    # The web and ledger processes as the Procfile runs them (bench/api_nearby.py): with the sealer running, a staff
    # search's ledger entry costs one INSERT, as in production. The rate limit is checked but never reached.
    os.environ["CONNECT_ADDRESS_SEARCH_PER_MINUTE"] = str(10 ** 9)
    with _services.redis_database(REDIS_URL, "address_search"), running_server(REDIS_URL) as port:
        http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(text: str, headers=None) -> int:
            http_conn.request("GET", "/addresses/search.json?" + urllib.parse.urlencode({"q": text}),
                              headers=headers or {})
            response = http_conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"search {text!r} answered {response.status}: {body[:300]!r}")
            return len(json.loads(body)["results"])

        runs = {"http": get, "http_staff": lambda text: get(text, {"Cookie": cookie}), "bare": bare}
        for text in queries[:warmup]:
            for run in runs.values():
                run(text)
        times = {name: [] for name in runs}
        found = {name: 0 for name in runs}
        _data.log(f"addresses: timing {samples} searches of each kind ...")
        for i, text in enumerate(queries[warmup:]):
            names = list(runs)
            for name in names[i % 3:] + names[:i % 3]:  # each one first in turn
                started = time.perf_counter()
                found[name] += runs[name](text) > 0
                times[name].append(time.perf_counter() - started)
        http_conn.close()
    bare_conn.close()

    result = {name: _data.percentiles(values) for name, values in times.items()}
    summary = {
        "benchmark": "address_search",
        "quick": args.quick,
        "addresses": ADDRESSES,
        "queries": samples,
        "queries_with_results": found,
        "http": result["http"],
        "http_staff": result["http_staff"],
        "bare": result["bare"],
        "ratio_p50": _data.ratio(result["http"]["p50_ms"], result["bare"]["p50_ms"]),
        "ratio_staff_p50": _data.ratio(result["http_staff"]["p50_ms"], result["bare"]["p50_ms"]),
        "ledger_sealer_process": True,
        "targets": {"p50_ms_max": 50, "p50_met": result["http"]["p50_ms"] < 50,
                    "staff_p50_met": result["http_staff"]["p50_ms"] < 50},
        "machine": _data.machine(),
    }
    _data.log(f"addresses: http p50 {result['http']['p50_ms']} ms p95 {result['http']['p95_ms']} ms | staff p50 "
              f"{result['http_staff']['p50_ms']} ms | bare p50 {result['bare']['p50_ms']} ms | ratio p50 "
              f"{summary['ratio_p50']}")
    guard.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
