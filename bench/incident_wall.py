"""Incident wall: one analyst watching a grid of N cameras (CONNECT_WALL_CAMERAS, 9) at 10 frames/s each over one
socket (ws/wall/), against a single live view (ws/live/<session>/, one camera, one socket) and against the same N
cameras watched as N single views (N sockets), all on connect's real server and Redis in the same run.

    .venv/bin/python bench/incident_wall.py          # 20 s per scenario (about 2 minutes)
    .venv/bin/python bench/incident_wall.py --quick  # 6 s per scenario (under a minute)

Scenarios, one server at a time (a fresh uvicorn with the Procfile's `web` options for each):
  single    1 camera  -> 1 live view socket (the baseline: what the wall's tiles must not cost much more than)
  wall      9 cameras -> 1 wall socket with 9 tiles, opened through integration.wall.wall_open (the real gate)
  singles   9 cameras -> 9 live view sockets of the same analyst (what a wall replaces)
Targets: the wall's p99 connector-to-analyst latency under 150 ms, and the server's CPU per delivered frame within
1.5x the single view's.

Data: this script's own database `connect_bench_wall` (dropped, created and migrated every run) and Redis database
23, claimed empty and emptied of its own keys at the end. The world, the frames (640x480 JPEGs of about 60 KB, each
stamped with camera, sequence and send time in a JPEG comment) and the server control come from bench/live_relay.py.
Latency runs from the connector's send() to the analyst's receipt (same process, perf_counter); CPU is user+system of
the server's process tree over the measured window. Progress on stderr; the last line of stdout is one JSON object.
"""

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
import live_relay  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

NAME = "incident_wall"
DB_NAME = "connect_bench_wall"  # this script's own; never `connect`
REDIS_URL = f"{_data.REDIS}/23"  # this script's own Redis database (bench/_services.py)
# live_relay's world and server helpers read these module settings: point them at this script's database and Redis.
live_relay.NAME, live_relay.DB_NAME = NAME, DB_NAME
live_relay.DATABASE_URL, live_relay.REDIS_URL = f"{_data.PG}/{DB_NAME}", REDIS_URL
log = _data.log
FPS = 10
WARMUP_S = 2.0
TILES = 9
COMMENT = live_relay.COMMENT


def sockets_for(scenario: str, world: dict) -> tuple[list, list[tuple[str, list[str]]]]:
    """(cameras streaming, [(socket path, sessions to watch on it)]) for a scenario, sessions opened now."""
    from django.contrib.gis.geos import Point

    from integration import services, wall

    user, cameras = world["user"], world["cameras"]
    reason = "Benchmark of the incident wall"
    if scenario == "wall":
        tiles = wall.wall_open(user=user, point=Point(-78.6382, 35.7796, srid=4326), incident=None, reason=reason)
        codes = [str(t.session.code) for t in tiles if t.session]
        assert len(codes) == TILES, [t.refused for t in tiles]
        streaming = [c for c in cameras if str(c.code) in {t.camera.code for t in tiles}]
        return streaming, [("/ws/wall/", codes)]
    streaming = cameras[:1] if scenario == "single" else cameras[:TILES]
    opened = [services.live_session_open(user=user, camera=c, incident=None, reason=reason) for c in streaming]
    return streaming, [(f"/ws/live/{session.code}/", []) for session in opened]


