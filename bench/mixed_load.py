"""Mixed load: 50 clients at once on connect's real web processes (one, then two on the same port), with an analyst
watching a live camera meanwhile; error rate, latency percentiles and throughput of each, side by side.

    .venv/bin/python bench/mixed_load.py          # 50 clients, 60 s per web setting (about 3 minutes)
    .venv/bin/python bench/mixed_load.py --quick  # 20 clients, 8 s per web setting (about a minute when idle)

The clients (closed loop: each sends its next request when the last one is answered, on one keep-alive
connection of its own), as issue 15 measured them:
  anonymous  40% of them: the registration page (GET /register/) and the transparency report (GET /transparency/)
             in turn
  staff      the rest less the owners: the staff map's data, as an analyst's browser asks for it: the GeoJSON of a
             viewport (GET /map/cameras.geojson?bbox=, about 2,000 cameras) and a radius search (GET
             /map/nearby.json?lat=&lng=&radius=300, recorded in the ledger), in turn, with a signed-in Crime
             analyst's session
  owners     5: each answers footage requests one after another, as the consent page's script does: the page
             (for its CSRF token), then a 320x240 clip streamed as the request's body (sealed, probed, stored);
             each upload is a new request's
  live       one analyst watching one camera whose connector sends at the frame rate connect's hello allows
             (bench/live_relay.py's connector and viewer, in a thread of this process with its own event loop):
             frames a second delivered to the viewer during the load, and their latency
Web settings: `one` = one uvicorn process, `two` = CONNECT_WEB_PROCESSES=2 (uvicorn --workers 2, one port), each with
the options of the Procfile's `web` line, and a ledger sealer (`manage.py seal_ledger --follow`) as `make run` has.
Rate limits are off on the server (CONNECT_RATE_LIMITS=false): every client here comes from 127.0.0.1.
Baseline in the same run: a bare ASGI app on uvicorn (one process, a fixed 2 KB page) under the same clients, which
is what this client harness and the machine can carry at most; ratios are to it.

An error is any answer other than the one a person would get (200 for every request here) or a broken connection.
Latency is from sending a request to reading its answer's last byte.

Data: this script's own database `connect_bench_mixed` (made afresh each run) with 20,000 cameras
(bench/_data.py's generator) and its own Redis database 3 (claimed empty, its keys removed at the end). Evidence
and shred keys go to a temporary folder, deleted at the end.

CPU: the share of the machine's cores busy during each measured run (from /proc/stat) and of the web processes
(1.0 = one core busy throughout). The machine may be shared: the pressure-stall figures say how much others got
in the way. Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
import live_relay  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

NAME = "mixed_load"
DB_NAME = "connect_bench_mixed"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = f"{_data.REDIS}/3"  # this script's own Redis database (bench/_services.py)
ROOT = _data.ROOT
CAMERAS = 20_000
OWNERS_UPLOADING = 5
STARTED = time.monotonic()


def log(*parts) -> None:
    _data.log(f"[{time.monotonic() - STARTED:5.1f} s]", *parts)


BARE_APP = '''
PAGE = b"<!doctype html><title>bare</title>" + b"x" * 2000


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(PAGE)).encode())]})
    await send({"type": "http.response.body", "body": PAGE})
'''


# --- data ---------------------------------------------------------------------------------------------------

def server_env(evidence: Path) -> dict[str, str]:
    return {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "connect.settings", "CONNECT_RATE_LIMITS": "false",
            "CONNECT_EVIDENCE_DIR": str(evidence / "evidence"), "CONNECT_KEY_STORE_DIR": str(evidence / "keys"),
            "CONNECT_SPOOL_DIR": str(evidence / "spool")}


def setup_django(evidence: Path) -> None:
    log(f"mixed: creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, NAME)  # only a database a benchmark made is dropped
    os.environ.update(server_env(evidence))
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    log("mixed: migrated")


def consent_paths(count: int) -> list[str]:
    """`count` sent footage requests, each on an incident of its own, spread over the uploading owners' cameras (one
    each): their consent pages' paths. Made in bulk (the rows bench/evidence_ingest.py's sent_request makes)."""
    import secrets
    from datetime import timedelta
    from urllib.parse import urlsplit

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from registry.models import Camera, Owner
    from requests_app import services
    from requests_app.models import FootageRequest, Incident

    now, run = timezone.now(), secrets.token_hex(3)
    cameras = []
    for i in range(OWNERS_UPLOADING):
        owner = Owner.objects.create(kind=Owner.Kind.RESIDENT, name=f"Mixed Owner {i}", terms_version="2026-1",
                                     email=f"mixed-{run}-{i}@bench.invalid", terms_accepted_at=now, confirmed_at=now)
        cameras.append(Camera.objects.create(
            owner=owner, label=f"Mixed porch {i}", location=Point(-78.6383, 35.7797, srid=4326), direction_deg=90,
            placement=Camera.Placement.OUTDOOR, faces_public=True, status=Camera.Status.ACTIVE, verified=True))
    incidents = Incident.objects.bulk_create([Incident(
        case_number=f"MX-{run}-{n:05d}", offense_type="Burglary", location=Point(-78.6382, 35.7796, srid=4326),
        address="200 Fayetteville St", starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=3),
        radius_m=300, owner_summary="A car was broken into on this block on Tuesday evening.",
        internal_notes="bench") for n in range(count)])
    requests = FootageRequest.objects.bulk_create([FootageRequest(
        incident=incident, camera=cameras[n % OWNERS_UPLOADING], camera_label=cameras[n % OWNERS_UPLOADING].label,
        nonce=secrets.token_urlsafe(24), state=FootageRequest.State.SENT, sent_at=now,
        expires_at=now + timedelta(days=10)) for n, incident in enumerate(incidents)])
    return [urlsplit(services.consent_link(request)).path for request in requests]


def clip() -> bytes:
    from tests.requests_app.media import tiny_mp4  # the tests' clip maker: a real MP4 PyAV probes

    return tiny_mp4(frames=48, size=(320, 240))


# --- a small HTTP/1.1 client on asyncio streams (keep-alive, Content-Length or chunked answers) ------------------

class Connection:
    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict | None = None,
                      body: bytes = b"") -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        answer_headers: dict[str, str] = {}
        cookies = []
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            answer_headers[name.strip().lower()] = value.strip()
            if name.strip().lower() == "set-cookie":
                cookies.append(value.strip())
        answer_headers["set-cookie-all"] = cookies
        if answer_headers.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                data += await self.reader.readexactly(size + 2)
                del data[-2:]
            while await self.reader.readuntil(b"\r\n") != b"\r\n":
                pass
        else:
            data = await self.reader.readexactly(int(answer_headers.get("content-length", "0")))
        if answer_headers.get("connection", "").lower() == "close":
            self.close()
        return status, answer_headers, bytes(data)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Recorder:
    def __init__(self):
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.examples: list[str] = []
        self.measuring = False

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        if not self.measuring:
            return
        self.samples.setdefault(kind, []).append(seconds)
        if error:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.examples) < 5:
                self.examples.append(f"{kind}: {error}")


async def timed(recorder: Recorder, kind: str, conn: Connection, method: str, path: str, **kwargs):
    started = time.perf_counter()
    try:
        status, headers, body = await conn.request(method, path, **kwargs)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        conn.close()
        recorder.add(kind, time.perf_counter() - started, repr(exc))
        return None
    recorder.add(kind, time.perf_counter() - started, None if status == 200 else f"{status} {body[:120]!r}")
    return status, headers, body


async def anonymous_client(port: int, recorder: Recorder, until: list[float], bare: bool):
    conn, turn = Connection(port), random.randrange(2)
    while time.perf_counter() < until[0]:
        path = "/register/" if turn % 2 == 0 else "/transparency/"
        await timed(recorder, "bare" if bare else path.strip("/"), conn, "GET", path)
        turn += 1
    conn.close()


async def staff_client(port: int, recorder: Recorder, until: list[float], cookie: str):
    conn, turn = Connection(port), random.randrange(2)
    box = _data.VIEWPORT  # a tenth of the city: 2,000 of its 20,000 cameras
    width, height = box[2] - box[0], box[3] - box[1]
    west, south, east, north = _data.RALEIGH
    while time.perf_counter() < until[0]:
        if turn % 2 == 0:  # a viewport of that size somewhere in the city
            x = west + random.random() * (east - west - width)
            y = south + random.random() * (north - south - height)
            path = f"/map/cameras.geojson?bbox={x:.5f},{y:.5f},{x + width:.5f},{y + height:.5f}"
            kind = "map_geojson"
        else:
            lat = box[1] + random.random() * (box[3] - box[1])
            lng = box[0] + random.random() * (box[2] - box[0])
            path, kind = f"/map/nearby.json?lat={lat:.5f}&lng={lng:.5f}&radius=300", "map_nearby"
        await timed(recorder, kind, conn, "GET", path, headers={"Cookie": cookie})
        turn += 1
    conn.close()


async def owner_client(port: int, recorder: Recorder, until: list[float], paths: list[str], video: bytes):
    import re
    from urllib.parse import quote

    conn = Connection(port)
    while paths and time.perf_counter() < until[0]:
        path = paths.pop()
        page = await timed(recorder, "consent_page", conn, "GET", path)
        if page is None or page[0] != 200:
            continue
        cookie = next((c.split(";", 1)[0] for c in page[1]["set-cookie-all"] if c.startswith("csrftoken=")), "")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page[2])
        headers = {"Content-Type": "application/octet-stream", "Cookie": cookie, "Origin": f"http://127.0.0.1:{port}",
                   "X-CSRFToken": token.group(1).decode() if token else "", "X-Keep-Days": "30",
                   "X-Upload-Names": quote("porch.mp4"), "X-Upload-Sizes": str(len(video))}
        await timed(recorder, "upload", conn, "POST", path + "upload/stream/", headers=headers, body=video)
    conn.close()


async def load(port: int, *, clients: int, seconds: float, warmup: float, tail: float, cookie: str,
               paths: list[str], video: bytes, bare: bool) -> Recorder:
    """`clients` clients for warmup + seconds + tail; only the `seconds` between are measured."""
    recorder = Recorder()
    until = [float("inf")]
    owners = 0 if bare else OWNERS_UPLOADING
    anonymous = clients if bare else round((clients - owners) * 0.45)
    staff = 0 if bare else clients - owners - anonymous
    per_owner = [paths[i::owners] for i in range(owners)]
    tasks = [asyncio.create_task(anonymous_client(port, recorder, until, bare)) for _ in range(anonymous)]
    tasks += [asyncio.create_task(staff_client(port, recorder, until, cookie)) for _ in range(staff)]
    tasks += [asyncio.create_task(owner_client(port, recorder, until, per_owner[i], video)) for i in range(owners)]
    await asyncio.sleep(warmup)
    recorder.measuring = True
    recorder.started = time.perf_counter()
    await asyncio.sleep(seconds)
    recorder.measuring = False
    recorder.wall = time.perf_counter() - recorder.started
    await asyncio.sleep(tail)
    until[0] = 0
    await asyncio.gather(*tasks, return_exceptions=True)
    recorder.mix = {"anonymous": anonymous, "staff": staff, "owners": owners}
    return recorder


def summary(recorder: Recorder) -> dict:
    every = [x for samples in recorder.samples.values() for x in samples]
    errors = sum(recorder.errors.values())
    result = {"requests": len(every), "errors": errors, "error_rate": round(errors / max(1, len(every)), 5),
              "throughput_rps": round(len(every) / recorder.wall, 1), **p99(every),
              "clients": recorder.mix,
              "by_kind": {kind: {"n": len(samples), "errors": recorder.errors.get(kind, 0),
                                 "rps": round(len(samples) / recorder.wall, 1), **p99(samples)}
                          for kind, samples in sorted(recorder.samples.items())}}
    if recorder.examples:
        result["error_examples"] = recorder.examples
    return result


def p99(samples: list[float]) -> dict:
    if len(samples) < 2:
        return {"p50_ms": None, "p99_ms": None}
    import statistics

    cuts = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return {"p50_ms": round(statistics.median(samples) * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1),
            "p99_ms": round(cuts[98] * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}


# --- servers ------------------------------------------------------------------------------------------------

def start_web(port: int, processes: int, env: dict, log_file) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), *live_relay.procfile_options(), "--no-access-log", "--workers", str(processes)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def start_sealer(env: dict, log_file) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "seal_ledger", "--follow"], cwd=ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT)


def start_bare(port: int, folder: Path, log_file) -> subprocess.Popen:
    (folder / "bench_bare_app.py").write_text(BARE_APP)
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "bench_bare_app:app", "--app-dir", str(folder),
                             "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--no-server-header"],
                            cwd=folder, stdout=log_file, stderr=subprocess.STDOUT)


def machine_busy() -> tuple[float, float]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def live_in_thread(world: dict, port: int, seconds: float, pictures: list[bytes], result: dict,
                   server_pid: int) -> threading.Thread:
    """One analyst's live view of one camera (bench/live_relay.py's drive), measured over `seconds`."""
    [[code]] = live_relay.sessions_open(world, 1, 1)

    def run():
        try:
            result.update(live_relay.run_drive(
                connector_urls=[f"ws://127.0.0.1:{port}/ws/connector/{world['cameras'][0].code}/"],
                connector_headers=[{"Authorization": f"Bearer {world['tokens'][0]}"}],
                viewer_urls=[[f"ws://127.0.0.1:{port}/ws/live/{code}/"]], viewer_headers={"Cookie": world["cookie"]},
                origin=f"http://127.0.0.1:{port}", fps=None, seconds=seconds, pictures=pictures,
                server_pid=server_pid, deflate_viewers=True, deflate_connectors=False))
        except Exception as exc:  # reported in the JSON, not lost in a thread
            result["error"] = repr(exc)

    thread = threading.Thread(target=run, name="live", daemon=True)
    thread.start()
    return thread


def run_setting(name: str, processes: int, args, env: dict, folder: Path, *, cookie: str, paths: list[str],
                video: bytes, world: dict | None, pictures: list[bytes]) -> dict:
    """One web setting (or the bare app, `world` None) under the clients: warm-up, measured seconds, and for connect
    a tail so that the live view's window (which opens a few seconds in) is under load throughout."""
    seconds = args.bare_seconds if world is None else args.seconds
    import uvloop

    port = free_port()
    with open(folder / f"{name}.log", "wb") as log_file:
        bare = world is None
        servers = [start_bare(port, folder, log_file)] if bare else [start_web(port, processes, env, log_file),
                                                                     start_sealer(env, log_file)]
        try:
            live_relay.wait_listening(port, servers[0])
            live, thread = {}, None
            if not bare:
                # The live window opens after the view and connector connect and warm up (a few seconds): the
                # load starts first and runs that much longer, so the whole window is under load.
                thread = live_in_thread(world, port, seconds, pictures, live, servers[0].pid)
            meter = {}

            async def measured_load():
                async def meter_window():  # CPU over the measured seconds only
                    await asyncio.sleep(args.warmup)
                    pids = live_relay.process_tree(servers[0].pid)  # uvicorn's workers are up by now
                    meter["start"] = (machine_busy(), live_relay.cpu_seconds(pids), pressure_totals(),
                                      time.perf_counter())
                    await asyncio.sleep(seconds)
                    meter["end"] = (machine_busy(), live_relay.cpu_seconds(pids), time.perf_counter())

                metering = asyncio.create_task(meter_window())
                recorder = await load(port, clients=args.clients, seconds=seconds, warmup=args.warmup,
                                      tail=0 if bare else args.tail, cookie=cookie, paths=paths, video=video,
                                      bare=bare)
                await metering
                return recorder

            recorder = uvloop.run(measured_load())
            (busy0, cpu0, pressure0, wall0), (busy1, cpu1, wall1) = meter["start"], meter["end"]
            wall = wall1 - wall0
            if thread is not None:
                thread.join(timeout=60)
        finally:
            for server in servers:
                live_relay.stop(server)
    result = summary(recorder)
    result["web_processes"] = processes if not bare else 1
    result["web_cpu_share"] = round((cpu1 - cpu0) / wall, 2)
    result["machine_busy_share"] = round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 2)
    result["pressure"] = pressure_share(pressure0, wall)
    if not bare:
        result["live"] = {key: live.get(key) for key in ("error", "sent_fps_per_camera", "delivered_fps_per_viewer",
                                                         "latency_p50_ms", "latency_p99_ms", "drops_total",
                                                         "viewers_closed", "problems") if key in live}
    text = (folder / f"{name}.log").read_text(errors="replace").splitlines()
    result["server_log_errors"] = [line for line in text if " ERROR " in line or line.startswith("Traceback")][:5]
    log(f"{name}: {result['throughput_rps']} req/s, p99 {result['p99_ms']} ms, errors {result['errors']} of "
        f"{result['requests']}, web CPU {result['web_cpu_share']}, machine busy {result['machine_busy_share']}"
        + (f", live {result['live'].get('delivered_fps_per_viewer')} frames/s" if not bare else ""))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 clients, 8 s per web setting")
    parser.add_argument("--clients", type=int, help="clients at once (50; 20 with --quick)")
    parser.add_argument("--seconds", type=float, help="measured seconds per web setting (60; 8 with --quick)")
    args = parser.parse_args()
    args.clients = args.clients or (20 if args.quick else 50)
    args.seconds = args.seconds or (8.0 if args.quick else 60.0)
    args.warmup, args.tail = (1.5, 2.5) if args.quick else (5.0, 4.0)
    args.bare_seconds = 3.0 if args.quick else 15.0
    guard = single_run_guard(NAME)
    folder = Path(tempfile.mkdtemp(prefix="connect-bench-mixed-"))
    try:
        setup_django(folder)
        _data.ensure_cameras(CAMERAS)
        import map_geojson

        cookie_name, session_key = map_geojson.analyst_session_cookie()
        cookie = f"{cookie_name}={session_key}"
        world = live_relay.make_world(1, masks=False)
        pictures = live_relay.make_pictures()
        video = clip()
        # More than the owners can answer: about one upload a second each was seen with one web process.
        per_setting = int(OWNERS_UPLOADING * (args.warmup + args.seconds + args.tail + 5) * 1.5)
        log(f"mixed: {2 * per_setting} footage requests to answer ...")
        paths = consent_paths(2 * per_setting)
        log("mixed: data ready")
        env = {**os.environ, **server_env(folder)}
        results = {}
        with _services.redis_database(REDIS_URL, NAME):
            results["bare"] = run_setting("bare", 1, args, env, folder, cookie=cookie, paths=[], video=video,
                                          world=None, pictures=pictures)
            for name, processes in (("one", 1), ("two", 2)):
                results[name] = run_setting(name, processes, args, env, folder, cookie=cookie,
                                            paths=paths[processes - 1::2],
                                            video=video, world=world, pictures=pictures)
        machine = _data.machine()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        guard.close()
    one, two, bare = results["one"], results["two"], results["bare"]
    out = {
        "benchmark": NAME, "quick": args.quick, "commit": code_commit(), "clients": args.clients,
        "seconds": args.seconds, "bare_seconds": args.bare_seconds, "cameras": CAMERAS,
        "bare": bare, "one": one, "two": two,
        "ratios": {"two_to_one_throughput": _data.ratio(two["throughput_rps"], one["throughput_rps"]),
                   "two_to_one_p99": _data.ratio(two["p99_ms"], one["p99_ms"]),
                   "one_to_bare_throughput": _data.ratio(one["throughput_rps"], bare["throughput_rps"]),
                   "two_to_bare_throughput": _data.ratio(two["throughput_rps"], bare["throughput_rps"])},
        "targets": {"error_rate_zero": one["errors"] == 0 and two["errors"] == 0},
        "machine": machine,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
