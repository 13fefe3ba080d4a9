"""Scaling out: the live relay and the API's nearby search served by one web process, then by two behind the same
PostgreSQL and Redis, as two machines would run them; the ratio of their throughputs, and how busy each process was.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/scale_out.py          # 20 s of live relay, 150 requests a client
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/scale_out.py --quick  # 3 s of live relay, 20 requests a client

live  (bench/live_relay.py's clients and servers, on this script's own database `connect_bench_scale`, made afresh
      each run): 8 cameras, each connector sending as fast as connect takes frames (CONNECT_LIVE_MAX_FPS at its
      highest), 2 viewers a camera. With two web processes the connectors alternate between them and each camera's
      viewers are on the other one, so every frame crosses from one process to the other through Redis, as when a
      connector reaches machine A and the analyst machine B. Throughput: frames delivered to viewers a second.
      Baseline in the same run: bench/live_relay.py's bare relay (websockets alone, one process).
api   (bench/api_nearby.py's requests, on connect_bench's 100,000 cameras): 8 clients on keep-alive connections,
      GET /api/v1/cameras/nearby/ with a token; with two web processes four clients use each. One ledger sealer
      either way. Throughput: requests a second. Baseline in the same run: the bare selector in 8 threads.

CPU: for every process (each web process, the sealer, Redis, the clients in this script) its CPU seconds over the
measured run divided by the wall time (1.0 = one core busy throughout), and the whole machine's share of busy
cores from /proc/stat. Two processes can only beat one where there are idle cores for the second to use: read the
ratio together with `machine_busy_share`.

Each part runs in a subprocess of this script (Django is set up once per process, on one database). Progress goes
to stderr; the last line of stdout is one JSON object.
"""

import argparse
import contextlib
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

NAME = "scale_out"
LIVE_DB = "connect_bench_scale"  # this script's own; never `connect`
REDIS_URL = f"{_data.REDIS}/14"  # this script's own Redis database (bench/_services.py)
LIVE_CAMERAS, LIVE_VIEWERS = 8, 2
log = _data.log


# --- measuring ------------------------------------------------------------------------------------------------

def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def postgres_pid() -> int | None:
    """The PostgreSQL server's main process when it runs on this machine and its processes are readable here."""
    import psycopg

    with psycopg.connect(f"{_data.PG}/postgres") as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        status = Path(f"/proc/{backend}/status").read_text()
    except OSError:
        return None
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


class CpuMeter:
    """CPU seconds of named process trees, PostgreSQL, Redis and this process, and the machine's busy share, over a
    span."""

    def __init__(self, processes: dict[str, int]):
        import live_relay

        self.processes, self.live_relay = dict(processes), live_relay
        if (postgres := postgres_pid()) is not None:
            self.processes["postgresql"] = postgres

    def _sample(self) -> dict:
        own = resource.getrusage(resource.RUSAGE_SELF)
        sample = {name: self.live_relay.cpu_seconds(self.live_relay.process_tree(pid))
                  for name, pid in self.processes.items()}
        sample["redis"] = self.live_relay.redis_cpu()
        sample["clients (this script)"] = own.ru_utime + own.ru_stime
        return {"cpu": sample, "machine": machine_busy(), "at": time.perf_counter()}

    def __enter__(self):
        self.start = self._sample()
        return self

    def __exit__(self, *exc):
        self.end = self._sample()

    def shares(self) -> dict:
        wall = self.end["at"] - self.start["at"]
        busy = (self.end["machine"][0] - self.start["machine"][0]) / max(1, self.end["machine"][1]
                                                                          - self.start["machine"][1])
        return {"cpu_share": {name: round((self.end["cpu"][name] - self.start["cpu"][name]) / wall, 2)
                              for name in self.start["cpu"]},
                "machine_busy_share": round(busy, 2), "cores": os.cpu_count()}


# --- live ---------------------------------------------------------------------------------------------------

