"""The API's nearby-cameras endpoint over HTTP at 100,000 cameras with 8 concurrent clients.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/api_nearby.py          # 8 clients x 150 requests
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/api_nearby.py --quick  # 8 clients x 24 requests

Dataset: 100,000 active cameras over Raleigh (bench/_data.py). connect's real ASGI server (uvicorn, as the
Procfile runs it, one process) serves GET /api/v1/cameras/nearby/?lat=&lng=&radius=300 to 8 client threads,
each on its own keep-alive connection with an API token (scope registry:read), at points drawn in the
middle of the city. The clients send requests made before the timing and read the answers with a load generator's
light client (bench/_light_http.py): http.client cost 0.24 ms of the same two cores a request. Every request writes
its access-ledger entry, as in production, and the ledger process (`manage.py seal_ledger --follow`) runs beside the
server to chain it.
Baseline, same run, same points: the bare selector (registry.selectors.cameras_near) called by 8 threads in
this process, each with its own database connection: no HTTP, no token, no ledger. The two sides take turns in three
rounds (a third of each side's requests per round), so that a change in the machine's load during the run (the bare
side's rate moved from 1,000 to 1,900 calls/s between runs minutes apart on this shared machine) falls on both.
Reported: requests per second and p50/p95/p99 latency of each, and their ratios. Beside them, the CPU each side
used per request (`cpu_ms_per_request`: the web and ledger processes, PostgreSQL's processes when it runs on this
machine, Redis by its INFO, and this process's client or bare threads) and their ratio (`ratio_cpu`): on a shared
machine, wall-clock throughput also measures how the scheduler shares the cores between one web process and the
other work, while CPU per request moves much less with the load.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _light_http import KeepAlive  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

CAMERAS = 100_000
CLIENTS = 8
RADIUS = 300
ROUNDS = 3  # the HTTP and the bare side take turns
REDIS_DB = 9  # this script's own Redis database (bench/_services.py)
REDIS_URL = f"{_data.REDIS}/{REDIS_DB}"


@contextlib.contextmanager
def running_server(redis_url: str = REDIS_URL, processes: dict | None = None):
    """connect's web and ledger processes as the Procfile runs them (uvicorn, one process; the ledger's sealer,
    which chains the entry each request records) on connect_bench and `redis_url`; the web one on a free port.
    Yields the port, stops both after (printing a log that shows a failure). `processes`, if given, gets their pids
    (keys "web" and "ledger")."""
    from map_geojson import wait_until_serving

    port = free_port()
    env = {**os.environ, **_data.bench_env(), "CONNECT_REDIS_URL": redis_url}
    web = [sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1", "--port",
           str(port), "--no-server-header", "--no-access-log"]
    ledger = [sys.executable, "manage.py", "seal_ledger", "--follow"]
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(_process(web, env))
        sealer = stack.enter_context(_process(ledger, env))
        if processes is not None:
            processes.update(web=server.pid, ledger=sealer.pid)
        wait_until_serving(port, "/api/v1/cameras/", server)  # 401 without a token: up
        _wait_for_the_sealer(sealer)
        yield port
        if sealer.poll() is not None:
            raise RuntimeError("the ledger's sealer process stopped during the run: its figures are not valid")


def _wait_for_the_sealer(sealer: subprocess.Popen, timeout: float = 30) -> None:
    """Until the sealer holds its lock, then as long as the web process trusts an earlier look for it: from
    then on every request's ledger entry is one INSERT, as in production."""
    from django.db import connection

    from audit.ledger.sealer import PRESENCE_TTL_S, SEALER_LOCK

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sealer.poll() is not None:
            raise RuntimeError("the ledger's sealer process failed to start")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
                           "AND objid = %s AND objsubid = 1", [SEALER_LOCK])
            if cursor.fetchone()[0]:
                time.sleep(PRESENCE_TTL_S)
                return
        time.sleep(0.1)
    raise RuntimeError(f"the ledger's sealer did not take its lock within {timeout:.0f} s")


