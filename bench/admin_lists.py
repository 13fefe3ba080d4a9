"""The admin's camera list at a million cameras: its first page, a search, and its last page.

    .venv/bin/python bench/admin_lists.py          # 100 of each page and bare query
    .venv/bin/python bench/admin_lists.py --quick  # 20 of each

Dataset: 1,000,000 active cameras over Raleigh (bench/_data.py; kept between runs, shared with the other 1M
benchmarks). It starts connect's web and ledger processes as the Procfile does (api_nearby.running_server) on
connect_bench, signs staff users in through database sessions, and times, alternately, on one keep-alive
connection each:
  list         GET /admin/registry/camera/ as an Investigator (100 cameras a page, ordered by label)
  search       GET /admin/registry/camera/?q=<an address number and street> as an Investigator (label, address, code)
  search_admin the same search as an Administrator, whose search also covers the owner's name and email
  last_page    GET /admin/registry/camera/?p=<the last page the list links to> as an Investigator
  server CPU   the web process's CPU per page, from /proc (bench/_cpu.py): less at the mercy of a shared machine
  bare_*       the page's own SELECT (captured from the same page rendered in this process) run through psycopg
               on a connection with jit off, as connect's own: the best a list could do for the rows it shows
Each page also records one ledger entry per camera shown (the owner reads it), which the bare queries do not.

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import http.client
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _cpu import cpu_seconds, pid_serving  # noqa: E402
from _sessions import staff_cookie  # noqa: E402
from api_nearby import running_server  # noqa: E402

CAMERAS = 1_000_000
REDIS_DB = 18
SEARCH = "4821 Bench"
LIST = "/admin/registry/camera/"
ROW = r'<th class="field-label">'  # each camera's row starts with its label



def page_query(cookie: str, path: str) -> str:
    """The SELECT of the cameras a page shows, as the page ran it here (ordered, limited), parameters written in."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    name, value = cookie.split("=", 1)
    client.cookies[name] = value
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code} in process")
    pages = [q["sql"] for q in captured.captured_queries
             if q["sql"].startswith("SELECT") and 'FROM "registry_camera"' in q["sql"] and " LIMIT " in q["sql"]
             and "COUNT(" not in q["sql"]]
    if not pages:
        raise RuntimeError(f"no page query captured for {path}")
    return pages[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--samples", type=int, help="timed pages of each kind (and as many bare queries)")
    args = parser.parse_args()
    samples = args.samples or (20 if args.quick else 100)
    warmup = 3 if args.quick else 10

    _data.setup_django(REDIS_DB)
    _data.ensure_cameras(CAMERAS)

    import psycopg

    from common.roles import ADMINISTRATOR, INVESTIGATOR

    investigator = staff_cookie("bench-investigator", INVESTIGATOR)
    administrator = staff_cookie("bench-administrator", ADMINISTRATOR)
    search_path = f"{LIST}?q={SEARCH.replace(' ', '+')}"

    redis_url = f"{_data.REDIS}/{REDIS_DB}"
    with _services.redis_database(redis_url, "admin_lists"), running_server(redis_url) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def get(path: str, cookie: str) -> str:
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()  # uvicorn closes a keep-alive connection idle for 5 s: open it again
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
            body = response.read().decode()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
            return body

        first = get(LIST, investigator)
        pages = [int(p) for p in re.findall(r"\?p=(\d+)", first)]
        last_path = f"{LIST}?p={max(pages)}"
        shown = re.search(r"(about )?([\d,]+) cameras", first)
        found = get(search_path, investigator)
        found_rows = len(re.findall(ROW, found))
        last = get(last_path, investigator)
        last_rows = len(re.findall(ROW, last))
        _data.log(f"admin_lists: list says {shown.group(0) if shown else '?'}; last page {last_path} holds "
                  f"{last_rows} cameras; '{SEARCH}' finds {found_rows}")

        bare_sql = {"list": page_query(investigator, LIST), "search": page_query(investigator, search_path),
                    "search_admin": page_query(administrator, search_path),
                    "last_page": page_query(investigator, last_path)}
        bare_conn = psycopg.connect(_data.DATABASE_URL, autocommit=True, options="-c jit=off")

        def bare(sql: str) -> int:
            with bare_conn.cursor() as cursor:
                cursor.execute(sql)
                return len(cursor.fetchall())

        runs = {
            "list": lambda: get(LIST, investigator),
            "search": lambda: get(search_path, investigator),
            "search_admin": lambda: get(search_path, administrator),
            "last_page": lambda: get(last_path, investigator),
            **{f"bare_{name}": (lambda sql=sql: bare(sql)) for name, sql in bare_sql.items()},
        }
        for _ in range(warmup):
            for run in runs.values():
                run()
        times = {name: [] for name in runs}
        cpu_used = dict.fromkeys(runs, 0.0)  # the web process's CPU seconds during each kind's requests
        server_pid = pid_serving(port)
        _data.log(f"admin_lists: timing {samples} of each: {', '.join(runs)} ...")
        for i in range(samples):
            names = list(runs)
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:  # each one first in turn
                started, cpu = time.perf_counter(), cpu_seconds(server_pid)
                runs[name]()
                times[name].append(time.perf_counter() - started)
                cpu_used[name] += cpu_seconds(server_pid) - cpu
        conn.close()
        bare_conn.close()

    figures = {name: _data.percentiles(values) for name, values in times.items()}
    pages_p50 = {name: figures[name]["p50_ms"] for name in ("list", "search", "search_admin", "last_page")}
    summary = {
        "benchmark": "admin_lists",
        "quick": args.quick,
        "cameras": CAMERAS,
        "list_says": shown.group(0) if shown else None,
        "last_page": last_path,
        "last_page_rows": last_rows,
        "search": SEARCH,
        "search_rows": found_rows,
        **figures,
        "ratios_p50": {name: _data.ratio(p50, figures[f"bare_{name}"]["p50_ms"]) for name, p50 in pages_p50.items()},
        # The web process's CPU per page (the bare queries' rows read 0: no request reached it then).
        "server_cpu_ms_per_page": {name: round(cpu_used[name] / samples * 1000, 1) for name in pages_p50},
        "targets": {"p50_ms_max": 150, **{f"{name}_met": p50 < 150 for name, p50 in pages_p50.items()}},
        "machine": _data.machine(),
    }
    _data.log("admin_lists: " + "; ".join(f"{name} p50 {p50} ms (bare {figures['bare_' + name]['p50_ms']} ms)"
                                          for name, p50 in pages_p50.items()))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
