"""Live relay: camera connectors' JPEG frames through connect's real server and Redis to analysts' live views,
against a bare relay written with the `websockets` library alone, on the same frames in the same run.

    .venv/bin/python bench/live_relay.py          # 30 s per scenario and relay (about 3 minutes)
    .venv/bin/python bench/live_relay.py --quick  # 8 s per scenario and relay (under a minute)

Scenarios (each run on connect, then on the bare relay, one server at a time so each has the machine alone):
  a_fleet       20 cameras x 10 frames/s x 2 viewers each. Targets: p99 connector-to-viewer latency <= 100 ms,
                no drops.
  b_saturation  1 camera -> 10 viewers; the connector sends as fast as the server reads (websockets' send
                waits while the socket's write buffer is full, so it follows the server's backpressure).
                Target: delivered frames/s >= 0.5 x the bare relay's.

connect: `python -m uvicorn connect.asgi:application` (one worker, as the Procfile; `--workers 2` to try two),
CONNECT_MODE=demo, on this script's own database `connect_bench_live` (dropped, created and migrated every
run) and Redis database 11, claimed empty and emptied of its own keys at the end (PUB/SUB channels are not
per database, but the camera codes in them are new UUIDs each run). Each connector authenticates with a token
from connector_token_issue; each viewer is a browser socket with a signed-in Crime analyst's session cookie
and an allowed Origin, on a live session of its own opened through live_session_open (the share asks for no
incident; the analyst has current training).
Cameras have no privacy masks (`--masks` adds one to every camera: each frame is then decoded, painted and
re-encoded on the server). For b_saturation the server runs with CONNECT_LIVE_MAX_FPS at settings' maximum,
so that the throttle is not what limits it.

bare: this same file run as `--serve-bare PORT` (a subprocess, on uvloop like uvicorn): connectors on /c/<camera>,
viewers on /v/<camera>; each frame goes to every viewer of its camera through a per-viewer inbox of
CONNECT_LIVE_VIEWER_QUEUE frames that drops its oldest, as connect's relay does, and nothing else: no
authentication, no JPEG check, no Redis, no permessage-deflate, no frame-rate cap (so at saturation its
connector outruns its viewers and most frames are dropped in the inboxes). connect is started with the
options of the Procfile's `web` line (`--server-args` adds more). Connectors keep to the frames a second that
connect's `hello` announces, as a real connector should (more would be refused, and then cut off as flooding).

Frames: 640x480 JPEGs of a smooth random picture, the quality chosen to make them about 60 KB, 8 different
pictures. Each sent frame carries a JPEG comment segment (FF FE) right after SOI holding the camera number,
a sequence number and the send time (time.perf_counter, same process as the viewers), so each viewer measures
latency from the connector's send() to its own receipt. Frames without masks pass through connect unchanged.

The clients (all connectors and viewers) run in this process on one uvloop event loop. Viewers offer
permessage-deflate as browsers do; connectors do not (`--deflate` / `--no-deflate` change both). The
first WARMUP_S seconds of sending are not counted; a frame counts if it was sent in the measured window.
Drops are, per viewer, frames its camera's connector sent in the window minus frames it received of them.
Server memory is the peak VmRSS of the server's process tree (uvicorn and its workers), read every 0.2 s.

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import asyncio
import io
import json
import os
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402
from _sessions import signed_in  # noqa: E402

NAME = "live_relay"
DB_NAME = "connect_bench_live"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = f"{_data.REDIS}/11"  # this script's own Redis database (bench/_services.py)
ROOT = _data.ROOT
log = _data.log

FRAME_BYTES = 60 * 1024
FRAME_SIZE = (640, 480)
PICTURES = 8
WARMUP_S = 1.5
DRAIN_S = 1.5
VIEWER_QUEUE = 3  # connect's default CONNECT_LIVE_VIEWER_QUEUE; the bare relay uses the same
COMMENT = struct.Struct(">HId")  # camera number, sequence number, perf_counter at send
HEADER_LEN = 2 + 2 + 2 + COMMENT.size  # SOI, COM marker, segment length, payload
SCENARIOS = {
    "a_fleet": {"cameras": 20, "fps": 10, "viewers": 2},
    "b_saturation": {"cameras": 1, "fps": None, "viewers": 10},  # None: as fast as the server reads
}


# --- frames ---------------------------------------------------------------------------------------------

def make_pictures(n: int = PICTURES, target: int = FRAME_BYTES) -> list[bytes]:
    """n JPEGs of FRAME_SIZE, each at the quality that brings it closest to `target` bytes."""
    from PIL import Image

    rng = random.Random(4)
    pictures = []
    for _ in range(n):
        seed = rng.randrange(1 << 30)
        random.seed(seed)
        channels = [Image.effect_noise((FRAME_SIZE[0] // 4, FRAME_SIZE[1] // 4), 60) for _ in range(3)]
        image = Image.merge("RGB", channels).resize(FRAME_SIZE, Image.BILINEAR)
        best = None
        for quality in range(30, 96, 2):
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=quality)
            size = len(out.getvalue())
            if best is None or abs(size - target) < abs(len(best) - target):
                best = out.getvalue()
        pictures.append(best)
    return pictures


def stamp(picture: bytes, camera: int, seq: int) -> bytes:
    """The picture with a comment segment after SOI carrying (camera, seq, send time)."""
    return b"".join((b"\xff\xd8\xff\xfe", struct.pack(">H", 2 + COMMENT.size),
                     COMMENT.pack(camera, seq, time.perf_counter()), picture[2:]))


# --- the bare relay (a subprocess: `--serve-bare PORT`) ---------------------------------------------------

def serve_bare(port: int, queue: int) -> None:
    import uvloop
    from websockets.asyncio.server import serve

    viewers: dict[str, set] = {}

    class Inbox:
        def __init__(self):
            self.frames: deque[bytes] = deque(maxlen=queue)
            self.ready = asyncio.Event()

        def put(self, frame: bytes) -> None:
            self.frames.append(frame)
            self.ready.set()

        async def get(self) -> bytes:
            while not self.frames:
                self.ready.clear()
                await self.ready.wait()
            return self.frames.popleft()

    async def handler(ws):
        kind, _, camera = ws.request.path.strip("/").partition("/")
        if kind == "c":
            await ws.send(json.dumps({"type": "start"}))
            async for frame in ws:
                if isinstance(frame, bytes):
                    for inbox in tuple(viewers.get(camera, ())):
                        inbox.put(frame)
        elif kind == "v":
            inbox = Inbox()
            viewers.setdefault(camera, set()).add(inbox)
            await ws.send(json.dumps({"type": "session"}))
            pump = asyncio.create_task(_pump(ws, inbox))
            try:
                await ws.wait_closed()
            finally:
                pump.cancel()
                viewers[camera].discard(inbox)

    async def _pump(ws, inbox):
        while True:
            await ws.send(await inbox.get())

    async def main():
        async with serve(handler, "127.0.0.1", port, max_size=None, compression=None) as server:
            await server.serve_forever()

    uvloop.run(main())


# --- connect's data --------------------------------------------------------------------------------------

def setup_django() -> None:
    log(f"creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, NAME)  # only a database a benchmark made is dropped
    os.environ.update(server_env())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def server_env(max_fps: int | None = None) -> dict[str, str]:
    env = {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
           "DJANGO_SETTINGS_MODULE": "connect.settings"}
    if max_fps:
        env["CONNECT_LIVE_MAX_FPS"] = str(max_fps)
    return env


def make_world(cameras: int, masks: bool) -> dict:
    """An owner with `cameras` shared cameras (tokens issued), and a trained analyst signed in."""
    from datetime import date

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from common.roles import CRIME_ANALYST
    from integration import services
    from integration.models import default_hours
    from registry.models import Camera, Owner

    owner = Owner.objects.create(kind=Owner.Kind.BUSINESS, name="Bench Live Owner", email="live@bench.invalid",
                                 terms_version="bench", terms_accepted_at=timezone.now(), confirmed_at=timezone.now())
    limits = {"hours": default_hours(), "incident_required": False, "incident_radius_m": 300,
              "max_session_minutes": 30, "notify_each_view": False}
    world = {"cameras": [], "tokens": []}
    for i in range(cameras):
        camera = Camera.objects.create(owner=owner, label=f"Live bench {i}", location=Point(-78.6382, 35.7796),
                                       placement=Camera.Placement.OUTDOOR, direction_deg=90,
                                       status=Camera.Status.ACTIVE, faces_public=True, verified=True)
        services.live_share_sign(camera=camera, signed_name="Bench Owner", ip=None, limits=limits)
        if masks:
            services.privacy_masks_set(camera=camera, masks=[[[0.0, 0.0], [0.3, 0.0], [0.3, 0.3], [0.0, 0.3]]])
        world["cameras"].append(camera)
        world["tokens"].append(services.connector_token_issue(camera=camera, by="bench"))
    user = get_user_model().objects.create(username="bench-live-analyst", is_staff=True)
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=CRIME_ANALYST)])
    services.training_record_add(user=user, course="Live camera privacy", completed_on=date.today(),
                                 hours=settings.TRAINING_MIN_HOURS, by=None)
    world["user"] = user
    world["cookie"] = "=".join(signed_in(user))
    return world


def sessions_open(world: dict, cameras: int, viewers: int) -> list[list[str]]:
    """One live session per viewer (a view opens on one socket only): codes per camera."""
    from integration import services

    return [[str(services.live_session_open(user=world["user"], camera=camera, incident=None,
                                            reason="Benchmark of the live relay").code) for _ in range(viewers)]
            for camera in world["cameras"][:cameras]]


# --- servers -----------------------------------------------------------------------------------------------

def procfile_options() -> list[str]:
    """The options the Procfile's `web` line gives uvicorn, less --host, --port and --workers (CONNECT_WEB_PROCESSES:
    each benchmark says how many web processes it runs)."""
    import shlex

    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    words = shlex.split(line.partition(":")[2])
    words = words[words.index("connect.asgi:application") + 1:]
    options, skip = [], False
    for word in words:
        if skip or word in ("--host", "--port", "--workers"):
            skip = not skip
            continue
        options.append(word)
    return options


def start_connect(port: int, max_fps: int | None, workers: int, extra: list[str], log_file) -> subprocess.Popen:
    env = {**os.environ, **server_env(max_fps)}
    command = [sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), *procfile_options(), *extra]
    if workers > 1:
        command += ["--workers", str(workers)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def start_bare(port: int, log_file) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)], cwd=ROOT, stdout=log_file,
                            stderr=subprocess.STDOUT)


def wait_listening(port: int, server: subprocess.Popen, timeout_s: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not listen in time")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                queue += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return pids


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def redis_cpu() -> float:
    import redis

    info = redis.Redis.from_url(REDIS_URL).info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


# --- the clients --------------------------------------------------------------------------------------------

class Viewer:
    def __init__(self, camera: int):
        self.camera = camera
        self.received = 0  # frames sent in the window, received
        self.latencies: list[float] = []
        self.closed: str | None = None


async def drive(*, connector_urls: list[str], connector_headers: list[dict], viewer_urls: list[list[str]],
                viewer_headers: dict, origin: str | None, fps: int | None, seconds: float, pictures: list[bytes],
                server_pid: int, deflate_viewers: bool, deflate_connectors: bool) -> dict:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    cameras = len(connector_urls)
    viewers = [[Viewer(c) for _ in urls] for c, urls in enumerate(viewer_urls)]
    sent_in_window = [0] * cameras
    sent_total = [0] * cameras
    window = [float("inf"), float("inf")]  # perf_counter bounds of the measured window
    stop_sending = asyncio.Event()
    problems: list[str] = []
    view_compression = "deflate" if deflate_viewers else None
    conn_compression = "deflate" if deflate_connectors else None

    async def view(url: str, viewer: Viewer, ready: asyncio.Event):
        # A browser's page and its socket share one origin (connect refuses any other): the viewer's own server's.
        page_origin = origin and "http://" + url.split("//", 1)[1].split("/", 1)[0]
        async with connect(url, origin=page_origin, additional_headers=viewer_headers, compression=view_compression,
                           max_size=None, proxy=None, open_timeout=30) as ws:
            try:
                async for message in ws:
                    if isinstance(message, str):
                        kind = json.loads(message).get("type")
                        if kind == "session":
                            ready.set()
                        elif kind == "ended":
                            viewer.closed = message
                        continue
                    now = time.perf_counter()
                    _camera, _seq, sent_at = COMMENT.unpack_from(message, 6)
                    if window[0] <= sent_at < window[1]:
                        viewer.received += 1
                        viewer.latencies.append(now - sent_at)
            except ConnectionClosed as exc:
                viewer.closed = viewer.closed or f"closed {exc}"
            finally:
                ready.set()

    async def send_frames(index: int, url: str, headers: dict, started: asyncio.Event):
        async with connect(url, additional_headers=headers, compression=conn_compression, max_size=None,
                           proxy=None, open_timeout=30) as ws:
            cap = None  # connect's hello says how many frames a second it takes; the connector keeps to it
            while True:  # hello, then start (or stop, then start once the views open)
                message = json.loads(await ws.recv())
                if message.get("type") == "hello":
                    cap = message.get("fps")
                if message.get("type") == "start":
                    break
                if message.get("type") == "error":
                    raise RuntimeError(f"connector {index}: {message}")
            started.set()
            await go.wait()
            picture_of = index % len(pictures)
            seq = 0
            next_at = time.perf_counter() + (random.random() / fps if fps else 0)
            drain = asyncio.create_task(_discard(ws))
            try:
                while not stop_sending.is_set():
                    if fps or cap:
                        delay = next_at - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        next_at = next_at + 1 / fps if fps else max(next_at, time.perf_counter()) + 1 / cap
                    frame = stamp(pictures[(picture_of + seq) % len(pictures)], index, seq)
                    sent_at = COMMENT.unpack_from(frame, 6)[2]
                    await ws.send(frame)
                    seq += 1
                    sent_total[index] += 1
                    if window[0] <= sent_at < window[1]:
                        sent_in_window[index] += 1
            finally:
                drain.cancel()

    async def _discard(ws):
        try:
            async for message in ws:
                if isinstance(message, str) and json.loads(message).get("type") in ("error", "throttle", "stop"):
                    problems.append(message)
        except ConnectionClosed as exc:
            problems.append(f"connector closed: {exc}")

    # Viewers first (their sessions make connect tell the connectors to start), then connectors.
    readies, tasks = [], []
    for c, urls in enumerate(viewer_urls):
        for url, viewer in zip(urls, viewers[c], strict=True):
            ready = asyncio.Event()
            readies.append(ready)
            tasks.append(asyncio.create_task(view(url, viewer, ready)))
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    closed = [v.closed for row in viewers for v in row if v.closed]
    if closed:
        raise RuntimeError(f"{len(closed)} viewers closed before frames: {closed[:3]}")
    go = asyncio.Event()
    starts = [asyncio.Event() for _ in connector_urls]
    senders = [asyncio.create_task(send_frames(i, url, headers, starts[i]))
               for i, (url, headers) in enumerate(zip(connector_urls, connector_headers, strict=True))]
    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in starts)), 60)

    pids = process_tree(server_pid)
    rss_start = rss_kib(pids)
    rss_peak = [rss_start]

    async def sample_rss():
        while True:
            rss_peak[0] = max(rss_peak[0], rss_kib(pids))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample_rss())
    go.set()
    began = time.perf_counter()
    window[:] = [began + WARMUP_S, began + WARMUP_S + seconds]
    await asyncio.sleep(WARMUP_S)
    cpu0, client0, redis0 = cpu_seconds(pids), resource.getrusage(resource.RUSAGE_SELF), redis_cpu()
    wall0 = time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1, client1, redis1 = cpu_seconds(pids), resource.getrusage(resource.RUSAGE_SELF), redis_cpu()
    wall = time.perf_counter() - wall0
    stop_sending.set()
    await asyncio.sleep(DRAIN_S)
    sampler.cancel()
    for task in senders:
        if task.done() and task.exception():
            problems.append(repr(task.exception()))
        task.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*senders, *tasks, return_exceptions=True)

    flat = [v for row in viewers for v in row]
    latencies = sorted(x for v in flat for x in v.latencies)
    drops = [sent_in_window[v.camera] - v.received for v in flat]
    delivered = sum(v.received for v in flat)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    client_cpu = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
    return {
        "seconds": round(seconds, 1),
        "sent_fps_per_camera": round(sum(sent_in_window) / cameras / seconds, 1),
        "delivered_fps_total": round(delivered / seconds, 1),
        "delivered_fps_per_viewer": round(delivered / len(flat) / seconds, 1),
        "delivered_mb_s": round(delivered * len(pictures[0]) / seconds / 1e6, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "latency_p99_ms": round(cuts[98] * 1000, 2) if latencies else None,
        "latency_max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "drops_total": sum(drops),
        "drops_max_per_viewer": max(drops),
        "drop_share": round(sum(drops) / max(1, sum(sent_in_window[v.camera] for v in flat)), 4),
        "frames_sent_in_window": sum(sent_in_window),
        "server_rss_mib_start": round(rss_start / 1024, 1),
        "server_rss_mib_peak": round(rss_peak[0] / 1024, 1),
        "server_cpu_share": round((cpu1 - cpu0) / wall, 2),  # 1.0 = one core busy all the time
        "server_cpu_ms_per_delivered_frame": round((cpu1 - cpu0) * 1000 / max(1, delivered), 3),
        "redis_cpu_share": round((redis1 - redis0) / wall, 2),
        "client_cpu_share": round(client_cpu / wall, 2),
        "problems": problems[:5],
        "viewers_closed": [v.closed for v in flat if v.closed][:3],
    }


def run_drive(**kwargs) -> dict:
    import uvloop

    return uvloop.run(drive(**kwargs))


# --- one scenario on one relay ------------------------------------------------------------------------------

def scenario_connect(name: str, spec: dict, world: dict, pictures: list[bytes], seconds: float, args, tmp: Path):
    from django.conf import settings

    cameras, viewers, fps = spec["cameras"], spec["viewers"], spec["fps"]
    # Saturation: the throttle at its highest allowed value, so the server, not the cap, is the limit.
    max_fps = None if fps else settings_max_fps()
    codes = sessions_open(world, cameras, viewers)
    port = free_port()
    with open(tmp / f"connect-{name}.log", "w") as log_file:
        server = start_connect(port, max_fps, args.workers, args.server_args.split(), log_file)
        try:
            wait_listening(port, server)
            result = run_drive(
                connector_urls=[f"ws://127.0.0.1:{port}/ws/connector/{camera.code}/"
                                for camera in world["cameras"][:cameras]],
                connector_headers=[{"Authorization": f"Bearer {token}"} for token in world["tokens"][:cameras]],
                viewer_urls=[[f"ws://127.0.0.1:{port}/ws/live/{code}/" for code in row] for row in codes],
                viewer_headers={"Cookie": world["cookie"]}, origin=f"http://127.0.0.1:{port}", fps=fps,
                seconds=seconds, pictures=pictures, server_pid=server.pid, deflate_viewers=args.deflate,
                deflate_connectors=args.deflate_connectors)
        finally:
            stop(server)
    result["max_fps_setting"] = max_fps or settings.LIVE_MAX_FPS
    lines = (tmp / f"connect-{name}.log").read_text().splitlines()
    errors = [line for line in lines if line.startswith(("ERROR", "WARNING")) or "Error:" in line]
    result["server_log_errors"] = errors[:8]
    if errors:
        first = next(i for i, line in enumerate(lines) if line in errors)
        log("  connect's server log, from its first error:\n    " + "\n    ".join(lines[first:first + 40]))
    return result


def settings_max_fps() -> int:
    """The highest CONNECT_LIVE_MAX_FPS that settings accept (read from its env_int call)."""
    import re

    text = (ROOT / "connect" / "settings.py").read_text()
    found = re.search(r'"CONNECT_LIVE_MAX_FPS",\s*\d+,.*?maximum=(\d+)', text)
    return int(found.group(1)) if found else 60


def scenario_bare(name: str, spec: dict, pictures: list[bytes], seconds: float, args, tmp: Path) -> dict:
    cameras, viewers, fps = spec["cameras"], spec["viewers"], spec["fps"]
    port = free_port()
    with open(tmp / f"bare-{name}.log", "w") as log_file:
        server = start_bare(port, log_file)
        try:
            wait_listening(port, server)
            return run_drive(
                connector_urls=[f"ws://127.0.0.1:{port}/c/{c}" for c in range(cameras)],
                connector_headers=[{} for _ in range(cameras)],
                viewer_urls=[[f"ws://127.0.0.1:{port}/v/{c}" for _ in range(viewers)] for c in range(cameras)],
                viewer_headers={}, origin=None, fps=fps, seconds=seconds, pictures=pictures, server_pid=server.pid,
                deflate_viewers=args.deflate, deflate_connectors=args.deflate_connectors)
        finally:
            stop(server)


def ratios(connect: dict, bare: dict) -> dict:
    return {key: _data.ratio(connect[key], bare[key]) for key in
            ("delivered_fps_total", "latency_p50_ms", "latency_p99_ms", "server_rss_mib_peak",
             "server_cpu_ms_per_delivered_frame") if connect.get(key) is not None and bare.get(key)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 s per scenario instead of 30")
    parser.add_argument("--seconds", type=float, help="measured seconds per scenario and relay")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for connect")
    parser.add_argument("--masks", action="store_true", help="one privacy mask on every camera")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="viewers do not offer permessage-deflate (browsers do)")
    parser.add_argument("--deflate-connectors", action="store_true", help="connectors offer permessage-deflate")
    parser.add_argument("--server-args", default="", help="more uvicorn options for connect's server")
    parser.add_argument("--logs", help="keep the servers' logs in this folder")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, VIEWER_QUEUE)
        return
    seconds = args.seconds or (8 if args.quick else 30)
    names = [n for n in args.scenarios.split(",") if n]

    guard = single_run_guard(NAME)  # noqa: F841  (held for the whole run)
    _services.redis_claim(REDIS_URL, NAME)  # an interrupted run's keys go at the next run's claim
    setup_django()
    pictures = make_pictures()
    sizes = [len(p) for p in pictures]
    log(f"frames: {len(pictures)} pictures of {min(sizes) // 1024}-{max(sizes) // 1024} KB")
    world = make_world(max(SCENARIOS[n]["cameras"] for n in names), args.masks)
    pressure0, started = pressure_totals(), time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="live-relay-") as tmp:
        tmp = args.logs or tmp
        for name in names:
            spec = SCENARIOS[name]
            log(f"{name}: connect ({spec}) for {seconds} s ...")
            connect = scenario_connect(name, spec, world, pictures, seconds, args, Path(tmp))
            log(f"  connect: {json.dumps(connect)}")
            log(f"{name}: bare ...")
            bare = scenario_bare(name, spec, pictures, seconds, args, Path(tmp))
            log(f"  bare: {json.dumps(bare)}")
            results[name] = {"spec": spec, "connect": connect, "bare": bare, "ratio_connect_to_bare": ratios(connect,
                                                                                                            bare)}
    a, b = results.get("a_fleet"), results.get("b_saturation")
    targets = {}
    if a:
        c = a["connect"]
        targets["a_p99_le_100ms"] = c["latency_p99_ms"] is not None and c["latency_p99_ms"] <= 100
        targets["a_no_drops"] = c["drops_total"] == 0 and not c["viewers_closed"]
    if b:
        targets["b_throughput_ge_half_bare"] = b["ratio_connect_to_bare"].get("delivered_fps_total", 0) >= 0.5
    machine = _data.machine()
    _services.redis_release(REDIS_URL, NAME)
    print(json.dumps({
        "benchmark": NAME, "commit": code_commit(), "quick": args.quick, "seconds": seconds, "workers": args.workers,
        "masks": args.masks, "viewers_offer_deflate": args.deflate, "connectors_offer_deflate": args.deflate_connectors,
        "frame_bytes": {"min": min(sizes), "max": max(sizes), "size": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}"},
        "viewer_queue": VIEWER_QUEUE, "results": results, "targets_met": targets, "machine": machine,
        "pressure": pressure_share(pressure0, time.perf_counter() - started),
    }))


if __name__ == "__main__":
    main()