async def drive(port: int, streaming: list, tokens: dict, views: list, cookie: str, seconds: float,
                pictures: list[bytes], server_pid: int) -> dict:
    from websockets.asyncio.client import connect

    index_of = {str(c.code): i for i, c in enumerate(streaming)}
    window = [float("inf"), float("inf")]
    sent_in_window = [0] * len(streaming)
    latencies: list[float] = []
    received = [0]
    problems: list[str] = []
    stop_sending = asyncio.Event()
    go = asyncio.Event()
    base = f"ws://127.0.0.1:{port}"

    def count(jpeg: bytes) -> None:
        now = time.perf_counter()
        sent_at = COMMENT.unpack_from(jpeg, 6)[2]
        if window[0] <= sent_at < window[1]:
            received[0] += 1
            latencies.append(now - sent_at)

    async def view(path: str, sessions: list[str], ready: asyncio.Event):
        async with connect(base + path, origin=f"http://127.0.0.1:{port}", additional_headers={"Cookie": cookie},
                           compression="deflate", max_size=None, proxy=None, open_timeout=30) as ws:
            for code in sessions:
                await ws.send(json.dumps({"type": "watch", "session": code}))
            opened = 0
            async for message in ws:
                if isinstance(message, str):
                    kind = json.loads(message).get("type")
                    opened += kind in ("tile", "session")
                    if kind in ("ended", "tile_ended"):
                        problems.append(message)
                    if opened >= max(1, len(sessions)):
                        ready.set()
                    continue
                count(message[1:] if sessions else message)  # a wall's frame: the tile's slot byte first

    async def send_frames(camera, started: asyncio.Event):
        index = index_of[str(camera.code)]
        async with connect(f"{base}/ws/connector/{camera.code}/", compression=None, max_size=None, proxy=None,
                           additional_headers={"Authorization": f"Bearer {tokens[str(camera.code)]}"}) as ws:
            while json.loads(await ws.recv()).get("type") != "start":
                pass
            started.set()
            await go.wait()
            seq, next_at = 0, time.perf_counter() + random.random() / FPS
            drain = asyncio.create_task(_discard(ws))
            try:
                while not stop_sending.is_set():
                    await asyncio.sleep(max(0, next_at - time.perf_counter()))
                    next_at += 1 / FPS
                    frame = live_relay.stamp(pictures[(index + seq) % len(pictures)], index, seq)
                    await ws.send(frame)
                    seq += 1
                    if window[0] <= COMMENT.unpack_from(frame, 6)[2] < window[1]:
                        sent_in_window[index] += 1
            finally:
                drain.cancel()

    async def _discard(ws):
        async for message in ws:
            if isinstance(message, str) and json.loads(message).get("type") in ("error", "throttle", "stop"):
                problems.append(message)

    readies = [asyncio.Event() for _ in views]
    tasks = [asyncio.create_task(view(path, sessions, ready))
             for (path, sessions), ready in zip(views, readies, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    starts = [asyncio.Event() for _ in streaming]
    senders = [asyncio.create_task(send_frames(c, s)) for c, s in zip(streaming, starts, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in starts)), 30)
    pids = live_relay.process_tree(server_pid)
    go.set()
    began = time.perf_counter()
    window[:] = [began + WARMUP_S, began + WARMUP_S + seconds]
    await asyncio.sleep(WARMUP_S)
    cpu0 = live_relay.cpu_seconds(pids)
    await asyncio.sleep(seconds)
    cpu1 = live_relay.cpu_seconds(pids)
    stop_sending.set()
    await asyncio.sleep(1.0)
    for task in (*senders, *tasks):
        task.cancel()
    await asyncio.gather(*senders, *tasks, return_exceptions=True)
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    sent = sum(sent_in_window)
    return {
        "cameras": len(streaming), "sockets": len(views),
        "sent_fps_per_camera": round(sent / len(streaming) / seconds, 1),
        "delivered_fps": round(received[0] / seconds, 1),
        "delivered_share": round(received[0] / max(1, sent), 4),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "latency_p99_ms": round(cuts[98] * 1000, 2) if latencies else None,
        "latency_max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "server_cpu_share": round((cpu1 - cpu0) / seconds, 3),
        "server_cpu_ms_per_delivered_frame": round((cpu1 - cpu0) * 1000 / max(1, received[0]), 3),
        "problems": problems[:5],
    }


def scenario(name: str, world: dict, pictures: list[bytes], seconds: float, tmp: Path) -> dict:
    import uvloop

    streaming, views = sockets_for(name, world)
    tokens = {str(c.code): t for c, t in zip(world["cameras"], world["tokens"], strict=True)}
    port = free_port()
    with open(tmp / f"{name}.log", "w") as log_file:
        server = live_relay.start_connect(port, None, 1, [], log_file)
        try:
            live_relay.wait_listening(port, server)
            result = uvloop.run(drive(port, streaming, tokens, views, world["cookie"], seconds, pictures, server.pid))
        finally:
            live_relay.stop(server)
    errors = [line for line in (tmp / f"{name}.log").read_text().splitlines() if line.startswith(("ERROR", "WARNING"))]
    result["server_log_errors"] = errors[:5]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s per scenario instead of 20")
    parser.add_argument("--seconds", type=float, help="measured seconds per scenario")
    args = parser.parse_args()
    seconds = args.seconds or (6 if args.quick else 20)
    guard = single_run_guard(NAME)  # noqa: F841  (held for the whole run)
    _services.redis_claim(REDIS_URL, NAME)
    live_relay.setup_django()
    pictures = live_relay.make_pictures()
    world = live_relay.make_world(TILES, masks=False)
    pressure0, started = pressure_totals(), time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="incident-wall-") as tmp:
        for name in ("single", "wall", "singles"):
            log(f"{name} for {seconds} s ...")
            results[name] = scenario(name, world, pictures, seconds, Path(tmp))
            log(f"  {json.dumps(results[name])}")
    single, grid = results["single"], results["wall"]
    cpu_ratio = _data.ratio(grid["server_cpu_ms_per_delivered_frame"], single["server_cpu_ms_per_delivered_frame"])
    targets = {"wall_p99_under_150ms": grid["latency_p99_ms"] is not None and grid["latency_p99_ms"] < 150,
               "wall_cpu_per_frame_within_1_5x_single": cpu_ratio is not None and cpu_ratio <= 1.5}
    _services.redis_release(REDIS_URL, NAME)
    print(json.dumps({
        "benchmark": NAME, "commit": code_commit(), "quick": args.quick, "seconds": seconds, "fps": FPS,
        "tiles": TILES, "results": results,
        "ratio_wall_to_single": {"server_cpu_ms_per_delivered_frame": cpu_ratio,
                                 "latency_p99_ms": _data.ratio(grid["latency_p99_ms"], single["latency_p99_ms"])},
        "ratio_wall_to_singles": {"server_cpu_ms_per_delivered_frame": _data.ratio(
            grid["server_cpu_ms_per_delivered_frame"], results["singles"]["server_cpu_ms_per_delivered_frame"])},
        "targets_met": targets, "machine": _data.machine(),
        "pressure": pressure_share(pressure0, time.perf_counter() - started),
    }))


if __name__ == "__main__":
    main()