def live_part(seconds: float) -> dict:
    import live_relay

    # live_relay's helpers read these module constants: point them at this script's database and Redis.
    live_relay.NAME, live_relay.DB_NAME = NAME, LIVE_DB
    live_relay.DATABASE_URL, live_relay.REDIS_URL = f"{_data.PG}/{LIVE_DB}", REDIS_URL
    live_relay.setup_django()
    pictures = live_relay.make_pictures()
    world = live_relay.make_world(LIVE_CAMERAS, masks=False)
    max_fps = live_relay.settings_max_fps()
    spec = {"cameras": LIVE_CAMERAS, "fps": None, "viewers": LIVE_VIEWERS}
    results = {}
    with tempfile.TemporaryDirectory(prefix="scale-out-") as tmp:
        for servers in (1, 2):
            log(f"live: {LIVE_CAMERAS} cameras x {LIVE_VIEWERS} viewers at saturation, {servers} web process(es) ...")
            results[f"web_{servers}"] = live_run(servers, world, pictures, max_fps, seconds, Path(tmp))
            log(f"  {json.dumps(results[f'web_{servers}'])}")
        log("live: the bare relay ...")
        args = SimpleNamespace(deflate=True, deflate_connectors=False)
        bare = live_relay.scenario_bare("b_saturation", spec, pictures, seconds, args, Path(tmp))
    keep = ("delivered_fps_total", "latency_p50_ms", "latency_p99_ms", "drop_share", "server_cpu_share")
    results["bare_one_process"] = {key: bare[key] for key in keep}
    results["ratio_two_to_one"] = _data.ratio(results["web_2"]["delivered_fps_total"],
                                              results["web_1"]["delivered_fps_total"])
    results["ratio_one_to_bare"] = _data.ratio(results["web_1"]["delivered_fps_total"], bare["delivered_fps_total"])
    return results


def live_run(servers: int, world: dict, pictures: list[bytes], max_fps: int, seconds: float, tmp: Path) -> dict:
    import live_relay

    codes = live_relay.sessions_open(world, LIVE_CAMERAS, LIVE_VIEWERS)
    ports = [free_port() for _ in range(servers)]
    logs = [open(tmp / f"web-{servers}-{i}.log", "w") for i in range(servers)]  # noqa: SIM115 (closed below)
    started = [live_relay.start_connect(port, max_fps, 1, [], logs[i]) for i, port in enumerate(ports)]
    try:
        for port, server in zip(ports, started, strict=True):
            live_relay.wait_listening(port, server)
        url = [f"ws://127.0.0.1:{port}" for port in ports]
        meter = CpuMeter({f"web_{chr(97 + i)}": server.pid for i, server in enumerate(started)})
        with meter:
            result = live_relay.run_drive(
                connector_urls=[f"{url[c % servers]}/ws/connector/{camera.code}/"
                                for c, camera in enumerate(world["cameras"][:LIVE_CAMERAS])],
                connector_headers=[{"Authorization": f"Bearer {token}"} for token in world["tokens"][:LIVE_CAMERAS]],
                viewer_urls=[[f"{url[(c + 1) % servers]}/ws/live/{code}/" for code in row]
                             for c, row in enumerate(codes)],
                viewer_headers={"Cookie": world["cookie"]}, origin=f"http://127.0.0.1:{ports[0]}", fps=None,
                seconds=seconds,
                pictures=pictures, server_pid=started[0].pid, deflate_viewers=True, deflate_connectors=False)
    finally:
        for server in started:
            live_relay.stop(server)
        for file in logs:
            file.close()
    keep = ("delivered_fps_total", "delivered_mb_s", "latency_p50_ms", "latency_p99_ms", "drop_share",
            "problems", "viewers_closed")
    return {"web_processes": servers, **{key: result[key] for key in keep}, **meter.shares()}