@contextlib.contextmanager
def _process(command: list[str], env: dict):
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=_data.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            log.seek(0)
            text = log.read()
            if process.returncode not in (0, -15) or "Traceback" in text:
                _data.log(text[-3000:])


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s() -> float | None:
    """CPU seconds of the whole PostgreSQL server (the postmaster, its living processes and, counted in its children
    totals, the ended ones), or None when it does not run on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
        fields = Path(f"/proc/{postmaster}/stat").read_text().rpartition(")")[2].split()
        if b"postgres" not in Path(f"/proc/{postmaster}/cmdline").read_bytes():
            return None
        living = [int(pid) for task in Path(f"/proc/{postmaster}/task").iterdir()
                  for pid in (task / "children").read_text().split()]
    except (OSError, IndexError, ValueError):
        return None
    ended = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime
    return ended + process_cpu_s(postmaster) + sum(process_cpu_s(pid) for pid in living)


def redis_cpu_s() -> float:
    import redis

    info = redis.Redis.from_url(REDIS_URL).info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def cpu_totals(pids: dict[str, int]) -> dict[str, float | None]:
    return {**{name: process_cpu_s(pid) for name, pid in pids.items()}, "postgres": postgres_cpu_s(),
            "redis": redis_cpu_s(), "client": time.process_time()}


def add_spent(spent: dict, before: dict, after: dict) -> None:
    """Adds the CPU seconds used between two cpu_totals() to `spent` (None for a side that could not be read)."""
    for name in before:
        used = None if before[name] is None or after[name] is None else after[name] - before[name]
        spent[name] = None if used is None or spent.get(name, 0.0) is None else spent.get(name, 0.0) + used


def cpu_ms_per_request(spent: dict, requests: int) -> dict[str, float | None]:
    per_request = {name: None if used is None else round(used / requests * 1000, 3) for name, used in spent.items()}
    per_request["total"] = round(sum(value for value in per_request.values() if value is not None), 3)
    return per_request


def points(n: int, seed: int) -> list[tuple[float, float]]:
    west, south, east, north = _data.VIEWPORT
    rng = random.Random(seed)
    return [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(n)]


def p99(samples: list[float]) -> float:
    return round(statistics.quantiles(sorted(samples), n=100, method="inclusive")[98] * 1000, 2)


def concurrently(work, per_client: int, *, warmup: int = 0, finish=None, at_start=None,
                 at_end=None) -> tuple[float, list[float]]:
    """Runs work(client_index, i) per_client times in each of CLIENTS threads; (wall seconds, latencies).
    Each thread first runs `warmup` untimed calls (a thread's own database connection is opened there), and calls
    finish() once its timed calls are over, outside the timing. at_start() is called once every thread is warm and
    before any timed call, at_end() once they are all done (to read CPU counters around the timed calls alone)."""
    latencies: list[float] = []
    lock, warm = threading.Lock(), threading.Barrier(CLIENTS + 1)
    start, done = threading.Barrier(CLIENTS + 1), threading.Barrier(CLIENTS + 1)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        mine = []
        try:
            for i in range(warmup):
                work(index, i)
        except BaseException as exc:  # reported below
            errors.append(exc)
        warm.wait()
        start.wait()
        try:
            for i in range(per_client if not errors else 0):
                started = time.perf_counter()
                work(index, i)
                mine.append(time.perf_counter() - started)
        except BaseException as exc:  # reported below
            errors.append(exc)
        done.wait()
        with lock:
            latencies.extend(mine)
        if finish is not None:
            finish()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    warm.wait()
    if at_start is not None:
        at_start()
    start.wait()
    started = time.perf_counter()
    done.wait()
    wall = time.perf_counter() - started
    if at_end is not None:
        at_end()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return wall, latencies


def metered(work, per_client: int, spent: dict, pids: dict, *, settle=None, **options) -> tuple[float, list[float]]:
    """concurrently(), adding to `spent` the CPU that its timed calls used (cpu_totals of `pids`), and after them
    settle(), untimed but counted (the ledger's sealer chaining the last entries)."""
    counters = []

    def at_end() -> None:
        if settle is not None:
            settle()
        counters.append(cpu_totals(pids))

    result = concurrently(work, per_client, at_start=lambda: counters.append(cpu_totals(pids)), at_end=at_end,
                          **options)
    add_spent(spent, *counters)
    return result


def sealer_caught_up(timeout: float = 30) -> None:
    """Until the sealer has chained every entry written (so that its work does not fall in the next bare round)."""
    from audit.models import PendingEntry

    deadline = time.monotonic() + timeout
    while PendingEntry.objects.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the ledger's sealer left entries unchained for {timeout:.0f} s")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_client = 24 if args.quick else 150
    per_round = per_client // ROUNDS
    guard = single_run_guard("api_nearby")
    _data.setup_django(REDIS_DB)
    _services.redis_claim(REDIS_URL, "api_nearby")  # an interrupted run's keys go at the next run's claim
    _data.ensure_cameras(CAMERAS)

    from django.contrib.gis.geos import Point
    from django.db import connection

    from api import services
    from api.models import ApiToken
    from registry import selectors

    ApiToken.objects.filter(name="bench api_nearby").delete()
    _, key = services.token_create(name="bench api_nearby", scopes=["registry:read"])
    work_points = [points(per_client, seed=client) for client in range(CLIENTS)]
    pressure = pressure_totals()
    run_started = time.perf_counter()

    results_found = []
    processes: dict[str, int] = {}
    with running_server(processes=processes) as port:
        conns = [KeepAlive("127.0.0.1", port) for _ in range(CLIENTS)]
        headers = {"Authorization": f"Bearer {key}"}
        # Each client's requests made before the timing, as a load generator's are.
        requests = [[conns[client].request_bytes(
            f"/api/v1/cameras/nearby/?lat={lat:.6f}&lng={lng:.6f}&radius={RADIUS}", headers)
            for lat, lng in work_points[client]] for client in range(CLIENTS)]

        def get(client: int, i: int) -> None:
            status, _, body = conns[client].get(requests[client][i % per_client])
            if status != 200:
                raise RuntimeError(f"nearby answered {status}: {body[:300]!r}")
            if i == 0:
                results_found.append(len(json.loads(body)["features"]))

        def bare(client: int, i: int) -> None:
            lat, lng = work_points[client][i % per_client]
            selectors.cameras_near(point=Point(lng, lat, srid=4326), radius_m=RADIUS, limit=501)

        _data.log("api_nearby: warming up ...")
        concurrently(get, 5)
        # The two sides take turns, a block of each per round, so a change in the machine's load in the course of the
        # run falls on both alike.
        http_wall = bare_wall = 0.0
        http_times, bare_times = [], []
        http_spent, bare_spent = {}, {}
        for round_index in range(ROUNDS):
            _data.log(f"api_nearby: round {round_index + 1} of {ROUNDS}: {CLIENTS} clients x {per_round} requests "
                      f"over HTTP, then {CLIENTS} threads x {per_round} bare selector calls ...")
            offset = round_index * per_round
            wall, times = metered(lambda client, i, offset=offset: get(client, offset + i), per_round, http_spent,
                                  processes, settle=sealer_caught_up)
            http_wall, http_times = http_wall + wall, http_times + times
            # The best bare figure: each thread's connection is opened and warm before the timing starts (as the
            # server's pooled ones are), and given back after it.
            wall, times = metered(lambda client, i, offset=offset: bare(client, offset + i), per_round, bare_spent,
                                  {}, warmup=5, finish=lambda: connection.close())
            bare_wall, bare_times = bare_wall + wall, bare_times + times
        for conn in conns:
            conn.close()
    total = CLIENTS * per_round * ROUNDS
    http_cpu, bare_cpu = cpu_ms_per_request(http_spent, total), cpu_ms_per_request(bare_spent, total)
    seconds = time.perf_counter() - run_started

    http_rps, bare_rps = round(total / http_wall, 1), round(total / bare_wall, 1)
    summary = {
        "benchmark": "api_nearby", "quick": args.quick, "commit": code_commit(), "cameras": CAMERAS,
        "clients": CLIENTS, "requests": total, "radius_m": RADIUS, "ledger_sealer_process": True,
        "cameras_per_search_median": statistics.median(results_found) if results_found else None,
        "http": {"rps": http_rps, "p99_ms": p99(http_times), **_data.percentiles(http_times)},
        "bare": {"rps": bare_rps, "p99_ms": p99(bare_times), **_data.percentiles(bare_times)},
        "ratio_rps": _data.ratio(bare_rps, http_rps), "ratio_p99": _data.ratio(p99(http_times), p99(bare_times)),
        "cpu_ms_per_request": {"http": http_cpu, "bare": bare_cpu},
        "ratio_cpu": _data.ratio(http_cpu["total"], bare_cpu["total"]),
        "pressure": pressure_share(pressure, seconds), "machine": _data.machine(),
    }
    _data.log(f"api_nearby: http {http_rps} req/s p99 {summary['http']['p99_ms']} ms | bare {bare_rps} calls/s "
              f"p99 {summary['bare']['p99_ms']} ms | throughput ratio {summary['ratio_rps']}x | CPU per request "
              f"{http_cpu['total']} against {bare_cpu['total']} ms: {summary['ratio_cpu']}x")
    _services.redis_release(REDIS_URL, "api_nearby")
    guard.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