# --- api ----------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def api_servers(count: int):
    """`count` web processes and one ledger sealer on connect_bench; yields their ports and pids."""
    import api_nearby
    from map_geojson import wait_until_serving

    env = {**os.environ, **_data.bench_env(14)}
    ports = [free_port() for _ in range(count)]
    with contextlib.ExitStack() as stack:
        webs = [stack.enter_context(api_nearby._process(
            [sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--no-server-header", "--no-access-log"], env)) for port in ports]
        sealer = stack.enter_context(api_nearby._process([sys.executable, "manage.py", "seal_ledger", "--follow"],
                                                         env))
        for port, web in zip(ports, webs, strict=True):
            wait_until_serving(port, "/api/v1/cameras/", web)
        api_nearby._wait_for_the_sealer(sealer)
        yield ports, {**{f"web_{chr(97 + i)}": web.pid for i, web in enumerate(webs)}, "sealer": sealer.pid}


def api_part(per_client: int) -> dict:
    import api_nearby

    _data.setup_django(14)
    _data.ensure_cameras(api_nearby.CAMERAS)
    from django.contrib.gis.geos import Point
    from django.db import connection

    from api import services
    from api.models import ApiToken
    from registry import selectors

    ApiToken.objects.filter(name="bench scale_out").delete()
    _, key = services.token_create(name="bench scale_out", scopes=["registry:read"])
    clients = api_nearby.CLIENTS
    work_points = [api_nearby.points(per_client, seed=client) for client in range(clients)]
    results = {}
    for count in (1, 2):
        with api_servers(count) as (ports, pids):
            conns = [http.client.HTTPConnection("127.0.0.1", ports[c % count], timeout=60) for c in range(clients)]

            def get(client: int, i: int, conns=conns) -> None:
                lat, lng = work_points[client][i % per_client]
                conns[client].request("GET", f"/api/v1/cameras/nearby/?lat={lat:.6f}&lng={lng:.6f}"
                                      f"&radius={api_nearby.RADIUS}", headers={"Authorization": f"Bearer {key}"})
                response = conns[client].getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"nearby answered {response.status}: {body[:300]!r}")

            api_nearby.concurrently(get, 5)  # warm-up: connections, pools, caches
            log(f"api: {clients} clients x {per_client} requests, {count} web process(es) ...")
            meter = CpuMeter(pids)
            with meter:
                wall, times = api_nearby.concurrently(get, per_client)
        results[f"web_{count}"] = {"web_processes": count, "rps": round(clients * per_client / wall, 1),
                                   "p99_ms": api_nearby.p99(times), **_data.percentiles(times), **meter.shares()}
        log(f"  {json.dumps(results[f'web_{count}'])}")

    def bare(client: int, i: int) -> None:
        lat, lng = work_points[client][i % per_client]
        selectors.cameras_near(point=Point(lng, lat, srid=4326), radius_m=api_nearby.RADIUS, limit=501)

    log("api: the bare selector ...")
    wall, times = api_nearby.concurrently(bare, per_client, warmup=5, finish=lambda: connection.close())
    results["bare_selector"] = {"rps": round(clients * per_client / wall, 1), **_data.percentiles(times)}
    results["ratio_two_to_one"] = _data.ratio(results["web_2"]["rps"], results["web_1"]["rps"])
    results["ratio_one_to_bare"] = _data.ratio(results["web_1"]["rps"], results["bare_selector"]["rps"])
    results["machine"] = _data.machine()
    return results


# --- the run --------------------------------------------------------------------------------------------------------

def run_part(part: str, quick: bool) -> dict:
    """One part in a subprocess of its own; its last stdout line is its JSON."""
    command = [sys.executable, __file__, "--part", part] + (["--quick"] if quick else [])
    done = subprocess.run(command, cwd=_data.ROOT, stdout=subprocess.PIPE, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"the {part} part failed (exit {done.returncode})")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s of live relay and 20 requests a client")
    parser.add_argument("--part", choices=("live", "api"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        result = live_part(3 if args.quick else 20) if args.part == "live" else api_part(20 if args.quick else 150)
        print(json.dumps(result))
        return

    guard = single_run_guard(NAME)  # noqa: F841  (held for the whole run)
    _services.redis_claim(REDIS_URL, NAME)
    pressure, started = pressure_totals(), time.perf_counter()
    try:
        live = run_part("live", args.quick)
        _services.redis_empty_own(REDIS_URL, NAME)
        api = run_part("api", args.quick)
    finally:
        _services.redis_release(REDIS_URL, NAME)
    summary = {
        "benchmark": NAME, "quick": args.quick, "commit": code_commit(),
        "ratio_two_to_one": {"live_frames": live["ratio_two_to_one"], "api_requests": api["ratio_two_to_one"]},
        "target_ratio": 1.6, "live": live, "api": api, "machine": api.pop("machine"),
        "pressure": pressure_share(pressure, time.perf_counter() - started),
    }
    log(f"scale_out: two web processes against one: live frames x{live['ratio_two_to_one']}, "
        f"api requests x{api['ratio_two_to_one']} (machine busy {live['web_2']['machine_busy_share']} / "
        f"{api['web_2']['machine_busy_share']} of {os.cpu_count()} cores)")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
